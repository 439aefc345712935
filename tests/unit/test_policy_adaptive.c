/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: --policy adaptive, rules and scenarios from a pre-copy model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/internal.h"
#include "tests/unit/lib/sample.h"

#define GIB (1ULL << 30)
#define MB 1e6
#define TICK 0.1 /* QEMU sends in ~100 ms rate-limit windows */
#define POLL 0.5 /* the job's --interval */
#define MAX_LOG 64

/*
 * A tiny pre-copy generator, enough to drive the policy like QEMU would.
 * The guest rewrites a working set ws at write bytes/s (distinct pages
 * saturate as ws * (1 - exp(-write t / ws))); the rest of RAM is cold.
 * QEMU sends bw bytes/s, the dirty bitmap holds the cold pages not yet
 * sent and the hot ones; when the pending estimate falls below
 * bw * downtime-limit it syncs (a new pass: the bitmap gains what was
 * dirtied, dirty-sync-count rises, MIGRATION_PASS), and completes if the
 * exact value is below the threshold.  Optional: a disk bulk copy before
 * RAM moves (blk), auto-converge's throttle, post-copy, a pause, a link
 * that stops for a while.
 */
struct sim {
    /* the guest and the link */
    double ram, ws, write, bw, disk;
    double link_down_from, link_down_to; /* bw is 0 in [from, to) */
    bool ws_last;            /* the working set sits at the top of RAM */
    bool postcopy_broken;    /* migrate-start-postcopy does nothing */
    bool dirty_limit_broken; /* the dirty-limit does not hold the guest */
    /* QEMU */
    double t;
    enum migration_status status;
    uint64_t limit_ms;
    double cold, hot, fresh;
    double sent, disk_left, disk_sent;
    uint64_t sync;
    double rate_t, rate_dirty, dirty_rate;
    double expected_ms;
    bool throttle_released;
    int throttle, triggers;
    double dirty_limit; /* bytes/s the guest may dirty; 0: none */
    bool paused;
    double period_sent;
    /* what happened */
    bool pass_event;
    double next_poll;
    size_t n_log;
    struct {
        double t;
        uint64_t sync;
        struct policy_action a;
    } log[MAX_LOG];
    double downtime_s;
    bool verbose;
};

static void
sim_init(struct sim *m, double ram, double ws, double write, double bw)
{
    memset(m, 0, sizeof(*m));
    m->ram = ram;
    m->ws = ws;
    m->write = write;
    m->bw = bw;
    m->status = MIGRATION_STATUS_ACTIVE;
    m->limit_ms = 300; /* QEMU's default until the policy says */
    m->cold = ram - ws;
    m->hot = ws;
    m->sync = 1;
    m->link_down_from = m->link_down_to = -1;
    m->verbose = getenv("QM_TRACE") != NULL;
}

static double
sim_bw(const struct sim *m)
{
    if (m->t >= m->link_down_from && m->t < m->link_down_to) {
        return 0;
    }
    return m->bw;
}

static void
sim_sync(struct sim *m)
{
    double period = m->t - m->rate_t;

    m->hot = m->hot + m->fresh - m->hot * m->fresh / m->ws;
    m->rate_dirty += m->fresh;
    m->fresh = 0;
    m->sync++;
    m->pass_event = true;
    if (period >= 1.0) {
        m->dirty_rate = m->rate_dirty / period;
        /* auto-converge: dirtied beyond threshold 1 % of sent, twice */
        if (m->throttle_released && m->rate_dirty > 0.01 * m->period_sent) {
            if (++m->triggers >= 2) {
                m->throttle = m->throttle == 0 ? 20 : m->throttle + 10;
                if (m->throttle > 99) {
                    m->throttle = 99;
                }
            }
        }
        m->rate_t = m->t;
        m->rate_dirty = 0;
        m->period_sent = 0;
    }
    m->expected_ms = (m->cold + m->hot) / m->bw * 1000;
}

