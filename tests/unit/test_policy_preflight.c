/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: the preflight: error bars, the model, verdicts, pass 1. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/internal.h"
#include "tests/fake-qemu/model.h"

#define MIB 1048576.0
#define GIB 1073741824.0

static const struct policy_measure_caps caps_10 = {
    .calc_dirty_rate = true, .sample_pages = true, .milliseconds = true};
static const struct policy_measure_caps caps_72 = {
    .calc_dirty_rate = true, .sample_pages = true, .milliseconds = false};

/*
 * What QEMU's page-sampling reports for a walker (W(T) = min(D T, WS))
 * when exactly the expected share of the sampled pages changed: the
 * integer arithmetic of migration/dirtyrate.c, without the noise.
 */
static struct policy_dirty_rate
sampled(uint64_t ram, uint64_t spg, uint64_t ms, double d, double ws)
{
    struct policy_dirty_rate m;
    uint64_t n = (ram * spg) >> 30;
    double w = fmin(d * (double)ms / 1000.0, ws);
    uint64_t k = (uint64_t)llround(w / (double)ram * (double)n);

    memset(&m, 0, sizeof(m));
    m.calc_time_ms = ms;
    m.sample_pages = spg;
    m.mode = POLICY_DIRTY_PAGE_SAMPLING;
    m.dirty_rate = (int64_t)(k * (ram >> 20) * 1000 / (n * ms));
    return m;
}

static void
config(struct policy_config *cfg, enum policy_kind kind, double bw)
{
    char err[256];

    policy_config_init(cfg);
    cfg->kind = kind;
    cfg->bandwidth = (uint64_t)bw;
    assert_int_equal(policy_config_validate(cfg, err, sizeof(err)), 0);
}

/* The switch-over a steady walker needs, seconds (docs/policy.md). */
static double
true_need(double d, double ws, double bw)
{
    double ts = ws / d;
    double r = d * ts - bw * fmax(0, ts - POLICY_QEMU_WINDOW_S);

    return fmax(r, 0) / bw;
}

static void
test_bounds_page_sampling(void **unused)
{
    uint64_t ram = 1ull << 30;
    struct policy_dirty_rate m = sampled(ram, 16384, 1000, 1e12, 64 * MIB);
    struct policy_internal_w w;

    (void)unused;
    /* 1024 of 16384 pages changed: QEMU says 64 MiB/s */
    assert_int_equal(m.dirty_rate, 64);
    assert_true(policy_internal_w_bounds(&m, ram, &w));
    assert_true(w.valid);
    assert_true(w.t_s == 1.0);
    assert_true(w.lo < 64 * MIB && w.hi > 64 * MIB);
    /* z = 4 on 1024 of 16384: about 12 % each way */
    assert_true(w.lo > 0.85 * 64 * MIB && w.lo < 0.9 * 64 * MIB);
    assert_true(w.hi > 1.1 * 64 * MIB && w.hi < 1.17 * 64 * MIB);
    /* fewer samples, wider bars */
    m = sampled(ram, 512, 1000, 1e12, 64 * MIB);
    assert_true(policy_internal_w_bounds(&m, ram, &w));
    assert_true(w.lo < 0.6 * 64 * MIB && w.hi > 1.5 * 64 * MIB);
    /* nothing changed still leaves a ceiling above 0 */
    m = sampled(ram, 16384, 1000, 0, 0);
    assert_int_equal(m.dirty_rate, 0);
    assert_true(policy_internal_w_bounds(&m, ram, &w));
    /* QEMU's integer MiB/s hides up to 15 changed pages here */
    assert_true(w.lo == 0 && w.hi > 0 && w.hi < 0.003 * (double)ram);
    /* QEMU's -1 (it sampled nothing) and a zero period say nothing */
    m.dirty_rate = -1;
    assert_false(policy_internal_w_bounds(&m, ram, &w));
    m.dirty_rate = 5;
    m.calc_time_ms = 0;
    assert_false(policy_internal_w_bounds(&m, ram, &w));
}

