/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: --policy nova, Nova's formulas and monitor rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/internal.h"
#include "tests/unit/lib/sample.h"

#define GIB (1ULL << 30)
#define MB 1000000ULL

static void
nova_config(struct policy_config *cfg)
{
    policy_config_init(cfg);
    cfg->kind = POLICY_NOVA;
}

static struct policy_sample
active(double t, uint64_t ram_total, uint64_t remaining)
{
    /* Something moves every sample unless a test says otherwise. */
    return test_sample(t, MIGRATION_STATUS_ACTIVE, ram_total, remaining,
                       (uint64_t)(t * 100 * MB), 1);
}

static size_t
count_kind(const struct policy_output *out, enum policy_action_kind kind)
{
    size_t i, n = 0;

    for (i = 0; i < out->n_actions; i++) {
        n += out->actions[i].kind == kind;
    }
    return n;
}

/* Nova's own docstring: 10 steps, 30 s delay, 3 GiB, 400 ms. */
static void
test_docstring_example(void **unused)
{
    static const uint64_t want_ms[] = {40,  76,  112, 148, 184, 220,
                                       256, 292, 328, 364, 400};
    struct policy_config cfg;
    unsigned i;

    (void)unused;
    nova_config(&cfg);
    cfg.downtime_ms = 400;
    cfg.downtime_steps = 10;
    cfg.downtime_delay_s = 30;
    for (i = 0; i <= 10; i++) {
        int64_t t;
        uint64_t ms;

        policy_internal_nova_step_value(&cfg, 3.0, i, &t, &ms);
        assert_int_equal(t, 90 * (int64_t)i);
        assert_int_equal(ms, want_ms[i]);
    }
}

/* Defaults on a guest at the 2 GiB floor: 50, 95, ... 500 every 150 s. */
static void
test_default_steps(void **unused)
{
    struct policy_config cfg;
    unsigned i;

    (void)unused;
    nova_config(&cfg);
    for (i = 0; i <= 10; i++) {
        int64_t t;
        uint64_t ms;

        policy_internal_nova_step_value(&cfg, 2.0, i, &t, &ms);
        assert_int_equal(t, 150 * (int64_t)i);
        assert_int_equal(ms, 50 + 45 * i);
    }
}

/* Truncation as Python's int(): 500 ms in 3 steps, 2.5 GiB at 75 s/GiB. */
static void
test_truncation(void **unused)
{
    static const uint64_t want_ms[] = {166, 277, 388, 500};
    struct policy_config cfg;
    unsigned i;

    (void)unused;
    nova_config(&cfg);
    cfg.downtime_steps = 3;
    for (i = 0; i <= 3; i++) {
        int64_t t;
        uint64_t ms;

        policy_internal_nova_step_value(&cfg, 2.5, i, &t, &ms);
        assert_int_equal(t, 187 * (int64_t)i); /* int(75 * 2.5) */
        assert_int_equal(ms, want_ms[i]);
    }
}

/* _live_migration_data_gb: RAM and each disk at least 2 GiB. */
static void
test_data_gb_floors(void **unused)
{
    struct policy_config cfg;

    (void)unused;
    nova_config(&cfg);
    assert_true(policy_internal_nova_data_gb(&cfg, GIB / 2, 0) == 2.0);
    assert_true(policy_internal_nova_data_gb(&cfg, 3 * GIB, 0) == 3.0);
    assert_true(policy_internal_nova_data_gb(&cfg, 3 * GIB + GIB / 2, 0) ==
                3.5);
    cfg.n_disks = 3;
    cfg.disk_bytes[0] = GIB; /* floor: 2 */
    cfg.disk_bytes[1] = 10 * GIB;
    cfg.disk_bytes[2] = 0; /* a block device stats as 0: 2 */
    assert_true(policy_internal_nova_data_gb(&cfg, GIB, 0) == 2 + 2 + 10 + 2);
    /* No per-disk list: what QEMU copies is one disk. */
    cfg.n_disks = 0;
    assert_true(policy_internal_nova_data_gb(&cfg, GIB, GIB / 4) == 4.0);
    /* The other policies use the true sizes. */
    {
        struct policy_sample s = active(0, GIB, GIB);

        s.disk_total = GIB / 2;
        assert_true(policy_internal_data_gb(&cfg, &s) == 1.5);
    }
}