static void
sim_tick(struct sim *m)
{
    double bw = sim_bw(m);
    double x = bw * TICK;
    double w = m->paused ? 0 : m->write * (1 - m->throttle / 100.0);
    double pending, threshold;

    if (m->dirty_limit > 0 && !m->dirty_limit_broken) {
        w = fmin(w, m->dirty_limit);
    }

    m->t += TICK;
    if (m->status == MIGRATION_STATUS_POSTCOPY_ACTIVE) {
        double left = m->cold + m->hot;

        x = fmin(x, left);
        m->sent += x;
        m->cold = 0;
        m->hot = left - x;
        if (m->hot <= 0) {
            m->status = MIGRATION_STATUS_COMPLETED;
        }
        return;
    }
    if (m->disk_left > 0) {
        x = fmin(x, m->disk_left);
        m->disk_left -= x;
        m->disk_sent += x;
        return;
    }
    m->fresh += w * TICK * (1 - m->fresh / m->ws);
    pending = m->cold + m->hot;
    x = fmin(x, pending);
    if (m->ws_last) {
        /* Address order: the cold pages below go first. */
        double c = fmin(x, m->cold);

        m->cold -= c;
        m->hot -= x - c;
    } else if (pending > 0) {
        m->cold -= x * m->cold / pending;
        m->hot -= x * m->hot / pending;
    }
    m->sent += x;
    m->period_sent += x;
    threshold = bw * (double)m->limit_ms / 1000.0;
    if (bw > 0 && m->cold + m->hot < threshold) {
        sim_sync(m);
        if (m->cold + m->hot < threshold) {
            m->downtime_s = (m->cold + m->hot) / bw;
            m->status = MIGRATION_STATUS_COMPLETED;
        }
    }
}

static struct policy_sample
sim_sample(struct sim *m)
{
    struct policy_sample s = test_sample(m->t, m->status, (uint64_t)m->ram,
                                         m->status == MIGRATION_STATUS_COMPLETED
                                             ? 0
                                             : (uint64_t)(m->cold + m->hot),
                                         (uint64_t)m->sent, m->sync);

    s.ram_dirty_pages_rate = (uint64_t)(m->dirty_rate / 4096);
    s.ram_mbps = sim_bw(m) * 8 / 1e6;
    s.disk_total = (uint64_t)m->disk;
    s.disk_remaining = (uint64_t)m->disk_left;
    s.disk_transferred = (uint64_t)m->disk_sent;
    s.expected_downtime_ms =
        m->sync >= 2 ? (int64_t)m->expected_ms : (int64_t)m->limit_ms;
    s.downtime_limit_ms = m->limit_ms;
    s.throttle_percent = m->throttle;
    s.pass_event = m->pass_event;
    m->pass_event = false;
    return s;
}

static void
sim_apply(struct sim *m, const struct policy_action *a)
{
    if (m->n_log < MAX_LOG) {
        m->log[m->n_log].t = m->t;
        m->log[m->n_log].sync = m->sync;
        m->log[m->n_log].a = *a;
        m->n_log++;
    }
    if (m->verbose) {
        printf("  t=%.1f sync=%llu %s %llu: %s\n", m->t,
               (unsigned long long)m->sync, policy_action_name(a->kind),
               (unsigned long long)a->value, a->reason);
    }
    switch (a->kind) {
    case POLICY_ACTION_SET_DOWNTIME:
        m->limit_ms = a->value;
        break;
    case POLICY_ACTION_SET_BANDWIDTH:
        break;
    case POLICY_ACTION_AUTO_CONVERGE:
        m->throttle_released = true;
        break;
    case POLICY_ACTION_START_POSTCOPY:
        if (!m->postcopy_broken) {
            m->status = MIGRATION_STATUS_POSTCOPY_ACTIVE;
        }
        break;
    case POLICY_ACTION_PAUSE:
        m->paused = true;
        break;
    case POLICY_ACTION_CANCEL:
        m->status = MIGRATION_STATUS_CANCELLED;
        break;
    case POLICY_ACTION_DIRTY_LIMIT:
        m->dirty_limit = (double)a->value * 1048576.0; /* one vCPU */
        break;
    case POLICY_ACTION_BREAK_STREAM:
    case POLICY_ACTION_RECOVER:
    case POLICY_ACTION_RESUME:
        break; /* the engine's, never a policy's */
    }
}