static void
test_bounds_other_modes(void **unused)
{
    struct policy_dirty_rate m = {.calc_time_ms = 2000, .dirty_rate = 100};
    struct policy_internal_w w;

    (void)unused;
    m.mode = POLICY_DIRTY_BITMAP;
    assert_true(policy_internal_w_bounds(&m, 1ull << 30, &w));
    assert_true(w.lo == 200 * MIB && w.hi == 202 * MIB);
    assert_true(w.rate_floor == 0);
    /* the ring counts pages again after a reset: a floor on the rate */
    m.mode = POLICY_DIRTY_RING;
    assert_true(policy_internal_w_bounds(&m, 1ull << 30, &w));
    assert_true(w.lo == 0 && w.hi == 202 * MIB);
    assert_true(w.rate_floor == 100 * MIB);
}

/* Walkers measured without noise: the bounds hold the truth. */
static void
test_estimate_contains_truth(void **unused)
{
    static const struct {
        double ram_gib, d_mib, ws_mib, bw;
    } g[] = {
        {1, 512, 128, 125e6},       {1, 4096, 48, 125e6},
        {4, 4096, 1024, 1.25e9},    {16, 4096, 4096, 3.125e9},
        {64, 4096, 16384, 3.125e9}, {16, 64, 512, 125e6},
    };
    static const uint64_t ms[] = {50, 400, 2000};
    size_t i, k;

    (void)unused;
    for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        uint64_t ram = (uint64_t)(g[i].ram_gib * GIB);
        double d = g[i].d_mib * MIB, ws = g[i].ws_mib * MIB;
        double need = true_need(d, ws, g[i].bw);
        struct policy_dirty_rate m[3];
        struct policy_estimate e;

        for (k = 0; k < 3; k++) {
            m[k] = sampled(ram, 16384, ms[k], d, ws);
        }
        policy_internal_estimate(m, 3, ram, g[i].bw, &e);
        assert_int_equal(e.n, 3);
        assert_true(e.steady);
        assert_true(e.rate_lo <= d * 1.001);
        assert_true(e.ws_lo <= ws * 1.001);
        assert_true(e.ws_hi >= ws * 0.999);
        assert_true(e.need_lo_s <= need + 1e-6);
        assert_true(e.need_hi_s >= need - 1e-6);
    }
}

static void
test_estimate_inconsistent(void **unused)
{
    uint64_t ram = 4ull << 30;
    struct policy_dirty_rate m[2];
    struct policy_estimate e;

    (void)unused;
    /* more distinct pages in 50 ms than in 2 s: no steady guest */
    m[0] = sampled(ram, 4096, 50, 1e12, 1024 * MIB);
    m[1] = sampled(ram, 4096, 2000, 1e12, 64 * MIB);
    policy_internal_estimate(m, 2, ram, 1.25e9, &e);
    assert_false(e.steady);
    /* the floors still hold: the larger count, the faster rate */
    assert_true(e.ws_lo > 900 * MIB);
    assert_true(e.rate_lo > 15 * GIB);
    assert_true(isinf(e.rate_hi));
}

/* Runs a preflight against an exact walker; returns the actions. */
static size_t
run_preflight(const struct policy_config *cfg, struct policy_state *st,
              const struct policy_measure_caps *caps, double ram_gib,
              double d_mib, double ws_mib, struct policy_output *out)
{
    struct policy_measure_request req;
    uint64_t ram = (uint64_t)(ram_gib * GIB);
    double t = 0;

    policy_state_init(st, cfg);
    policy_initial_actions(cfg, st, out);
    policy_preflight_start(cfg, st, caps, ram, t);
    while (policy_measure_next(cfg, st, t, &req)) {
        uint64_t ms = req.milliseconds ? req.calc_time : req.calc_time * 1000;
        struct policy_dirty_rate m =
            sampled(ram, req.sample_pages, ms, d_mib * MIB, ws_mib * MIB);

        assert_int_equal(req.mode, POLICY_DIRTY_PAGE_SAMPLING);
        assert_true(req.sample_pages >= 128 && req.sample_pages <= 16384);
        assert_int_equal(req.milliseconds, caps->milliseconds);
        m.t_start = t;
        t += (double)ms / 1000.0 + 0.01;
        m.t_end = t;
        policy_preflight_feed(cfg, st, &m);
    }
    return (size_t)policy_preflight_finish(cfg, st, t, out);
}