/*
 * The step applied is the last whose mark is strictly below the elapsed
 * time, and the same value is not sent twice.
 */
static void
test_steps_in_monitor(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), 0);
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_BANDWIDTH);

    s = active(10.0, GIB, GIB); /* the first sample: elapsed 0 */
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);

    s = active(10.5, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[0].value, 50);
    assert_string_equal(out.actions[0].reason,
                        "elapsed 0.5 s > step 0 at 0 s (data 2.0 GiB): "
                        "downtime 50 ms");

    s = active(11.0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0); /* 50 again: not sent */

    s = active(160.0, GIB, GIB); /* elapsed exactly 150: not above */
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);

    s = active(160.5, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].value, 95);
    assert_string_equal(out.actions[0].reason,
                        "elapsed 150.5 s > step 1 at 150 s (data 2.0 GiB): "
                        "downtime 95 ms");

    /* A late poll jumps to the latest step, not through the others. */
    s = active(1000.0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].value, 320);
    assert_int_equal(st.downtime_ms, 320);
}

/* Completion timeout: 800 s/GiB x 2 GiB = 1600 s, strictly exceeded. */
static void
test_completion_timeout_abort(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    policy_state_init(&st, &cfg);
    s = active(0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    s = active(1600.0, GIB, 100 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL), 0);
    s = active(1600.5, GIB, 100 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_string_equal(out.actions[0].reason,
                        "elapsed 1600.5 s > completion timeout 1600 s "
                        "(800 s/GiB x data 2.0 GiB): abort");
    assert_true(st.cancelled);
    s = active(1601.0, GIB, 100 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0); /* once */
}

/* 0 disables the completion timeout. */
static void
test_completion_timeout_off(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    cfg.completion_timeout_s = 0;
    policy_state_init(&st, &cfg);
    s = active(0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    s = active(100000.0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(count_kind(&out, POLICY_ACTION_SET_DOWNTIME), 1);
    assert_int_equal(out.actions[0].value, 500);
}

/* Force-complete without post-copy pauses, once (Nova would repeat). */
static void
test_force_complete_pause_once(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double t;
    size_t pauses = 0;

    (void)unused;
    nova_config(&cfg);
    cfg.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    policy_state_init(&st, &cfg);
    for (t = 0; t < 1700; t += 0.5) {
        s = active(t, GIB, 100 * MB);
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL), 0);
        assert_int_equal(count_kind(&out, POLICY_ACTION_START_POSTCOPY), 0);
        if (count_kind(&out, POLICY_ACTION_PAUSE) == 1) {
            pauses++;
            assert_true(t > 1600.0 && t <= 1600.5);
            assert_non_null(
                strstr(out.actions[0].reason, "force-complete by pausing"));
        }
    }
    assert_int_equal(pauses, 1);
    assert_true(st.paused); /* the job resumes the guest if it fails */
}

/* Force-complete with --postcopy starts post-copy; then nothing more. */
static void
test_force_complete_postcopy(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    cfg.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    cfg.postcopy_permitted = true;
    policy_state_init(&st, &cfg);
    s = active(0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    s = active(1601, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(count_kind(&out, POLICY_ACTION_START_POSTCOPY), 1);
    assert_true(st.postcopy_requested);
    assert_false(st.paused);
    s = active(1602, GIB, GIB);
    s.status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    /* Even a very long post-copy is never aborted. */
    s = active(90000, GIB, GIB);
    s.status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
}

/* Once post-copy runs the completion timeout never fires. */
static void
test_postcopy_guard(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    policy_state_init(&st, &cfg);
    s = active(0, GIB, GIB);
    policy_step(&cfg, &st, &s, &out);
    s = active(5000, GIB, GIB);
    s.status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s.status = MIGRATION_STATUS_POSTCOPY_PAUSED;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
}

/* The progress rule is off in nova mode unless given. */
static void
test_progress_off_by_default(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double t;

    (void)unused;
    nova_config(&cfg);
    policy_state_init(&st, &cfg);
    for (t = 0; t < 1000; t += 0.5) {
        s = active(t, 4 * GIB, 500 * MB); /* never a new low */
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL), 0);
    }
}

/* Watermark table: each row is a sample; cancel expected or not. */
struct wm_row {
    double t;
    uint64_t remaining; /* RAM + disk, MB */
    bool cancel;
};

static void
run_watermark(const struct wm_row *rows, size_t n)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    nova_config(&cfg);
    cfg.progress_timeout_s = 150;
    cfg.progress_timeout_given = true;
    policy_state_init(&st, &cfg);
    for (i = 0; i < n; i++) {
        s = active(rows[i].t, 4 * GIB, rows[i].remaining * MB / 2);
        s.disk_total = 4 * GIB;
        s.disk_remaining = rows[i].remaining * MB - s.ram_remaining;
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL),
                         rows[i].cancel ? 1 : 0);
    }
}

