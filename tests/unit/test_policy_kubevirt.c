/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: --policy kubevirt, VEP 248's stall detector, VEP 291's ramp. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define MB 1000000ULL
#define GIB 1073741824ULL

struct run {
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
};

static void
start(struct run *r, uint64_t downtime_ms)
{
    char err[256];

    policy_config_init(&r->cfg);
    r->cfg.kind = POLICY_KUBEVIRT;
    r->cfg.downtime_ms = downtime_ms;
    assert_int_equal(policy_config_validate(&r->cfg, err, sizeof(err)), 0);
    policy_state_init(&r->st, &r->cfg);
    policy_initial_actions(&r->cfg, &r->st, &r->out);
}

/* A pre-copy sample: 4 GiB guest, 100 MB/s, pass number sync. */
static struct policy_sample
sample(double t, uint64_t sync, uint64_t remaining, bool pass)
{
    struct policy_sample s;

    memset(&s, 0, sizeof(s));
    s.t = t;
    s.status = MIGRATION_STATUS_ACTIVE;
    s.ram_total = 4 * GIB;
    s.ram_remaining = remaining;
    s.ram_transferred = (uint64_t)(t * 100 * MB);
    s.ram_page_size = 4096;
    s.ram_dirty_sync_count = sync;
    s.ram_mbps = 800; /* 100 MB/s */
    s.expected_downtime_ms = -1;
    s.pass_event = pass;
    return s;
}