/* Runs until a final status or until, applying initial actions first. */
static void
sim_run(struct sim *m, const struct policy_config *cfg, struct policy_state *st,
        double until)
{
    struct policy_output out;
    struct policy_sample s;
    size_t i;

    policy_state_init(st, cfg);
    policy_initial_actions(cfg, st, &out);
    for (i = 0; i < out.n_actions; i++) {
        sim_apply(m, &out.actions[i]);
    }
    m->n_log = 0; /* the log holds what policy_step decided */
    while (m->t < until) {
        sim_tick(m);
        if (!m->pass_event && m->t + 1e-9 < m->next_poll &&
            !migration_status_is_final(m->status)) {
            continue;
        }
        if (m->t + 1e-9 >= m->next_poll) {
            m->next_poll += POLL;
        }
        s = sim_sample(m);
        policy_step(cfg, st, &s, &out);
        if (m->verbose && (s.pass_event || out.n_actions > 0)) {
            printf("t=%.1f %s sync=%llu rem=%.1fMB dirty=%.1fMB/s "
                   "limit=%llu thr=%d%% pct=%.1f eta=%.1f %s\n",
                   s.t, migration_status_name(s.status),
                   (unsigned long long)s.ram_dirty_sync_count,
                   (double)s.ram_remaining / MB, m->dirty_rate / MB,
                   (unsigned long long)s.downtime_limit_ms, s.throttle_percent,
                   out.report.percent, out.report.eta_s, out.report.eta_note);
        }
        for (i = 0; i < out.n_actions; i++) {
            sim_apply(m, &out.actions[i]);
        }
        if (migration_status_is_final(m->status)) {
            break;
        }
    }
}

static size_t
log_count(const struct sim *m, enum policy_action_kind kind)
{
    size_t i, n = 0;

    for (i = 0; i < m->n_log; i++) {
        n += m->log[i].a.kind == kind;
    }
    return n;
}

static const struct policy_action *
log_first(const struct sim *m, enum policy_action_kind kind, uint64_t *sync)
{
    size_t i;

    for (i = 0; i < m->n_log; i++) {
        if (m->log[i].a.kind == kind) {
            if (sync != NULL) {
                *sync = m->log[i].sync;
            }
            return &m->log[i].a;
        }
    }
    return NULL;
}

/* The number that follows key in a reason, e.g. "needs " -> 0.39. */
static double
reason_number(const char *reason, const char *key)
{
    const char *at = strstr(reason, key);

    assert_non_null(at);
    return strtod(at + strlen(key), NULL);
}

static void
adaptive_config(struct policy_config *cfg)
{
    policy_config_init(cfg);
    assert_int_equal(policy_config_validate(cfg, NULL, 0), 0);
}

/* 1 GiB, 64 MiB rewritten at 30 MB/s over 100 MB/s: converges alone. */
static void
test_converging_left_alone(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    sim_init(&m, GIB, 64 << 20, 30 * MB, 100 * MB);
    sim_run(&m, &cfg, &st, 600);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_int_equal(m.n_log, 0);
    assert_int_equal(m.limit_ms, 300);
    assert_true(m.downtime_s <= 0.3);
    assert_true(m.sync >= 3); /* it did iterate */
}

/* The same with a hotter guest (60 MB/s) still converges untouched. */
static void
test_converging_hot_left_alone(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    sim_init(&m, 2 * GIB, 128 << 20, 60 * MB, 120 * MB);
    sim_run(&m, &cfg, &st, 600);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_int_equal(m.n_log, 0);
    assert_int_equal(m.limit_ms, 300);
}

/*
 * 40 MB rewritten at 300 MB/s over 100 MB/s: stuck near 0.4 s of
 * switch-over against 0.3 s; 0.5 s allowed.  With the working set at the
 * top of RAM the first pass ends on it and the downtime comes at the 3rd
 * sync; spread through RAM, the first pass leaves a tail of cold pages
 * that makes pass 2 look shorter, and it comes one pass (0.4 s) later.
 * Either way the migration completes within a second of pass 1.
 */
static void
run_stalled_fits(bool ws_last, uint64_t last_sync)
{
    struct policy_config cfg;
    struct policy_state st;
    const struct policy_action *a;
    uint64_t sync = 0;
    struct sim m;

    adaptive_config(&cfg);
    sim_init(&m, GIB, 40 * MB, 300 * MB, 100 * MB);
    m.ws_last = ws_last;
    sim_run(&m, &cfg, &st, 600);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    a = log_first(&m, POLICY_ACTION_SET_DOWNTIME, &sync);
    assert_non_null(a);
    if (a == NULL) {
        return;
    }
    assert_in_range(sync, 2, last_sync);
    /* about 0.4 s needed, x 1.25, at most the 0.5 s allowed */
    assert_true(reason_number(a->reason, "switch-over needs ") > 0.35);
    assert_true(reason_number(a->reason, "switch-over needs ") < 0.45);
    assert_in_range(a->value, 440, 500);
    assert_true(reason_number(a->reason, "allowed ") == 0.5);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(m.n_log, 1);
    assert_true(m.downtime_s <= 0.5);
    assert_true(m.t < 11.5); /* pass 1 takes 10.7 s */
}

