/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: --policy vdsm, exponential steps and convergence schedules. */
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

static struct policy_sample
active(double t, uint64_t sync)
{
    struct policy_sample s =
        test_sample(t, MIGRATION_STATUS_ACTIVE, 4 * GIB, 200 * MB,
                    (uint64_t)(t * 100 * MB), sync);

    s.downtime_limit_ms = 100;
    return s;
}

static void
vdsm_config(struct policy_config *cfg, const char *profile)
{
    policy_config_init(cfg);
    cfg->kind = POLICY_VDSM;
    assert_int_equal(policy_schedule_profile(profile, &cfg->schedule), 0);
}

/* VDSM's own numbers: 500 ms in 5 steps is 101, 104, 120, 189, 500. */
static void
test_exponential(void **unused)
{
    static const uint64_t five[] = {101, 104, 120, 189, 500};
    /* Python: [int(50 + (450 ** (1/9)) ** i) for i in range(10)], 499 */
    static const uint64_t ten[] = {51, 51, 53, 57, 65, 79, 108, 165, 278, 499};
    unsigned i;

    (void)unused;
    for (i = 0; i < 5; i++) {
        assert_int_equal(policy_internal_vdsm_exponential(500, 5, i), five[i]);
    }
    for (i = 0; i < 10; i++) {
        assert_int_equal(policy_internal_vdsm_exponential(500, 10, i), ten[i]);
    }
    assert_int_equal(policy_internal_vdsm_exponential(500, 1, 0), 500);
}

/* min(delay * RAM GiB / steps, 60) */
static void
test_wait(void **unused)
{
    struct policy_config cfg;

    (void)unused;
    policy_config_init(&cfg);
    assert_true(policy_internal_vdsm_wait(&cfg, 4 * GIB) == 30.0);
    assert_true(policy_internal_vdsm_wait(&cfg, 16 * GIB) == 60.0);
    cfg.downtime_delay_s = 100;
    cfg.downtime_steps = 5;
    assert_true(policy_internal_vdsm_wait(&cfg, GIB) == 20.0);
}

/*
 * Feeds pass numbers, one sample each, and checks what fires at each.
 * want[i]: 0 nothing, a downtime in ms, or 1 for post-copy, 2 for abort.
 */
static void
run_timeline(const struct policy_config *cfg, struct policy_state *st,
             const uint64_t *sync, const uint64_t *want, size_t n)
{
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    for (i = 0; i < n; i++) {
        s = active(10.0 * (double)i, sync[i]);
        policy_step(cfg, st, &s, &out);
        if (want[i] == 0) {
            assert_int_equal(out.n_actions, 0);
            continue;
        }
        assert_int_equal(out.n_actions, 1);
        if (want[i] == 1) {
            assert_int_equal(out.actions[0].kind, POLICY_ACTION_START_POSTCOPY);
        } else if (want[i] == 2) {
            assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
        } else {
            assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
            assert_int_equal(out.actions[0].value, want[i]);
        }
    }
}

/* Minimal downtime: 150@n=2, 200@3, 300@4, 400@5, 500@7, abort@8. */
static void
test_minimal_downtime(void **unused)
{
    static const uint64_t sync[] = {1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    static const uint64_t want[] = {0, 0, 0, 150, 200, 300, 400, 0, 500, 2, 0};
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    vdsm_config(&cfg, "minimal-downtime");
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), 0);
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[1].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[1].value, 100);
    assert_string_equal(out.actions[1].reason,
                        "init action of schedule minimal-downtime: "
                        "downtime 100 ms");
    run_timeline(&cfg, &st, sync, want, 11);
    assert_true(st.cancelled);

    /* The reasons name the iteration, the limit and the schedule. */
    policy_state_init(&st, &cfg);
    s = active(0, 1);
    policy_step(&cfg, &st, &s, &out);
    /* VDSM polls every 10 s: a new pass before that is not seen */
    s = active(5, 3);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s = active(10, 3);
    policy_step(&cfg, &st, &s, &out);
    assert_string_equal(out.actions[0].reason,
                        "iteration 2 > limit 1 of schedule "
                        "minimal-downtime: downtime 150 ms");
}

/* At most one entry per decision, however many passes went by. */
static void
test_one_per_decision(void **unused)
{
    static const uint64_t sync[] = {3, 20, 20, 21, 22, 23, 24, 25};
    static const uint64_t want[] = {0, 150, 0, 200, 300, 400, 500, 2};
    struct policy_config cfg;
    struct policy_state st;

    (void)unused;
    vdsm_config(&cfg, "minimal-downtime");
    policy_state_init(&st, &cfg);
    run_timeline(&cfg, &st, sync, want, 8);
}

/* Post-copy profile: 150, 200, post-copy; nothing once post-copy runs. */
static void
test_postcopy_profile(void **unused)
{
    static const uint64_t sync[] = {1, 2, 3, 4, 5};
    static const uint64_t want[] = {0, 0, 150, 200, 1};
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    vdsm_config(&cfg, "post-copy");
    cfg.postcopy_permitted = true;
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), 0);
    policy_state_init(&st, &cfg);
    run_timeline(&cfg, &st, sync, want, 5);
    assert_true(st.postcopy_requested);
    s = active(100, 6);
    s.status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s = active(200, 9);
    s.status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
}