static void
test_verdict_idle_converges(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_measure_request req;
    const struct policy_preflight_report *r;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 4, 0, 0, &out), 0);
    r = policy_preflight_report(&st);
    assert_int_equal(r->verdict, POLICY_VERDICT_CONVERGES);
    /*
     * 50 ms with the samples QEMU hashes in 25 ms cannot tell an idle
     * guest from one dirtying 300 MB/s of 4 GiB; 200 ms can.
     */
    assert_int_equal(st.pf.n, 2);
    assert_int_equal(r->decided_by, 2);
    assert_non_null(strstr(r->reason, "measurement 2 (200 ms"));
    assert_non_null(strstr(r->reason, "converges at 0.30 s"));
    /* during the migration the ladder goes on, then every second */
    assert_int_equal(policy_measure_next(&cfg, &st, st.pf.t_last_end, &req), 1);
    assert_int_equal(req.calc_time, 800);
    assert_int_equal(policy_measure_next(&cfg, &st, st.pf.t_last_end, &req),
                     0); /* one at a time */
}

static void
test_verdict_hopeless_refuses(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    const struct policy_preflight_report *r;

    (void)unused;
    /* 64 GiB, 512 MiB rewritten at 512 MiB/s, 1 Gbit/s: needs 3.4 s */
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 64, 512, 512, &out), 1);
    r = policy_preflight_report(&st);
    assert_int_equal(r->verdict, POLICY_VERDICT_HOPELESS);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_true(st.cancelled);
    assert_non_null(strstr(out.actions[0].reason, "preflight: measurement"));
    assert_non_null(strstr(out.actions[0].reason, "allowed 0.50 s"));
    assert_non_null(strstr(out.actions[0].reason, "hopeless: refuse"));
    assert_true(r->est.need_lo_s > 0.57);
    assert_true(r->est.need_lo_s <= true_need(512 * MIB, 512 * MIB, 125e6));
    /* before migrate, within the 4.5 s the preflight may take */
    assert_true(st.pf.t_last_end < 4.5);
    assert_int_equal(r->decided_by, st.pf.n);
}

static void
test_verdict_downtime(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    const struct policy_preflight_report *r;

    (void)unused;
    /* 4 GiB, 48 MiB at 4 GiB/s, 1 Gbit/s: needs 0.40 s, QEMU 410 ms */
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 4, 4096, 48, &out), 1);
    r = policy_preflight_report(&st);
    assert_int_equal(r->verdict, POLICY_VERDICT_DOWNTIME);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_true(out.actions[0].value >= 410 && out.actions[0].value <= 480);
    assert_int_equal(out.actions[0].value, r->downtime_ms);
    assert_int_equal(st.downtime_ms, r->downtime_ms);
    assert_false(st.cancelled);
}

static void
test_verdict_levers(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    char err[256];

    (void)unused;
    policy_config_init(&cfg);
    cfg.bandwidth = 125000000;
    cfg.postcopy_permitted = true;
    cfg.auto_converge_permitted = true;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 64, 512, 512, &out), 2);
    assert_int_equal(policy_preflight_report(&st)->verdict,
                     POLICY_VERDICT_LEVER);
    assert_int_equal(policy_preflight_report(&st)->levers,
                     POLICY_LEVER_AUTO_CONVERGE | POLICY_LEVER_POSTCOPY);
    /* the most allowed, less 20 ms for the device state */
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[0].value, 480);
    assert_int_equal(out.actions[1].kind, POLICY_ACTION_AUTO_CONVERGE);
    assert_false(st.cancelled);
    assert_true(st.adaptive.throttle_released);
    /* the pass logic escalates at the first stall */
    assert_int_equal(st.adaptive.evidence, 1);
}