static void
test_stalled_fits(void **unused)
{
    (void)unused;
    run_stalled_fits(true, 3);
    run_stalled_fits(false, 4);
}

/*
 * 240 MB rewritten at 310 MB/s over 100 MB/s, 0.5 s allowed, nothing
 * else permitted: aborted within 3 iterations of the first sync, and the
 * reason names dirty rate, bandwidth, needed and allowed downtime.
 */
static void
test_hopeless_aborted(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    const struct policy_action *a;
    uint64_t sync = 0;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    sim_run(&m, &cfg, &st, 3600);
    assert_int_equal(m.status, MIGRATION_STATUS_CANCELLED);
    a = log_first(&m, POLICY_ACTION_CANCEL, &sync);
    assert_non_null(a);
    assert_true(sync <= 1 + 3);
    assert_true(m.t < 30);
    assert_non_null(strstr(a->reason, "dirty rate "));
    assert_non_null(strstr(a->reason, "bandwidth 100 MB/s"));
    assert_non_null(strstr(a->reason, "switch-over needs 2."));
    assert_non_null(strstr(a->reason, "allowed 0.5 s"));
    assert_non_null(strstr(a->reason, ": abort"));
    assert_true(st.cancelled);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 1);
    assert_int_equal(log_count(&m, POLICY_ACTION_START_POSTCOPY), 0);
    assert_int_equal(log_count(&m, POLICY_ACTION_PAUSE), 0);
}

/* Post-copy permitted: taken instead of abort, and never aborted after. */
static void
test_hopeless_postcopy_never_aborted(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    uint64_t sync = 0;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.postcopy_permitted = true;
    cfg.progress_timeout_s = 30;
    cfg.completion_timeout_s = 30; /* 30 s: passes in post-copy */
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    /* The link dies for 10 minutes just after the switch. */
    m.link_down_from = 15;
    m.link_down_to = 615;
    sim_run(&m, &cfg, &st, 3600);
    assert_non_null(log_first(&m, POLICY_ACTION_START_POSTCOPY, &sync));
    assert_true(sync <= 4);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(log_count(&m, POLICY_ACTION_PAUSE), 0);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_true(m.t > 615);
}

/*
 * Post-copy requested but still pre-copy two passes later: it failed;
 * then the rest of the ladder: pause (force-complete) or abort.
 */
static void
test_postcopy_failed_falls_back(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    uint64_t sync_pc = 0, sync_end = 0;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.postcopy_permitted = true;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    m.postcopy_broken = true;
    sim_run(&m, &cfg, &st, 3600);
    assert_non_null(log_first(&m, POLICY_ACTION_START_POSTCOPY, &sync_pc));
    assert_non_null(log_first(&m, POLICY_ACTION_CANCEL, &sync_end));
    assert_int_equal(sync_end, sync_pc + 2);
    assert_int_equal(log_count(&m, POLICY_ACTION_START_POSTCOPY), 1);
    assert_int_equal(m.status, MIGRATION_STATUS_CANCELLED);

    cfg.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    m.postcopy_broken = true;
    sim_run(&m, &cfg, &st, 3600);
    assert_non_null(log_first(&m, POLICY_ACTION_PAUSE, &sync_end));
    assert_int_equal(sync_end, sync_pc + 2);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_true(st.paused && st.postcopy_requested);
}

/* Auto-converge permitted: released first; the throttle makes it fit. */
static void
test_hopeless_auto_converge(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    uint64_t sync = 0;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.auto_converge_permitted = true;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    sim_run(&m, &cfg, &st, 3600);
    assert_non_null(log_first(&m, POLICY_ACTION_AUTO_CONVERGE, &sync));
    assert_true(sync <= 4);
    assert_int_equal(log_count(&m, POLICY_ACTION_AUTO_CONVERGE), 1);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_true(m.throttle >= 20);
    assert_true(m.downtime_s <= 0.5);
}

/*
 * Dirty-limit permitted (with auto-converge too): set instead of the
 * throttle, at a limit that converges within the 0.5 s allowed; no
 * cancel, and the limit bites (below the guest's rate, below the link).
 */