/* The switch failed (still pre-copy): the next iteration aborts. */
static void
test_postcopy_failed_aborts(void **unused)
{
    static const uint64_t sync[] = {1, 2, 3, 4, 5, 5, 6};
    static const uint64_t want[] = {0, 0, 150, 200, 1, 0, 2};
    struct policy_config cfg;
    struct policy_state st;

    (void)unused;
    vdsm_config(&cfg, "post-copy");
    cfg.postcopy_permitted = true;
    policy_state_init(&st, &cfg);
    run_timeline(&cfg, &st, sync, want, 7);
}

/* Very large VMs: init 300; ... 1500@n=7, 5000@8, abort@9. */
static void
test_very_large(void **unused)
{
    static const uint64_t sync[] = {1, 3, 4, 5, 6, 7, 8, 9, 10};
    static const uint64_t want[] = {0, 400, 500, 700, 1000, 0, 1500, 5000, 2};
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;

    (void)unused;
    vdsm_config(&cfg, "very-large-vms");
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[1].value, 300);
    run_timeline(&cfg, &st, sync, want, 9);
}

/* VDSM's computed legacy schedule: steps on iterations, 42, abort. */
static void
test_legacy_schedule(void **unused)
{
    static const uint64_t sync[] = {1, 2, 3, 4, 5, 6};
    static const uint64_t want[] = {0, 0, 104, 120, 189, 500};
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    const struct policy_schedule *sc = &st.vdsm.schedule;

    (void)unused;
    vdsm_config(&cfg, "legacy");
    cfg.downtime_steps = 5;
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), 0);
    policy_state_init(&st, &cfg);
    assert_int_equal(sc->n_entries, 6);
    assert_int_equal(sc->entries[3].limit, 4);
    assert_int_equal(sc->entries[4].limit, 42);
    assert_int_equal(sc->entries[4].downtime_ms, 500);
    assert_int_equal(sc->entries[5].limit, -1);
    assert_int_equal(sc->entries[5].verb, POLICY_SCHEDULE_ABORT);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[1].value, 101);
    run_timeline(&cfg, &st, sync, want, 6);
}

/*
 * The DowntimeThread: started at the first new iteration, step 1 at once,
 * then one every min(delay * RAM GiB / steps, 60) s.
 */
static void
test_timed(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double t;
    uint64_t seen[8];
    double at[8];
    size_t n = 0;

    (void)unused;
    vdsm_config(&cfg, "timed");
    cfg.downtime_steps = 5;
    cfg.downtime_delay_s = 10; /* 10 * 4 GiB / 5 = 8 s */
    cfg.progress_timeout_s = 0;
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[1].value, 101);
    for (t = 0; t < 100; t += 0.5) {
        s = active(t, t < 20 ? 1 : 2);
        policy_step(&cfg, &st, &s, &out);
        if (out.n_actions > 0) {
            assert_int_equal(out.n_actions, 1);
            assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
            assert_true(n < 8);
            seen[n] = out.actions[0].value;
            at[n++] = t;
        }
    }
    assert_int_equal(n, 4);
    assert_int_equal(seen[0], 104);
    assert_true(at[0] == 20);
    assert_int_equal(seen[1], 120);
    assert_true(at[1] == 28);
    assert_int_equal(seen[2], 189);
    assert_true(at[2] == 36);
    assert_int_equal(seen[3], 500);
    assert_true(at[3] == 44);
}

/* The legacy monitor: 64 s per GiB of RAM, then abort. */
static void
test_timed_max_time(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    vdsm_config(&cfg, "timed");
    cfg.progress_timeout_s = 0;
    policy_state_init(&st, &cfg);
    s = active(0, 1);
    policy_step(&cfg, &st, &s, &out);
    s = active(256, 1); /* 64 * 4096 MiB / 1024 = 256 s: not above */
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s = active(256.5, 1);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_string_equal(out.actions[0].reason,
                        "elapsed 256 s > legacy maximum 256 s "
                        "(64 s/GiB x RAM 4.0 GiB): abort");
}

/* The legacy monitor's low watermark of data remaining. */
static void
test_timed_progress(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    vdsm_config(&cfg, "timed");
    cfg.progress_timeout_s = 240;
    policy_state_init(&st, &cfg);
    s = active(0, 1);
    s.ram_total = 16 * GIB; /* the legacy maximum is then 1024 s */
    s.ram_remaining = 500 * MB;
    policy_step(&cfg, &st, &s, &out);
    s.t = 100;
    s.ram_remaining = 400 * MB; /* new low at 100 */
    policy_step(&cfg, &st, &s, &out);
    s.t = 340;
    s.ram_remaining = 450 * MB;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s.t = 340.5;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_non_null(strstr(out.actions[0].reason, "progress timeout 240 s"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_wait),
        cmocka_unit_test(test_minimal_downtime),
        cmocka_unit_test(test_one_per_decision),
        cmocka_unit_test(test_postcopy_profile),
        cmocka_unit_test(test_postcopy_failed_aborts),
        cmocka_unit_test(test_very_large),
        cmocka_unit_test(test_legacy_schedule),
        cmocka_unit_test(test_timed),
        cmocka_unit_test(test_timed_max_time),
        cmocka_unit_test(test_timed_progress),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
