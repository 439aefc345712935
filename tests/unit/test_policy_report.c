/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the progress report every sample carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "tests/unit/lib/sample.h"

#define GIB (1ULL << 30)
#define MB 1000000ULL

static struct policy_sample
sample(double t, enum migration_status status, uint64_t remaining,
       uint64_t transferred, uint64_t sync)
{
    struct policy_sample s =
        test_sample(t, status, 1000 * MB, remaining, transferred, sync);

    s.ram_page_size = 0;
    return s;
}

static void
start(struct policy_config *cfg, struct policy_state *st, enum policy_kind kind)
{
    policy_config_init(cfg);
    cfg->kind = kind;
    policy_state_init(st, cfg);
}

/* Memory and disk apart; the sample's numbers copied through. */
static void
test_memory_and_disk_apart(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    start(&cfg, &st, POLICY_PRAY);
    s = sample(0, MIGRATION_STATUS_ACTIVE, 750 * MB, 250 * MB, 1);
    s.disk_total = 4000 * MB;
    s.disk_remaining = 1000 * MB;
    s.disk_transferred = 3000 * MB;
    s.expected_downtime_ms = 420;
    s.throttle_percent = 30;
    s.ram_dirty_pages_rate = 1000;
    s.ram_page_size = 0; /* QEMU omitted it: 4096 */
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.memory_percent == 25.0);
    assert_true(out.report.disk_percent == 75.0);
    /* combined: 1750 of 5000 MB left */
    assert_true(out.report.percent == 65.0);
    assert_int_equal(out.report.memory_total, 1000 * MB);
    assert_int_equal(out.report.memory_remaining, 750 * MB);
    assert_int_equal(out.report.memory_transferred, 250 * MB);
    assert_int_equal(out.report.disk_total, 4000 * MB);
    assert_int_equal(out.report.disk_remaining, 1000 * MB);
    assert_int_equal(out.report.disk_transferred, 3000 * MB);
    assert_int_equal(out.report.downtime_limit_ms, 300);
    assert_int_equal(out.report.expected_downtime_ms, 420);
    assert_int_equal(out.report.throttle_percent, 30);
    assert_int_equal(out.report.dirty_rate, 4096000);
    assert_int_equal(out.report.iteration, 1);
    assert_int_equal(out.report.status, MIGRATION_STATUS_ACTIVE);

    /* No disk copied: the disk is done. */
    start(&cfg, &st, POLICY_PRAY);
    s = sample(0, MIGRATION_STATUS_ACTIVE, 750 * MB, 250 * MB, 1);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.disk_percent == 100.0);
    assert_true(out.report.percent == 25.0);
}

/*
 * The saw-tooth: remaining jumps up at every pass; the combined percent
 * never goes back, and stays below 100 until QEMU says completed.
 */
static void
test_percent_monotonic(void **unused)
{
    static const struct {
        uint64_t remaining_mb;
        uint64_t sync;
        double percent;
    } rows[] = {
        {1000, 1, 0}, {600, 1, 40}, {100, 1, 90}, {300, 2, 90},
        {50, 2, 95},  {200, 3, 95}, {0, 3, 99},   {120, 4, 99},
    };
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    (void)unused;
    start(&cfg, &st, POLICY_ADAPTIVE);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        s = sample((double)i, MIGRATION_STATUS_ACTIVE,
                   rows[i].remaining_mb * MB, (100 + i * 100) * MB,
                   rows[i].sync);
        policy_step(&cfg, &st, &s, &out);
        assert_true(out.report.percent == rows[i].percent);
    }
    s = sample(10, MIGRATION_STATUS_DEVICE, 0, 1000 * MB, 5);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.percent == 99.0);
    s = sample(11, MIGRATION_STATUS_COMPLETED, 0, 1000 * MB, 5);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.percent == 100.0);
    assert_true(out.report.memory_percent == 100.0);
    assert_true(out.report.eta_s == 0);
    assert_string_equal(out.report.eta_note, "");
}

/* Failed or cancelled: the percent stays where it was, no ETA. */
static void
test_final_failed(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    start(&cfg, &st, POLICY_NOVA);
    s = sample(0, MIGRATION_STATUS_ACTIVE, 400 * MB, 600 * MB, 1);
    policy_step(&cfg, &st, &s, &out);
    s = sample(1, MIGRATION_STATUS_FAILED, 0, 0, 0);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    assert_true(out.report.percent == 60.0);
    assert_true(out.report.eta_s < 0);
    assert_string_equal(out.report.eta_note, "migration failed");
    s.status = MIGRATION_STATUS_CANCELLED;
    policy_step(&cfg, &st, &s, &out);
    assert_string_equal(out.report.eta_note, "migration cancelled");
}