static void
test_initial_downtime(void **unused)
{
    struct run r;

    (void)unused;
    start(&r, 500);
    assert_int_equal(r.out.n_actions, 2);
    assert_int_equal(r.out.actions[1].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(r.out.actions[1].value, 150);
    assert_non_null(strstr(r.out.actions[1].reason, "initialMs"));
    /* KubeVirt's 150 s per GB unless --completion-timeout was given */
    assert_true(r.cfg.completion_timeout_s == 150);
    /* maxDowntimeMs below 150: honoured from the start */
    start(&r, 100);
    assert_int_equal(r.out.actions[1].value, 100);
    policy_config_init(&r.cfg);
    r.cfg.kind = POLICY_KUBEVIRT;
    r.cfg.completion_timeout_s = 20;
    r.cfg.completion_timeout_given = true;
    assert_int_equal(policy_config_validate(&r.cfg, NULL, 0), 0);
    assert_true(r.cfg.completion_timeout_s == 20);
    assert_string_equal(policy_kind_name(POLICY_KUBEVIRT), "kubevirt");
}

/*
 * VEP 291: from iteration 3 a 10 s cooldown, then (max - initial) / 7
 * each 10 s up to maxDowntimeMs, never past it.
 */
static void
test_downtime_tuning_ramp(void **unused)
{
    struct run r;
    struct policy_sample s;
    uint64_t seen[16];
    size_t n = 0, i;
    double t;

    (void)unused;
    start(&r, 500);
    for (t = 0.5; t < 200; t += 0.5) {
        /* converging slowly: remaining falls, a pass every 5 s */
        uint64_t sync = 1 + (uint64_t)(t / 5);

        s = sample(t, sync, (uint64_t)(4000 - t * 10) * MB, fmod(t, 5) == 0);
        policy_step(&r.cfg, &r.st, &s, &r.out);
        for (i = 0; i < r.out.n_actions; i++) {
            assert_int_equal(r.out.actions[i].kind, POLICY_ACTION_SET_DOWNTIME);
            assert_true(n < 16);
            seen[n++] = r.out.actions[i].value;
            if (n == 1) {
                /* iteration 3 comes at 10 s, the first step 10 s later */
                assert_true(t >= 20 && t < 20.6);
            }
        }
    }
    assert_int_equal(n, 7);
    for (i = 0; i < n; i++) {
        assert_int_equal(seen[i], i + 1 < 7 ? 150 + 50 * (i + 1) : 500);
    }
}

/*
 * VEP 248: stalled when remaining at a pass is within 4 % of the least
 * from at least 40 s before; then at a local minimum the implied
 * downtime decides: soft stop-and-copy at maxDowntimeMs, or abort.
 */
static void
run_stall(struct run *r, uint64_t plateau_mb, double *t_action)
{
    struct policy_sample s;
    double t;

    *t_action = -1;
    for (t = 0.5; t < 400 && *t_action < 0; t += 0.5) {
        uint64_t sync = 1 + (uint64_t)(t / 2);
        bool pass = fmod(t, 2) == 0;
        /* plateau with a wobble of +/- 2 % */
        uint64_t rem =
            plateau_mb * MB + (uint64_t)(sync % 3) * plateau_mb * MB / 50;

        s = sample(t, sync, rem, pass);
        policy_step(&r->cfg, &r->st, &s, &r->out);
        if (r->out.n_actions > 0 && r->out.actions[r->out.n_actions - 1].kind !=
                                        POLICY_ACTION_SET_DOWNTIME) {
            *t_action = t;
        } else if (r->out.n_actions > 0 &&
                   r->out.actions[0].value == r->cfg.downtime_ms &&
                   strstr(r->out.actions[0].reason, "stalled") != NULL) {
            *t_action = t;
        }
    }
}

static void
test_stall_soft_switchover(void **unused)
{
    struct run r;
    double t;

    (void)unused;
    /* 60 MB at 100 MB/s: 600 ms <= 900 ms x 1.5 */
    start(&r, 900);
    run_stall(&r, 60, &t);
    assert_true(t >= 40 && t < 60);
    assert_int_equal(r.out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(r.out.actions[0].value, 900);
    assert_non_null(strstr(r.out.actions[0].reason, "implied downtime"));
    assert_true(r.st.kubevirt.switched);
    assert_false(r.st.cancelled);
}

static void
test_stall_hopeless_aborts(void **unused)
{
    struct run r;
    double t;

    (void)unused;
    /* 300 MB at 100 MB/s: 3 s > 900 ms x 1.5 */
    start(&r, 900);
    run_stall(&r, 300, &t);
    assert_true(t >= 40 && t < 60);
    assert_int_equal(r.out.actions[r.out.n_actions - 1].kind,
                     POLICY_ACTION_CANCEL);
    assert_non_null(strstr(r.out.actions[r.out.n_actions - 1].reason,
                           "> 900 ms x 1.5: abort"));
    assert_true(r.st.cancelled);
}

static void
test_stall_postcopy(void **unused)
{
    struct run r;
    char err[256];
    double t;

    (void)unused;
    policy_config_init(&r.cfg);
    r.cfg.kind = POLICY_KUBEVIRT;
    r.cfg.postcopy_permitted = true;
    assert_int_equal(policy_config_validate(&r.cfg, err, sizeof(err)), 0);
    policy_state_init(&r.st, &r.cfg);
    run_stall(&r, 300, &t);
    assert_int_equal(r.out.actions[r.out.n_actions - 1].kind,
                     POLICY_ACTION_START_POSTCOPY);
    assert_true(r.st.postcopy_requested);
}

/* After a soft switch-over, 60 s for QEMU to switch over, then abort. */
static void
test_switchover_timeout(void **unused)
{
    struct run r;
    struct policy_sample s;
    double t, t_switch;

    (void)unused;
    start(&r, 900);
    run_stall(&r, 60, &t_switch);
    for (t = t_switch + 0.5; t < t_switch + 70 && !r.st.cancelled; t += 0.5) {
        s = sample(t, 100, 60 * MB, false);
        policy_step(&r.cfg, &r.st, &s, &r.out);
    }
    assert_true(r.st.cancelled);
    assert_true(t - t_switch > 60 && t - t_switch < 61.5);
    assert_non_null(strstr(r.out.actions[0].reason, "switchoverTimeout"));
}

/*
 * The completion budget: completionTimeoutPerGiB (150) x size in GB
 * rounded up: 4 GiB is 4.3 GB, so 5 x 150 = 750 s.
 */
static void
test_completion_budget(void **unused)
{
    struct run r;
    struct policy_sample s;
    double t;

    (void)unused;
    start(&r, 500);
    for (t = 0.5; t < 800 && !r.st.cancelled; t += 0.5) {
        /* still in pass 1, slowly: no iteration, no stall */
        s = sample(t, 1, (uint64_t)(4 * GIB) - (uint64_t)(t * MB), false);
        policy_step(&r.cfg, &r.st, &s, &r.out);
    }
    assert_true(r.st.cancelled);
    assert_true(t > 750 && t <= 751.5); /* elapsed from the first sample */
    assert_non_null(strstr(r.out.actions[0].reason, "completion budget 750 s"));
    /* --completion-timeout, when given, replaces the 150 s */
    start(&r, 500);
    r.cfg.completion_timeout_s = 10;
    r.cfg.completion_timeout_given = true;
    policy_state_init(&r.st, &r.cfg);
    for (t = 0.5; t < 100 && !r.st.cancelled; t += 0.5) {
        s = sample(t, 1, (uint64_t)(4 * GIB) - (uint64_t)(t * MB), false);
        policy_step(&r.cfg, &r.st, &s, &r.out);
    }
    assert_true(t > 50 && t <= 51.5);
}

/* With workload disruption allowed: downtime to QEMU's maximum, abort at 2x. */
static void
test_completion_disruption(void **unused)
{
    struct run r;
    struct policy_sample s;
    char err[256];
    double t, t_max = -1;

    (void)unused;
    policy_config_init(&r.cfg);
    r.cfg.kind = POLICY_KUBEVIRT;
    r.cfg.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    r.cfg.completion_timeout_s = 10; /* 50 s budget, 100 s hard */
    r.cfg.completion_timeout_given = true;
    assert_int_equal(policy_config_validate(&r.cfg, err, sizeof(err)), 0);
    policy_state_init(&r.st, &r.cfg);
    for (t = 0.5; t < 200 && !r.st.cancelled; t += 0.5) {
        s = sample(t, 1, 100 * MB, false);
        policy_step(&r.cfg, &r.st, &s, &r.out);
        if (r.out.n_actions > 0 &&
            r.out.actions[0].kind == POLICY_ACTION_SET_DOWNTIME &&
            r.out.actions[0].value == 2000000) {
            t_max = t;
        }
    }
    assert_true(t_max > 50 && t_max <= 51.5);
    /* min(2 x budget, then + switchoverTimeout) = 100 s */
    assert_true(r.st.cancelled);
    assert_true(t > 100 && t <= 101.5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_downtime),
        cmocka_unit_test(test_downtime_tuning_ramp),
        cmocka_unit_test(test_stall_soft_switchover),
        cmocka_unit_test(test_stall_hopeless_aborts),
        cmocka_unit_test(test_stall_postcopy),
        cmocka_unit_test(test_switchover_timeout),
        cmocka_unit_test(test_completion_budget),
        cmocka_unit_test(test_completion_disruption),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