static void
test_hopeless_dirty_limit(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    const struct policy_action *a;
    uint64_t sync = 0;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.dirty_limit_permitted = true;
    cfg.auto_converge_permitted = true;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    sim_run(&m, &cfg, &st, 3600);
    a = log_first(&m, POLICY_ACTION_DIRTY_LIMIT, &sync);
    assert_non_null(a);
    assert_true(sync <= 4);
    assert_true(a->value >= 1 && (double)a->value * 1048576.0 < 50 * MB);
    assert_non_null(strstr(a->reason, "dirty-limit "));
    assert_non_null(strstr(a->reason, "on each of 1 vCPU"));
    assert_int_equal(log_count(&m, POLICY_ACTION_AUTO_CONVERGE), 0);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_true(m.downtime_s <= 0.5);
    assert_int_equal(m.throttle, 0);
}

/*
 * A limit that does not hold: lowered pass by pass to QEMU's floor of
 * 1 MiB/s, then the next rung: post-copy when permitted, else abort.
 */
static void
test_dirty_limit_spent_escalates(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    uint64_t sync_pc = 0;
    size_t i, n;
    uint64_t last = UINT64_MAX;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.dirty_limit_permitted = true;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    m.dirty_limit_broken = true;
    sim_run(&m, &cfg, &st, 3600);
    n = log_count(&m, POLICY_ACTION_DIRTY_LIMIT);
    assert_true(n >= 2);
    for (i = 0; i < m.n_log; i++) {
        if (m.log[i].a.kind == POLICY_ACTION_DIRTY_LIMIT) {
            assert_true(m.log[i].a.value < last); /* each one lower */
            last = m.log[i].a.value;
        }
    }
    assert_int_equal(last, 1);
    assert_true(st.adaptive.dl.exhausted);
    assert_int_equal(m.status, MIGRATION_STATUS_CANCELLED);

    cfg.postcopy_permitted = true;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    m.dirty_limit_broken = true;
    sim_run(&m, &cfg, &st, 3600);
    assert_non_null(log_first(&m, POLICY_ACTION_START_POSTCOPY, &sync_pc));
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
}

/* The limit's formula, in numbers (docs/policy.md, "dirty-limit"). */
static void
test_dirty_limit_formula(void **unused)
{
    double mib = 1048576.0;

    (void)unused;
    /* 400 MiB left at 52 MB/s, 0.5 s allowed: D/B = 0.223, 11 MiB/s */
    assert_int_equal(
        policy_internal_dirty_limit_mib(400 * mib, 52e6, 0.5, 200e6, 1), 11);
    /* shared by 4 vCPUs */
    assert_int_equal(
        policy_internal_dirty_limit_mib(400 * mib, 52e6, 0.5, 200e6, 4), 2);
    /* at most half of a measured 10 MB/s */
    assert_int_equal(
        policy_internal_dirty_limit_mib(400 * mib, 52e6, 0.5, 10e6, 1), 4);
    /* little left: each pass halves at least (26 MB/s) */
    assert_int_equal(policy_internal_dirty_limit_mib(30 * mib, 52e6, 0.5, 0, 1),
                     24);
    /* never below QEMU's 1 MiB/s */
    assert_int_equal(policy_internal_dirty_limit_mib(64e9, 1e6, 0.1, 0, 8), 1);
}

/* Force-complete without post-copy: pause once, the rest drains. */
static void
test_hopeless_force_complete_pauses_once(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    sim_init(&m, GIB, 240 * MB, 310 * MB, 100 * MB);
    sim_run(&m, &cfg, &st, 3600);
    assert_int_equal(log_count(&m, POLICY_ACTION_PAUSE), 1);
    assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
    assert_true(st.paused);
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
}

/*
 * Block migration: 6 GB of disk at 100 MB/s first (60 s) while RAM does
 * not move, with a 30 s progress timeout: not a stall.
 */
static void
test_disk_bulk_not_a_stall(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    struct sim m;
    size_t i;

    (void)unused;
    adaptive_config(&cfg);
    cfg.progress_timeout_s = 30;
    sim_init(&m, GIB, 64 << 20, 30 * MB, 100 * MB);
    m.disk = m.disk_left = 6000 * MB;
    policy_state_init(&st, &cfg);
    policy_initial_actions(&cfg, &st, &out);
    for (i = 0; i < out.n_actions; i++) {
        sim_apply(&m, &out.actions[i]);
    }
    while (m.disk_left > 0) {
        sim_tick(&m);
        if (m.t + 1e-9 < m.next_poll) {
            continue;
        }
        m.next_poll += POLL;
        s = sim_sample(&m);
        assert_int_equal(s.ram_remaining, (uint64_t)GIB);
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(out.n_actions, 0);
        assert_true(out.report.since_low_watermark_s < 1.0);
        if (s.disk_remaining > 0) {
            assert_true(out.report.disk_percent < 100);
        }
    }
    assert_true(m.t > 59.5);
    /* and then RAM goes, as in test_converging_left_alone */
    m.n_log = 0;
    while (!migration_status_is_final(m.status) && m.t < 600) {
        sim_tick(&m);
        s = sim_sample(&m);
        policy_step(&cfg, &st, &s, &out);
        for (i = 0; i < out.n_actions; i++) {
            sim_apply(&m, &out.actions[i]);
        }
    }
    assert_int_equal(m.status, MIGRATION_STATUS_COMPLETED);
    assert_int_equal(m.n_log, 0);
}

