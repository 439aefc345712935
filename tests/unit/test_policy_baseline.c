/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the benchmark baselines, pray and proxmox. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "tests/unit/lib/sample.h"

#define MB 1000000ULL

static struct policy_sample
active(double t, uint64_t remaining, uint64_t transferred)
{
    struct policy_sample s =
        test_sample(t, MIGRATION_STATUS_ACTIVE, 4000 * MB, remaining,
                    transferred, 1 + (uint64_t)t / 10);

    s.ram_dirty_pages_rate = 100000;
    s.downtime_limit_ms = 0;
    return s;
}

/* pray: the bandwidth from config before migrate, then nothing, ever. */
static void
test_pray_never_acts(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double t;

    (void)unused;
    policy_config_init(&cfg);
    cfg.kind = POLICY_PRAY;
    cfg.postcopy_permitted = true;
    cfg.auto_converge_permitted = true;
    cfg.completion_timeout_s = 1;
    cfg.progress_timeout_s = 1;
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), 0);
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_BANDWIDTH);
    for (t = 0; t < 5000; t += 0.5) {
        /* hopeless, then stuck: nothing moves after 100 s */
        s = active(t, (uint64_t)(300 + (int)t % 7) * MB,
                   (uint64_t)(t < 100 ? t : 100) * 100 * MB);
        s.pass_event = ((int)(t * 2) % 20) == 0;
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(out.n_actions, 0);
    }
    assert_false(st.cancelled);
}

/*
 * proxmox: 100 ms first; on polls where RAM transferred moved, the
 * counter rises when remaining grew (from non-zero) or is 0; the 6th
 * rise doubles the downtime and resets the counter.
 */
static void
test_proxmox_counter(void **unused)
{
    /* remaining, transferred, expected downtime after the poll */
    static const struct {
        uint64_t rem, xfer, downtime;
    } rows[] = {
        {500, 100, 0},  /* lastrem unset: no rise */
        {600, 200, 0},  /* grew: 1 */
        {550, 300, 0},  /* fell */
        {560, 400, 0},  /* 2 */
        {900, 400, 0},  /* transferred did not move: not looked at */
        {570, 500, 0},  /* 3 (against 560: the unmoved poll is skipped) */
        {0, 600, 0},    /* 0: 4 */
        {10, 700, 0},   /* grew from 0, lastrem 0: no rise */
        {20, 800, 0},   /* 5 */
        {30, 900, 200}, /* 6 > 5: double, reset */
        {40, 1000, 0},  /* 1 */
    };
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    (void)unused;
    policy_config_init(&cfg);
    cfg.kind = POLICY_PROXMOX;
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[1].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[1].value, 100);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        s = active((double)i, rows[i].rem * MB, rows[i].xfer * MB);
        policy_step(&cfg, &st, &s, &out);
        if (rows[i].downtime == 0) {
            assert_int_equal(out.n_actions, 0);
        } else {
            assert_int_equal(out.n_actions, 1);
            assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
            assert_int_equal(out.actions[0].value, rows[i].downtime);
            assert_string_equal(out.actions[0].reason,
                                "remaining grew on 6 polls (now 30 MB): "
                                "downtime 100 ms doubled to 200 ms");
        }
    }
}

/* Doubling up to 2,000,000 ms, then nothing more; never a timeout. */
static void
test_proxmox_cap(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    uint64_t want = 100, xfer = 0;
    size_t doublings = 0;
    int i;

    (void)unused;
    policy_config_init(&cfg);
    cfg.kind = POLICY_PROXMOX;
    policy_state_init(&st, &cfg);
    policy_initial_actions(&cfg, &st, &out);
    for (i = 0; i < 2000; i++) {
        xfer += 10 * MB;
        /* remaining grows every poll */
        s = active(i * 1.0, (uint64_t)(100 + i) * MB, xfer);
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(out.n_actions > 0 ? out.actions[0].kind
                                           : POLICY_ACTION_SET_DOWNTIME,
                         POLICY_ACTION_SET_DOWNTIME);
        if (out.n_actions > 0) {
            want = want * 2 > 2000000 ? 2000000 : want * 2;
            assert_int_equal(out.actions[0].value, want);
            doublings++;
        }
    }
    /* 100 * 2^14 = 1,638,400; then the cap */
    assert_int_equal(doublings, 15);
    assert_int_equal(st.downtime_ms, 2000000);
    assert_false(st.cancelled);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pray_never_acts),
        cmocka_unit_test(test_proxmox_counter),
        cmocka_unit_test(test_proxmox_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