static void
test_measure_only_reports(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_measure_request req;
    char err[256];

    (void)unused;
    policy_config_init(&cfg);
    cfg.kind = POLICY_NOVA;
    cfg.bandwidth = 125000000;
    assert_int_equal(policy_preflight_effective(&cfg), POLICY_PREFLIGHT_OFF);
    cfg.preflight = POLICY_PREFLIGHT_DECIDE;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--preflight decide: --policy nova never"));
    cfg.preflight = POLICY_PREFLIGHT_MEASURE;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
    /* the verdict adds no action */
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 64, 512, 512, &out), 0);
    assert_int_equal(policy_preflight_report(&st)->verdict,
                     POLICY_VERDICT_HOPELESS);
    assert_false(st.cancelled);
    /* and it never measures during the migration */
    assert_int_equal(policy_measure_next(&cfg, &st, 10, &req), 0);
}

static void
test_off_and_unsupported(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_measure_caps none = {0};
    struct policy_measure_request req;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    cfg.preflight = POLICY_PREFLIGHT_OFF;
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 4, 4096, 1024, &out),
                     0);
    assert_int_equal(st.pf.n, 0);
    assert_string_equal(policy_preflight_report(&st)->reason,
                        "--preflight off");
    assert_int_equal(policy_measure_next(&cfg, &st, 5, &req), 0);
    cfg.preflight = POLICY_PREFLIGHT_DEFAULT;
    assert_int_equal(run_preflight(&cfg, &st, &none, 4, 4096, 1024, &out), 0);
    assert_non_null(
        strstr(policy_preflight_report(&st)->reason, "no calc-dirty-rate"));
    assert_int_equal(policy_measure_next(&cfg, &st, 5, &req), 0);
}

static void
test_requests_per_version(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_measure_request req;
    struct policy_measure_caps old = caps_72;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    policy_state_init(&st, &cfg);
    /* 64 GiB at 1 Gbit/s: 550 s of pass 1, a budget of 4.5 s */
    policy_preflight_start(&cfg, &st, &caps_10, 64ull << 30, 0);
    assert_true(st.pf.budget_s == 4.5);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 1);
    assert_true(req.milliseconds);
    assert_int_equal(req.calc_time, 50);
    assert_int_equal(req.sample_pages, 128); /* hashing fits in 50 ms */
    /* one at a time */
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 0);
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &old, 64ull << 30, 0);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 1);
    assert_false(req.milliseconds);
    assert_int_equal(req.calc_time, 1);
    /* QEMU 5.2-6.0: no sample-pages argument */
    old.sample_pages = false;
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &old, 64ull << 30, 0);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 1);
    assert_int_equal(req.sample_pages, 0);
}

static void
test_budget(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_measure_request req;

    (void)unused;
    /* 1 GiB at 25 Gbit/s: pass 1 takes 0.3 s, nothing fits before it */
    config(&cfg, POLICY_ADAPTIVE, 3.125e9);
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &caps_10, 1ull << 30, 0);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 0);
    assert_int_equal(policy_preflight_finish(&cfg, &st, 0, &out), 0);
    assert_non_null(strstr(policy_preflight_report(&st)->reason,
                           "no measurement before migrate"));
    /* then the ladder runs during pass 1 */
    assert_int_equal(policy_measure_next(&cfg, &st, 0.01, &req), 1);
    assert_int_equal(req.calc_time, 50);
    /* without --bandwidth: nothing before migrate either */
    config(&cfg, POLICY_ADAPTIVE, 0);
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &caps_10, 64ull << 30, 0);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 0);
}

static void
test_failure_stops(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_measure_request req;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 125e6);
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &caps_10, 64ull << 30, 0);
    assert_int_equal(policy_measure_next(&cfg, &st, 0, &req), 1);
    policy_measure_failed(&st, 0.1,
                          "the dirty rate is already being "
                          "measured.");
    assert_int_equal(policy_measure_next(&cfg, &st, 0.2, &req), 0);
    assert_non_null(strstr(policy_preflight_report(&st)->reason,
                           "calc-dirty-rate refused: the dirty rate is"));
    assert_false(policy_internal_preflight_vetoes_abort(&cfg, &st));
}