/* The link goes silent in pre-copy: cancelled after the progress timeout. */
static void
test_dead_stream(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    const struct policy_action *a;
    struct sim m;

    (void)unused;
    adaptive_config(&cfg);
    cfg.progress_timeout_s = 20;
    sim_init(&m, 4 * GIB, 64 << 20, 30 * MB, 100 * MB);
    m.link_down_from = 5;
    m.link_down_to = 1e9;
    sim_run(&m, &cfg, &st, 600);
    assert_int_equal(m.status, MIGRATION_STATUS_CANCELLED);
    a = log_first(&m, POLICY_ACTION_CANCEL, NULL);
    assert_non_null(a);
    assert_true(m.t > 25 && m.t < 26);
    assert_non_null(strstr(a->reason, "no bytes moved for 20 s"));
    assert_non_null(strstr(a->reason, "stream dead or frozen"));
}

/*
 * The link goes down for 4 s in the middle of pass 1 and comes back (TCP
 * retransmits; QEMU goes on): 12.6 MB rewritten as fast as the guest can
 * over 2.5 MB/s, 8 s allowed.  The pass that held the outage, and the
 * short one after it, measure the outage, not the link: they must not
 * make a migration that fits look hopeless.  (Seen between two hosts,
 * test 92.)
 */
static void
test_outage_not_hopeless(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    const struct policy_action *a;
    struct sim m;
    double down;

    (void)unused;
    for (down = 1.0; down <= 4.01; down += 0.5) {
        adaptive_config(&cfg);
        cfg.downtime_ms = 8000;
        /* the real guest is 512 MiB, mostly zero pages: a longer cap */
        cfg.completion_timeout_s = 3600;
        sim_init(&m, 14 * MB, 12.6 * MB, 100 * MB, 2.5 * MB);
        m.link_down_from = 1.5;
        m.link_down_to = 1.5 + down;
        sim_run(&m, &cfg, &st, 600);
        if (m.status != MIGRATION_STATUS_COMPLETED) {
            a = log_first(&m, POLICY_ACTION_CANCEL, NULL);
            fail_msg("outage %.1f s: %s", down,
                     a != NULL ? a->reason : "not completed");
        }
        assert_int_equal(log_count(&m, POLICY_ACTION_CANCEL), 0);
        /* the downtime asked for is the link's: 12.6 MB / 2.5 MB/s x 1.25 */
        a = log_first(&m, POLICY_ACTION_SET_DOWNTIME, NULL);
        assert_non_null(a);
        if (a->value < 6000 || a->value > 7000) {
            fail_msg("outage %.1f s: %s", down, a->reason);
        }
    }
}

/* --- rules on hand-made samples --- */

static struct policy_sample
pass(double t, uint64_t sync, double remaining, double moved)
{
    struct policy_sample s =
        test_sample(t, MIGRATION_STATUS_ACTIVE, 2 * GIB, (uint64_t)remaining,
                    (uint64_t)moved, sync);

    s.pass_event = true;
    return s;
}

/* Needed 0.4 s at the 3rd sync: 500 ms (x 1.25), with the numbers. */
static void
test_rule_fits_value_and_reason(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    adaptive_config(&cfg);
    cfg.downtime_ms = 1000;
    policy_state_init(&st, &cfg);
    s = pass(0, 1, 2 * GIB, 0);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s = pass(20, 2, 41 * MB, 2000 * MB); /* 100 MB/s over pass 1 */
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0); /* dirty rate 0: no prediction */
    s = pass(20.5, 3, 40 * MB, 2050 * MB);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[0].value, 500); /* 0.4 s x 1.25 */
    /* pass 2 left 41 MB, at most 30 MB of it the unsent tail */
    assert_string_equal(out.actions[0].reason,
                        "pass 3 left 40 MB, 40 MB dirtied in one pass "
                        "(11 MB before) at 100 MB/s: switch-over needs "
                        "0.40 s, allowed 1.00 s: downtime 500 ms");
    /* Between pass starts nothing is decided. */
    s = pass(20.7, 3, 20 * MB, 2070 * MB);
    s.pass_event = false;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
}