static void
test_progress_watermark(void **unused)
{
    /* A new low at 100 s resets the clock: the timeout is 150 s later. */
    static const struct wm_row reset[] = {
        {0, 1000, false},  {50, 900, false},   {100, 800, false},
        {200, 850, false}, {249, 799, false},  {300, 800, false},
        {399, 900, false}, {399.5, 900, true},
    };
    /* Equal is not below: the watermark stays at 10 s. */
    static const struct wm_row equal[] = {
        {0, 1000, false},  {10, 500, false},   {100, 500, false},
        {160, 500, false}, {160.5, 500, true},
    };
    /* A watermark of 0 (nothing counted yet) is always replaced. */
    static const struct wm_row zero[] = {
        {0, 0, false},     {100, 900, false},  {200, 950, false},
        {250, 950, false}, {250.5, 950, true},
    };

    (void)unused;
    run_watermark(reset, sizeof(reset) / sizeof(reset[0]));
    run_watermark(equal, sizeof(equal) / sizeof(equal[0]));
    run_watermark(zero, sizeof(zero) / sizeof(zero[0]));
}

/* The progress reason names the numbers. */
static void
test_progress_reason(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    cfg.progress_timeout_s = 150;
    cfg.progress_timeout_given = true;
    policy_state_init(&st, &cfg);
    s = active(0, 4 * GIB, 400 * MB);
    policy_step(&cfg, &st, &s, &out);
    s = active(151, 4 * GIB, 450 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_string_equal(out.actions[0].reason,
                        "remaining 450 MB, low watermark 400 MB set 151 s "
                        "ago > progress timeout 150 s: abort");
}

/* Old Nova checked the completion timeout first: 0 turned both off. */
static void
test_progress_needs_completion(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    nova_config(&cfg);
    cfg.completion_timeout_s = 0;
    cfg.progress_timeout_s = 150;
    cfg.progress_timeout_given = true;
    policy_state_init(&st, &cfg);
    s = active(0, 4 * GIB, 400 * MB);
    policy_step(&cfg, &st, &s, &out);
    s = active(500, 4 * GIB, 450 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(count_kind(&out, POLICY_ACTION_CANCEL), 0);
}

/* Setup and final statuses: no actions. */
static void
test_quiet_statuses(void **unused)
{
    static const enum migration_status quiet[] = {
        MIGRATION_STATUS_NONE,      MIGRATION_STATUS_SETUP,
        MIGRATION_STATUS_COMPLETED, MIGRATION_STATUS_FAILED,
        MIGRATION_STATUS_CANCELLED, MIGRATION_STATUS_CANCELLING,
        MIGRATION_STATUS_DEVICE,    MIGRATION_STATUS_PRE_SWITCHOVER,
    };
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    (void)unused;
    nova_config(&cfg);
    for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        policy_state_init(&st, &cfg);
        s = active(0, GIB, GIB);
        s.status = quiet[i];
        policy_step(&cfg, &st, &s, &out);
        s.t = 5000;
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(out.n_actions, 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docstring_example),
        cmocka_unit_test(test_default_steps),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_data_gb_floors),
        cmocka_unit_test(test_steps_in_monitor),
        cmocka_unit_test(test_completion_timeout_abort),
        cmocka_unit_test(test_completion_timeout_off),
        cmocka_unit_test(test_force_complete_pause_once),
        cmocka_unit_test(test_force_complete_postcopy),
        cmocka_unit_test(test_postcopy_guard),
        cmocka_unit_test(test_progress_off_by_default),
        cmocka_unit_test(test_progress_watermark),
        cmocka_unit_test(test_progress_reason),
        cmocka_unit_test(test_progress_needs_completion),
        cmocka_unit_test(test_quiet_statuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