/* A pass-1 sample of a 16 GiB guest, with a result in it. */
static struct policy_sample
pass1(double t, double sent, const struct policy_dirty_rate *m)
{
    struct policy_sample s;

    memset(&s, 0, sizeof(s));
    s.t = t;
    s.status = MIGRATION_STATUS_ACTIVE;
    s.ram_total = 16ull << 30;
    s.ram_transferred = (uint64_t)sent;
    s.ram_remaining = s.ram_total - s.ram_transferred;
    s.ram_page_size = 4096;
    s.ram_dirty_sync_count = 1;
    s.ram_mbps = 10000;
    s.downtime_limit_ms = 300;
    if (m != NULL) {
        s.dirty_measured = true;
        s.dirty = *m;
    }
    return s;
}

/* Feeds during pass 1 what the policy asks for, from a walker. */
static void
measure_in_pass1(const struct policy_config *cfg, struct policy_state *st,
                 double *t, double d_mib, double ws_mib,
                 struct policy_output *out)
{
    struct policy_measure_request req;
    struct policy_dirty_rate m;
    struct policy_sample s;
    uint64_t ms;
    int waited = 0;

    while (!policy_measure_next(cfg, st, *t, &req)) {
        *t += 0.1; /* the job polls */
        assert_true(++waited < 30);
    }
    ms = req.milliseconds ? req.calc_time : req.calc_time * 1000;
    m = sampled(16ull << 30, req.sample_pages, ms, d_mib * MIB, ws_mib * MIB);
    m.t_start = *t;
    *t += (double)ms / 1000.0 + 0.01;
    m.t_end = *t;
    s = pass1(*t, *t * 1.25e9, &m);
    policy_step(cfg, st, &s, out);
}

static void
test_pass1_judges_without_bandwidth(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double t = 0;
    size_t i;

    (void)unused;
    /* no --bandwidth: measured before migrate, judged in pass 1 */
    config(&cfg, POLICY_ADAPTIVE, 0);
    policy_state_init(&st, &cfg);
    policy_preflight_start(&cfg, &st, &caps_10, 16ull << 30, 0);
    assert_int_equal(policy_preflight_finish(&cfg, &st, 0, &out), 0);
    s = pass1(0.0, 0, NULL);
    policy_step(&cfg, &st, &s, &out);
    for (i = 0; i < 3 && !st.cancelled; i++) {
        measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
        assert_false(st.cancelled); /* the bandwidth is not known yet */
    }
    assert_int_equal(policy_preflight_report(&st)->verdict,
                     POLICY_VERDICT_UNSETTLED);
    assert_non_null(strstr(policy_preflight_report(&st)->reason,
                           "bandwidth is not known yet"));
    /* pass 1 has run 2 s: the bandwidth is known, the verdict comes */
    memset(&out, 0, sizeof(out));
    for (t = 2.5; t < 3.1 && out.n_actions == 0; t += 0.5) {
        s = pass1(t, t * 1.25e9, NULL);
        policy_step(&cfg, &st, &s, &out);
    }
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_non_null(strstr(out.actions[0].reason, "hopeless: abort"));
    assert_true(st.cancelled);
}

static void
test_pass1_changing_guest_waits(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    double t = 0, t_grew;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 1.25e9);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 16, 64, 128, &out), 0);
    assert_int_equal(policy_preflight_report(&st)->verdict,
                     POLICY_VERDICT_CONVERGES);
    t = 0.1;
    /* steady calm during pass 1 */
    measure_in_pass1(&cfg, &st, &t, 64, 128, &out);
    t += 1.0;
    measure_in_pass1(&cfg, &st, &t, 64, 128, &out);
    assert_int_equal(st.pf.changes, 0);
    /* then it grows: a new epoch, believed only after 10 s */
    t += 1.0;
    t_grew = t;
    while (!st.pf.hopeless_now && t < t_grew + 8) {
        measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
    }
    assert_true(st.pf.hopeless_now);
    assert_int_equal(st.pf.changes, 1);
    assert_false(st.cancelled);
    assert_true(policy_internal_preflight_vetoes_abort(&cfg, &st));
    while (!st.cancelled && t < t_grew + 30) {
        measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
    }
    assert_true(st.cancelled);
    assert_true(t - t_grew >= 10.0);
    assert_true(t - t_grew < 16.0);
    assert_non_null(strstr(out.actions[0].reason, "hopeless: abort"));
    assert_false(policy_internal_preflight_vetoes_abort(&cfg, &st));
}