/* At the 2nd sync the dirty rate alone predicts the stall. */
static void
test_rule_predicted_at_second_sync(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    adaptive_config(&cfg);
    cfg.downtime_ms = 1000;
    policy_state_init(&st, &cfg);
    s = pass(0, 1, 2 * GIB, 0);
    policy_step(&cfg, &st, &s, &out);
    s = pass(20, 2, 45 * MB, 2000 * MB);
    s.ram_dirty_pages_rate = (uint64_t)(95 * MB / 4096);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].value, 570); /* 0.45 s x 1.25 */
    assert_string_equal(out.actions[0].reason,
                        "pass 2 left 45 MB, dirty rate 95 MB/s keeps up "
                        "with 100 MB/s: switch-over needs 0.45 s, allowed "
                        "1.00 s: downtime 570 ms");
    /* The same pass start with a calm guest: nothing. */
    policy_state_init(&st, &cfg);
    s = pass(0, 1, 2 * GIB, 0);
    policy_step(&cfg, &st, &s, &out);
    s = pass(20, 2, 45 * MB, 2000 * MB);
    s.ram_dirty_pages_rate = (uint64_t)(20 * MB / 4096);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
}

/* Just above the threshold is how convergence ends: wait, unless flat. */
static void
test_rule_near_threshold(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double moved = 2000 * MB;
    uint64_t k;

    (void)unused;
    adaptive_config(&cfg);
    policy_state_init(&st, &cfg);
    s = pass(0, 1, 2 * GIB, 0);
    policy_step(&cfg, &st, &s, &out);
    s = pass(20, 2, 32 * MB, moved);
    policy_step(&cfg, &st, &s, &out);
    for (k = 3; k <= 5; k++) {
        /* 31.5 MB against 30 MB: within 10 %, flat */
        moved += 32 * MB;
        s = pass(20 + 0.32 * (double)(k - 2), k, 31.5 * MB, moved);
        policy_step(&cfg, &st, &s, &out);
        if (k < 5) {
            assert_int_equal(out.n_actions, 0);
        }
    }
    /* flat for 3 passes: it is a stall after all, and it fits */
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].value, 400); /* 0.315 s x 1.25 */
}

/* A disk copy sharing the link hides RAM stalls from the comparisons. */
static void
test_rule_disk_busy(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    uint64_t k;
    double moved = 0;

    (void)unused;
    adaptive_config(&cfg);
    policy_state_init(&st, &cfg);
    for (k = 1; k <= 6; k++) {
        moved += 300 * MB;
        s = pass(3.0 * (double)k, k, 300 * MB, moved);
        s.disk_total = 10 * GIB;
        s.disk_remaining = 5 * GIB - k * 100 * (uint64_t)MB;
        s.ram_dirty_pages_rate = (uint64_t)(200 * MB / 4096);
        policy_step(&cfg, &st, &s, &out);
        assert_int_equal(out.n_actions, 0);
    }
    /*
     * Disk done: passes compare again from here.  Dirty rate 200 MB/s
     * over 100 MB/s is the first evidence (the most allowed downtime),
     * the next pass start the second (abort).
     */
    moved += 300 * MB;
    s = pass(21, 7, 300 * MB, moved);
    s.disk_total = 10 * GIB;
    s.ram_dirty_pages_rate = (uint64_t)(200 * MB / 4096);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[0].value, 500);
    moved += 300 * MB;
    s = pass(24, 8, 300 * MB, moved);
    s.disk_total = 10 * GIB;
    s.downtime_limit_ms = 500;
    s.ram_dirty_pages_rate = (uint64_t)(200 * MB / 4096);
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_string_equal(out.actions[0].reason,
                        "dirty rate 200 MB/s exceeds bandwidth 100 MB/s; "
                        "switch-over needs 3.0 s, allowed 0.5 s: abort");
}