/* The ETA: unknown before it runs, when not converging, with reasons. */
static void
test_eta(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    start(&cfg, &st, POLICY_PRAY);
    s = sample(0, MIGRATION_STATUS_SETUP, 0, 0, 0);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s < 0);
    assert_string_equal(out.report.eta_note, "migration not running yet");
    s = sample(0.5, MIGRATION_STATUS_ACTIVE, 1000 * MB, 0, 1);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s < 0);
    assert_string_equal(out.report.eta_note, "no bandwidth measured yet");
    /* First pass: what is left at the measured 100 MB/s. */
    s = sample(1.5, MIGRATION_STATUS_ACTIVE, 900 * MB, 100 * MB, 1);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.report.bandwidth, 100 * MB);
    assert_true(out.report.eta_s == 9.0);
    assert_string_equal(out.report.eta_note, "");
    assert_true(out.report.elapsed_s == 1.5);
    /* Passes that do not shrink: unknown, and said why. */
    s = sample(11.5, MIGRATION_STATUS_ACTIVE, 200 * MB, 1100 * MB, 2);
    policy_step(&cfg, &st, &s, &out);
    s = sample(13.5, MIGRATION_STATUS_ACTIVE, 195 * MB, 1300 * MB, 3);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s < 0);
    assert_string_equal(out.report.eta_note,
                        "not converging: 195 MB left at pass 3, 200 MB at "
                        "pass 2");
    /* Passes that halve: the rest of this one plus the geometric tail. */
    s = sample(15.45, MIGRATION_STATUS_ACTIVE, 97.5 * MB, 1495 * MB, 4);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s > 0.97 && out.report.eta_s < 2.0);
    assert_string_equal(out.report.eta_note, "");
    /* Post-copy: nothing is dirtied any more. */
    s = sample(16, MIGRATION_STATUS_POSTCOPY_ACTIVE, 50 * MB, 1550 * MB, 4);
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s > 0.4 && out.report.eta_s < 0.6);
    s.status = MIGRATION_STATUS_POSTCOPY_PAUSED;
    policy_step(&cfg, &st, &s, &out);
    assert_true(out.report.eta_s < 0);
    assert_string_equal(out.report.eta_note, "post-copy interrupted");
}

/* Time since the last new low watermark. */
static void
test_since_low_watermark(void **unused)
{
    static const struct {
        double t;
        uint64_t remaining_mb, sync;
        double since;
    } rows[] = {
        {0, 1000, 1, 0}, /* start */
        {5, 500, 1, 0},  /* first pass: every fall is a new low */
        {10, 200, 2, 0}, /* first pass start to compare with */
        {12, 150, 2, 2}, /* inside a pass: not comparable */
        {14, 210, 3, 4}, /* pass 3 left more than pass 2 */
        {16, 190, 4, 0}, /* pass 4 left less: new low */
        {20, 195, 5, 4},
    };
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    (void)unused;
    start(&cfg, &st, POLICY_PRAY);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        s = sample(rows[i].t, MIGRATION_STATUS_ACTIVE,
                   rows[i].remaining_mb * MB, (uint64_t)rows[i].t * 100 * MB,
                   rows[i].sync);
        policy_step(&cfg, &st, &s, &out);
        assert_true(out.report.since_low_watermark_s == rows[i].since);
    }
}

/* Without dirty-sync-count, MIGRATION_PASS events count the passes. */
static void
test_iteration_from_events(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    start(&cfg, &st, POLICY_PRAY);
    s = sample(0, MIGRATION_STATUS_ACTIVE, 1000 * MB, 0, 0);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.report.iteration, 0);
    s = sample(1, MIGRATION_STATUS_ACTIVE, 500 * MB, 500 * MB, 0);
    s.pass_event = true;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.report.iteration, 1);
    s = sample(2, MIGRATION_STATUS_ACTIVE, 300 * MB, 800 * MB, 0);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.report.iteration, 1);
    s.pass_event = true;
    s.t = 3;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.report.iteration, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_and_disk_apart),
        cmocka_unit_test(test_percent_monotonic),
        cmocka_unit_test(test_final_failed),
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_since_low_watermark),
        cmocka_unit_test(test_iteration_from_events),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