static void
test_pass1_burst_never_aborts(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    double t = 0.1;
    int burst;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 1.25e9);
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 16, 64, 128, &out), 0);
    for (burst = 0; burst < 4; burst++) {
        double until = t + 5;

        while (t < until) {
            measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
            t += 1.0;
        }
        until = t + 25;
        while (t < until) {
            measure_in_pass1(&cfg, &st, &t, 64, 128, &out);
            t += 1.0;
        }
        assert_false(st.cancelled);
    }
    assert_true(st.pf.changes >= 7);
    /* it came back to where it was: bursts, never judged by a snapshot */
    assert_true(st.pf.returns > 0);
    assert_true(policy_internal_preflight_vetoes_abort(&cfg, &st));
    assert_false(policy_internal_preflight_hopeless(&cfg, &st));
}

static void
test_pass1_qemu_converging_wins(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    double t = 0.1;

    (void)unused;
    /* QEMU's passes show the remaining data falling by half each time */
    config(&cfg, POLICY_ADAPTIVE, 1.25e9);
    cfg.preflight = POLICY_PREFLIGHT_DECIDE;
    assert_int_equal(run_preflight(&cfg, &st, &caps_10, 16, 64, 128, &out), 0);
    st.track.n_rem = 2;
    st.track.have_base = true;
    st.track.started = true;
    st.track.sync = 1; /* the samples below start no new pass */
    st.track.rem_at_sync[0] = 100000000;
    st.track.rem_at_sync[1] = 400000000;
    while (!st.pf.hopeless_now && t < 10) {
        measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
    }
    assert_true(st.pf.hopeless_now);
    /* a second opinion after the change is due, but QEMU's numbers win */
    while (t < 25) {
        measure_in_pass1(&cfg, &st, &t, 4096, 4096, &out);
    }
    assert_false(st.cancelled);
}

/*
 * A guest that may converge (16 GiB, 4 GiB rewritten at 4 GiB/s, 25
 * Gbit/s: needs 0.48 s of 0.50): its passes' abort waits while they
 * still beat their best, not once they are flat.
 */
static void
test_veto_needs_progress(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    const struct policy_preflight_report *r;

    (void)unused;
    config(&cfg, POLICY_ADAPTIVE, 3.125e9);
    run_preflight(&cfg, &st, &caps_10, 16, 4096, 4096, &out);
    r = policy_preflight_report(&st);
    assert_false(st.cancelled);
    assert_false(st.pf.hopeless_now);
    assert_true(r->est.need_lo_s <= 0.48);
    st.track.passes_since_low = 0;
    assert_true(policy_internal_preflight_vetoes_abort(&cfg, &st));
    st.track.passes_since_low = 2;
    assert_true(policy_internal_preflight_vetoes_abort(&cfg, &st));
    st.track.passes_since_low = 3;
    assert_false(policy_internal_preflight_vetoes_abort(&cfg, &st));
    /* measure only (as started with --preflight measure): never a veto */
    st.pf.mode = POLICY_PREFLIGHT_MEASURE;
    st.track.passes_since_low = 0;
    assert_false(policy_internal_preflight_vetoes_abort(&cfg, &st));
}

/*
 * The fake's own measurements, noise included, over many guests and
 * seeds: a hopeless verdict only where the physics say so.
 */