/* Passes that never beat the best remaining, for the progress timeout. */
static void
test_rule_no_new_best(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;
    double moved = 0, t = 0;
    uint64_t k;
    /* remaining at each pass start: best 50 MB at pass 3, then never */
    static const double rem[] = {0,  2000, 80, 50, 51, 60, 70, 52,
                                 55, 58,   60, 62, 64, 66, 68, 70};

    (void)unused;
    adaptive_config(&cfg);
    cfg.downtime_ms = 2000; /* every need fits: no escalation */
    cfg.progress_timeout_s = 10;
    policy_state_init(&st, &cfg);
    for (k = 1; k < sizeof(rem) / sizeof(rem[0]); k++) {
        moved += 300 * MB; /* 100 MB/s: every need fits */
        t += 3;
        s = pass(t, k, rem[k] * MB, moved);
        s.downtime_limit_ms = 2000; /* keeps QEMU from switching here */
        policy_step(&cfg, &st, &s, &out);
        if (out.n_actions > 0 && out.actions[0].kind == POLICY_ACTION_CANCEL) {
            break;
        }
    }
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_true(t > 9 + 10 && t <= 9 + 13);
    assert_non_null(strstr(out.actions[0].reason,
                           "none below the best 50 MB left > progress "
                           "timeout 10 s: abort"));
}

/* The completion cap: 800 s/GiB x 2 GiB, true sizes. */
static void
test_rule_completion_cap(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;
    struct policy_sample s;

    (void)unused;
    adaptive_config(&cfg);
    cfg.progress_timeout_s = 0;
    policy_state_init(&st, &cfg);
    s = pass(0, 1, 2 * GIB, 0);
    policy_step(&cfg, &st, &s, &out);
    s = pass(1600, 1, GIB, GIB);
    s.pass_event = false;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 0);
    s = pass(1600.5, 1, GIB, GIB + 1);
    s.pass_event = false;
    policy_step(&cfg, &st, &s, &out);
    assert_int_equal(out.n_actions, 1);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_CANCEL);
    assert_string_equal(out.actions[0].reason,
                        "elapsed 1600 s > completion cap 1600 s "
                        "(800 s/GiB x data 2.0 GiB): abort");
}

/* Initial actions: unlimited bandwidth (or --bandwidth), then 300 ms. */
static void
test_initial_actions(void **unused)
{
    struct policy_config cfg;
    struct policy_state st;
    struct policy_output out;

    (void)unused;
    adaptive_config(&cfg);
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[0].kind, POLICY_ACTION_SET_BANDWIDTH);
    assert_int_equal(out.actions[0].value, 0);
    assert_int_equal(out.actions[1].kind, POLICY_ACTION_SET_DOWNTIME);
    assert_int_equal(out.actions[1].value, 300);
    assert_string_equal(out.actions[1].reason,
                        "--downtime-initial: downtime 300 ms");
    assert_int_equal(st.downtime_ms, 300);
    cfg.bandwidth = 50 << 20;
    cfg.downtime_initial_ms = 150;
    policy_state_init(&st, &cfg);
    assert_int_equal(policy_initial_actions(&cfg, &st, &out), 2);
    assert_int_equal(out.actions[0].value, 50 << 20);
    assert_string_equal(out.actions[0].reason, "--bandwidth 50.0 MiB/s");
    assert_int_equal(out.actions[1].value, 150);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converging_left_alone),
        cmocka_unit_test(test_converging_hot_left_alone),
        cmocka_unit_test(test_stalled_fits),
        cmocka_unit_test(test_hopeless_aborted),
        cmocka_unit_test(test_hopeless_postcopy_never_aborted),
        cmocka_unit_test(test_postcopy_failed_falls_back),
        cmocka_unit_test(test_hopeless_auto_converge),
        cmocka_unit_test(test_hopeless_dirty_limit),
        cmocka_unit_test(test_dirty_limit_spent_escalates),
        cmocka_unit_test(test_dirty_limit_formula),
        cmocka_unit_test(test_hopeless_force_complete_pauses_once),
        cmocka_unit_test(test_disk_bulk_not_a_stall),
        cmocka_unit_test(test_dead_stream),
        cmocka_unit_test(test_outage_not_hopeless),
        cmocka_unit_test(test_rule_fits_value_and_reason),
        cmocka_unit_test(test_rule_predicted_at_second_sync),
        cmocka_unit_test(test_rule_near_threshold),
        cmocka_unit_test(test_rule_disk_busy),
        cmocka_unit_test(test_rule_no_new_best),
        cmocka_unit_test(test_rule_completion_cap),
        cmocka_unit_test(test_initial_actions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