static void
test_never_false_hopeless_with_noise(void **unused)
{
    static const double rams[] = {1, 4, 16, 64};
    static const double wss[] = {16, 48, 128, 300, 512, 1024, 4096};
    static const double ds[] = {32, 200, 512, 4096};
    static const double bws[] = {125e6, 1.25e9, 3.125e9};
    size_t a, b, c, e, n_hopeless = 0, n_cases = 0;
    uint64_t seed;

    (void)unused;
    for (a = 0; a < 4; a++) {
        for (b = 0; b < 7; b++) {
            for (c = 0; c < 4; c++) {
                for (e = 0; e < 3; e++) {
                    for (seed = 1; seed <= 3; seed++) {
                        double ram = rams[a] * GIB, ws = wss[b] * MIB;
                        double d = ds[c] * MIB;
                        struct fq_model_config mc;
                        struct fq_error err;
                        struct fq_model *m;
                        struct policy_config cfg;
                        struct policy_state st;
                        struct policy_output out;
                        struct policy_measure_request req;
                        double need = true_need(d, ws, bws[e]);

                        if (ws > ram / 2) {
                            continue;
                        }
                        fq_model_config_init(&mc);
                        mc.ram_bytes = (uint64_t)ram;
                        mc.working_set_bytes = (uint64_t)ws;
                        mc.dirty_rate = d / 4096;
                        mc.seed = seed;
                        m = fq_model_new(&mc, &err);
                        assert_non_null(m);
                        config(&cfg, POLICY_ADAPTIVE, bws[e]);
                        policy_state_init(&st, &cfg);
                        policy_preflight_start(&cfg, &st, &caps_10,
                                               (uint64_t)ram, 0);
                        while (policy_measure_next(&cfg, &st, fq_model_now(m),
                                                   &req)) {
                            struct fq_dirty_args da = {
                                .calc_time_ms = (int64_t)req.calc_time,
                                .has_sample_pages = true,
                                .sample_pages = req.sample_pages,
                            };
                            struct fq_dirty_info info;
                            struct policy_dirty_rate r = {0};

                            r.t_start = fq_model_now(m);
                            assert_int_equal(
                                fq_model_calc_dirty_rate(m, &da, &err), 0);
                            do {
                                fq_model_advance(m, 0.01);
                                fq_model_query_dirty_rate(m, &info);
                            } while (info.status != FQ_DIRTY_MEASURED);
                            r.t_end = fq_model_now(m);
                            r.calc_time_ms = (uint64_t)info.calc_time_ms;
                            r.dirty_rate = info.dirty_rate;
                            r.sample_pages = info.sample_pages;
                            policy_preflight_feed(&cfg, &st, &r);
                        }
                        policy_preflight_finish(&cfg, &st, fq_model_now(m),
                                                &out);
                        n_cases++;
                        if (st.cancelled) {
                            n_hopeless++;
                            if (need <= 0.5) {
                                fail_msg("hopeless verdict for ram %.0f GiB "
                                         "ws %.0f MiB d %.0f MiB/s bw %.0f: "
                                         "needs %.3f s: %s",
                                         rams[a], wss[b], ds[c], bws[e], need,
                                         policy_preflight_report(&st)->reason);
                            }
                        }
                        fq_model_free(m);
                    }
                }
            }
        }
    }
    /* the test is not empty: many cases, a fair share judged hopeless */
    assert_true(n_cases > 500);
    assert_true(n_hopeless > 50);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_page_sampling),
        cmocka_unit_test(test_bounds_other_modes),
        cmocka_unit_test(test_estimate_contains_truth),
        cmocka_unit_test(test_estimate_inconsistent),
        cmocka_unit_test(test_verdict_idle_converges),
        cmocka_unit_test(test_verdict_hopeless_refuses),
        cmocka_unit_test(test_verdict_downtime),
        cmocka_unit_test(test_verdict_levers),
        cmocka_unit_test(test_measure_only_reports),
        cmocka_unit_test(test_off_and_unsupported),
        cmocka_unit_test(test_requests_per_version),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_failure_stops),
        cmocka_unit_test(test_pass1_judges_without_bandwidth),
        cmocka_unit_test(test_pass1_changing_guest_waits),
        cmocka_unit_test(test_pass1_burst_never_aborts),
        cmocka_unit_test(test_pass1_qemu_converging_wins),
        cmocka_unit_test(test_veto_needs_progress),
        cmocka_unit_test(test_never_false_hopeless_with_noise),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
