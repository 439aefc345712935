/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: the preflight, measuring the guest before and during pass 1. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/*
 * The plan and the reasons for these numbers are in docs/policy.md,
 * "preflight".
 */
/* Periods, shortest first: the rate at 50 ms, the working set later. */
static const uint64_t ladder_ms[] = {50, 200, 800, 3200};
static const uint64_t ladder_s[] = {1, 2, 4, 8};
#define LADDER_N 4
/* Measuring before migrate costs at most this share of RAM / bandwidth, */
#define BUDGET_SHARE 0.025
/* and at most this long, whatever the size. */
#define BUDGET_MAX_S 4.5
/* QEMU 7.2 hashed sampled pages at about this rate here (fake-qemu.md). */
#define HASH_BYTES_PER_S 0.65e9
#define PAGE_BYTES 4096.0
#define SAMPLE_PAGES_MIN 128
/* Past this many pages a result's bars are narrow enough (docs). */
#define SAMPLES_ENOUGH 65536.0
/* Changed pages wanted of a guest not settled: z = 4 bars of +-20 %. */
#define COUNT_WANTED 400.0
#define SAMPLE_PAGES_MAX 16384
/* Hopeless: needs above --downtime x 1.1 + 20 ms, at the lower bounds. */
#define HOPELESS_RATIO 1.1
#define HOPELESS_ABS_S 0.02
/* Converges: needs at most the limit, at the upper bounds. */
#define FITS_RATIO 1.0
/* The downtime set for a verdict: 25 % above the upper bound. */
#define MARGIN 1.25
#define ROUND_MS 10
/* During the migration: a new measurement this long after the last. */
#define REMEASURE_GAP_S 1.0
#define REMEASURE_MAX_MS 2000
/* QEMU's longest calc-time. */
#define PERIOD_MAX_MS 60000.0
/* A period half as long again as the one that would just show it. */
#define SHOW_MARGIN 1.5
/* A rate 10 % above the bandwidth: the guest outruns the link. */
#define OUTRUNS 1.1
/* Working set bounds this close: it is known (saturation seen). */
#define SATURATED 1.5
/* A guest seen to change must stay hopeless this long before an abort. */
#define PERSIST_S 10.0
/* Passes without a new least remaining: QEMU shows no progress. */
#define PROGRESS_PASSES 3
/* Without --bandwidth: pass 1 measures it for this long first. */
#define BW_SETTLE_S 2.0
/* A pass leaving below 75 % of the one before: QEMU shows convergence. */
#define CONVERGING_RATIO 0.75

const char *
policy_preflight_name(enum policy_preflight p)
{
    switch (p) {
    case POLICY_PREFLIGHT_DEFAULT:
        return "default";
    case POLICY_PREFLIGHT_OFF:
        return "off";
    case POLICY_PREFLIGHT_MEASURE:
        return "measure";
    case POLICY_PREFLIGHT_DECIDE:
        return "decide";
    }
    return "unknown";
}

int
policy_preflight_from_name(const char *name, enum policy_preflight *p)
{
    static const enum policy_preflight all[] = {POLICY_PREFLIGHT_OFF,
                                                POLICY_PREFLIGHT_MEASURE,
                                                POLICY_PREFLIGHT_DECIDE};
    size_t i;

    for (i = 0; name != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, policy_preflight_name(all[i])) == 0) {
            *p = all[i];
            return 0;
        }
    }
    return -1;
}

enum policy_preflight
policy_preflight_effective(const struct policy_config *cfg)
{
    if (cfg->preflight != POLICY_PREFLIGHT_DEFAULT) {
        return cfg->preflight;
    }
    return cfg->kind == POLICY_ADAPTIVE ? POLICY_PREFLIGHT_DECIDE
                                        : POLICY_PREFLIGHT_OFF;
}

const char *
policy_verdict_name(enum policy_verdict v)
{
    switch (v) {
    case POLICY_VERDICT_NONE:
        return "none";
    case POLICY_VERDICT_CONVERGES:
        return "converges";
    case POLICY_VERDICT_DOWNTIME:
        return "downtime";
    case POLICY_VERDICT_LEVER:
        return "lever";
    case POLICY_VERDICT_HOPELESS:
        return "hopeless";
    case POLICY_VERDICT_UNSETTLED:
        return "unsettled";
    }
    return "unknown";
}

const struct policy_preflight_report *
policy_preflight_report(const struct policy_state *st)
{
    return &st->pf.report;
}

static bool
acting(const struct policy_config *cfg, const struct policy_state *st)
{
    return cfg->kind == POLICY_ADAPTIVE &&
           st->pf.mode == POLICY_PREFLIGHT_DECIDE;
}

static bool
settled(enum policy_verdict v)
{
    return v == POLICY_VERDICT_CONVERGES || v == POLICY_VERDICT_DOWNTIME ||
           v == POLICY_VERDICT_HOPELESS || v == POLICY_VERDICT_LEVER;
}

/* The levers permitted, as POLICY_LEVER_* bits. */
static unsigned
levers(const struct policy_config *cfg)
{
    unsigned l = 0;

    if (cfg->auto_converge_permitted) {
        l |= POLICY_LEVER_AUTO_CONVERGE;
    }
    if (cfg->postcopy_permitted) {
        l |= POLICY_LEVER_POSTCOPY;
    }
    if (cfg->timeout_action == POLICY_TIMEOUT_FORCE_COMPLETE) {
        l |= POLICY_LEVER_PAUSE;
    }
    if (cfg->dirty_limit_permitted) {
        l |= POLICY_LEVER_DIRTY_LIMIT;
    }
    return l;
}

void
policy_preflight_start(const struct policy_config *cfg, struct policy_state *st,
                       const struct policy_measure_caps *caps,
                       uint64_t ram_bytes, double t)
{
    struct policy_preflight_state *pf = &st->pf;

    memset(pf, 0, sizeof(*pf));
    pf->mode = policy_preflight_effective(cfg);
    pf->caps = *caps;
    pf->ram_bytes = ram_bytes;
    pf->started = true;
    pf->t0 = t;
    pf->t_last_end = t;
    /* Without --bandwidth nothing can be judged before pass 1. */
    if (cfg->bandwidth > 0 && ram_bytes > 0) {
        pf->budget_s = fmin(BUDGET_MAX_S, BUDGET_SHARE * (double)ram_bytes /
                                              (double)cfg->bandwidth);
    }
    if (pf->mode == POLICY_PREFLIGHT_OFF) {
        snprintf(pf->report.reason, sizeof(pf->report.reason),
                 "--preflight off");
    } else if (!caps->calc_dirty_rate) {
        snprintf(pf->report.reason, sizeof(pf->report.reason),
                 "this QEMU has no calc-dirty-rate (5.2+)");
    }
}

static uint64_t
period_ms(const struct policy_preflight_state *pf, size_t rung)
{
    return pf->caps.milliseconds ? ladder_ms[rung] : ladder_s[rung] * 1000;
}

/*
 * Sample pages per GiB: as many as QEMU hashes in half the period; for a
 * guest not settled yet, as many as the share it is expected to dirty
 * needs for COUNT_WANTED changed pages; at most SAMPLES_ENOUGH in all.
 */
static uint64_t
sample_pages(const struct policy_preflight_state *pf, uint64_t t_ms)
{
    const struct policy_estimate *e = &pf->report.est;
    double gib = (double)pf->ram_bytes / POLICY_GIB;
    double n = fmin((double)t_ms / 1000.0 * HASH_BYTES_PER_S / (2 * PAGE_BYTES),
                    SAMPLES_ENOUGH);
    double per;

    if (pf->n > pf->epoch && !settled(pf->report.verdict) &&
        pf->ram_bytes > 0) {
        double w = fmin(e->rate_est * (double)t_ms / 1000.0, e->ws_est);
        double share = fmax(w / (double)pf->ram_bytes, 1e-9);

        n = fmax(n, fmin(COUNT_WANTED / share, SAMPLES_ENOUGH));
    }
    /* more would make QEMU's period longer than asked */
    n = fmin(n, (double)t_ms / 1000.0 * HASH_BYTES_PER_S / PAGE_BYTES);
    per = gib > 0 ? floor(n / gib) : SAMPLE_PAGES_MAX;
    if (per < SAMPLE_PAGES_MIN) {
        per = SAMPLE_PAGES_MIN;
    }
    if (per > SAMPLE_PAGES_MAX) {
        per = SAMPLE_PAGES_MAX;
    }
    return (uint64_t)per;
}

/* Seconds a measurement takes: the period, hashing before and after. */
static double
cost_s(const struct policy_preflight_state *pf, uint64_t t_ms)
{
    double n = pf->caps.sample_pages
                   ? (double)((pf->ram_bytes * sample_pages(pf, t_ms)) >> 30)
                   : (double)((pf->ram_bytes * 512) >> 30);
    double hash = n * PAGE_BYTES / HASH_BYTES_PER_S;

    return fmax((double)t_ms / 1000.0, hash) + hash;
}

/*
 * A period QEMU takes, on a grid of doublings from the shortest (50 ms,
 * or 1 s before 8.2) up to a minute, so that periods chosen again are
 * the same and their results pool: the first at least ms (up), or the
 * last at most ms (down).
 */
static uint64_t
grid_ms(const struct policy_preflight_state *pf, double ms, bool up)
{
    double g = (double)period_ms(pf, 0);

    while (g * 2 <= PERIOD_MAX_MS && (up ? g < ms : g * 2 <= ms)) {
        g *= 2;
    }
    return (uint64_t)fmin(g, PERIOD_MAX_MS);
}

/* Distinct periods measured in the current epoch. */
static size_t
periods(const struct policy_preflight_state *pf)
{
    size_t i, j, n = 0;

    for (i = pf->epoch; i < pf->n; i++) {
        for (j = pf->epoch; j < i; j++) {
            if (pf->m[j].calc_time_ms == pf->m[i].calc_time_ms) {
                break;
            }
        }
        n += j == i;
    }
    return n;
}

/*
 * The period to measure next.  Up the ladder; but a guest that outruns
 * the link is hopeless once its working set passes a size: the period
 * that would show that size at its rate comes next, or, once the working
 * set is known, a period within it for its rate (docs/policy.md, "The
 * periods, and when to stop").
 */
static uint64_t
next_period(const struct policy_config *cfg, const struct policy_state *st)
{
    const struct policy_preflight_state *pf = &st->pf;
    const struct policy_estimate *e = &pf->report.est;
    double want =
        (double)period_ms(pf, pf->rung < LADDER_N ? pf->rung : LADDER_N - 1);
    double b = e->bandwidth;
    double hop =
        (double)cfg->downtime_ms / 1000.0 * HOPELESS_RATIO + HOPELESS_ABS_S;

    /* it takes two periods to tell a rate from a saturated working set */
    if (periods(pf) >= 2 && b > 0 && e->rate_est > b * OUTRUNS &&
        !pf->hopeless_now && e->need_hi_s >= hop) {
        if (e->ws_hi > e->ws_lo * SATURATED) {
            /* the working set that proves it, R* >= B x hop, at its rate */
            double ws =
                (hop - POLICY_QEMU_WINDOW_S) * b / (1 - b / e->rate_est);

            if (ws <= (double)pf->ram_bytes) {
                return grid_ms(pf, 1000.0 * SHOW_MARGIN * ws / e->rate_est,
                               true);
            }
        } else {
            /* the working set is known; its rate, within it, is not */
            return grid_ms(pf, 1000.0 * e->ws_est / e->rate_est, false);
        }
    }
    return (uint64_t)want;
}

/* The longest period, at most want, that fits in what is left. */
static uint64_t
fitting(const struct policy_preflight_state *pf, uint64_t want, double left)
{
    size_t i;

    if (cost_s(pf, want) <= left) {
        return want;
    }
    for (i = LADDER_N; i-- > 0;) {
        uint64_t ms = period_ms(pf, i);

        if (ms < want && cost_s(pf, ms) <= left) {
            return ms;
        }
    }
    return 0;
}

static void
fill(struct policy_preflight_state *pf, uint64_t t_ms,
     struct policy_measure_request *req)
{
    size_t i;

    memset(req, 0, sizeof(*req));
    req->milliseconds = pf->caps.milliseconds;
    req->calc_time = pf->caps.milliseconds ? t_ms : t_ms / 1000;
    req->mode = POLICY_DIRTY_PAGE_SAMPLING;
    if (pf->caps.sample_pages) {
        req->sample_pages = sample_pages(pf, t_ms);
    }
    pf->running = true;
    /* a rung measured (or passed over) is done */
    for (i = pf->rung; i < LADDER_N && period_ms(pf, i) <= t_ms; i++) {
        pf->rung = i + 1;
    }
}

int
policy_measure_next(const struct policy_config *cfg, struct policy_state *st,
                    double t, struct policy_measure_request *req)
{
    struct policy_preflight_state *pf = &st->pf;
    uint64_t t_ms;

    if (!pf->started || pf->mode == POLICY_PREFLIGHT_OFF ||
        !pf->caps.calc_dirty_rate || pf->failed || pf->running ||
        st->cancelled) {
        return 0;
    }
    if (!pf->migrating) {
        if (pf->finished || settled(pf->report.verdict)) {
            return 0;
        }
        t_ms = fitting(pf, next_period(cfg, st), pf->budget_s - (t - pf->t0));
        if (t_ms == 0) {
            return 0;
        }
        fill(pf, t_ms, req);
        return 1;
    }
    /*
     * During the migration adaptive, deciding, measures again; a policy
     * asked to measure only (--preflight measure) measures until it has a
     * verdict to report, when none came before migrate (QEMU's whole
     * seconds did not fit the budget), and never acts on it.
     */
    if (!acting(cfg, st) &&
        (pf->mode != POLICY_PREFLIGHT_MEASURE || settled(pf->report.verdict))) {
        return 0;
    }
    if (pf->rung >= LADDER_N && t - pf->t_last_end < REMEASURE_GAP_S) {
        return 0;
    }
    t_ms = next_period(cfg, st);
    if (pf->rung >= LADDER_N && t_ms > REMEASURE_MAX_MS &&
        settled(pf->report.verdict)) {
        t_ms = REMEASURE_MAX_MS; /* watching a settled guest for change */
    }
    fill(pf, t_ms, req);
    return 1;
}

void
policy_measure_failed(struct policy_state *st, double t, const char *why)
{
    struct policy_preflight_state *pf = &st->pf;

    pf->failed = true;
    pf->running = false;
    pf->t_last_end = t;
    if (!settled(pf->report.verdict)) {
        snprintf(pf->report.reason, sizeof(pf->report.reason),
                 "calc-dirty-rate refused: %s", why != NULL ? why : "");
    }
}

/*
 * The bandwidth a verdict may use: --bandwidth, else what the migration
 * measured: the last window or pass, or the average of this pass so far
 * over the time bytes moved, whichever is higher.  A dip (the link down
 * for a while, the socket's buffers filling while it is) must not make a
 * guest look hopeless, and the average, over seconds, is not one burst
 * into the socket's buffers at the start either.
 */
static double
verdict_bandwidth(const struct policy_config *cfg,
                  const struct policy_state *st, const struct policy_sample *s)
{
    const struct policy_track *tr = &st->track;
    double bw, moving_s, pass_avg;

    if (cfg->bandwidth > 0) {
        return (double)cfg->bandwidth;
    }
    if (s == NULL || !tr->have_base ||
        (tr->n_rem == 0 && s->t - tr->t_boundary < BW_SETTLE_S)) {
        return 0;
    }
    bw = policy_internal_bandwidth(tr, s);
    pass_avg = policy_internal_pass_rate(tr, s->t, &moving_s);
    if (moving_s >= BW_SETTLE_S / 2 && pass_avg > bw) {
        bw = pass_avg;
    }
    return bw;
}

/* "measurement 2 (400 ms, page-sampling 1024/GiB)" */
static void
describe_measurement(const struct policy_preflight_state *pf, size_t i,
                     char *buf, size_t len)
{
    const struct policy_dirty_rate *m = &pf->m[i];

    if (m->mode == POLICY_DIRTY_PAGE_SAMPLING) {
        snprintf(buf, len, "measurement %zu (%llu ms, %llu pages/GiB)", i + 1,
                 (unsigned long long)m->calc_time_ms,
                 (unsigned long long)m->sample_pages);
    } else {
        snprintf(buf, len, "measurement %zu (%llu ms, %s)", i + 1,
                 (unsigned long long)m->calc_time_ms,
                 m->mode == POLICY_DIRTY_RING ? "dirty-ring" : "dirty-bitmap");
    }
}

static uint64_t
round_up_ms(double ms)
{
    return policy_internal_u64(ceil(ms / ROUND_MS) * ROUND_MS);
}

/* The verdict the current epoch gives; fills pf->report. */
static void
judge(const struct policy_config *cfg, struct policy_state *st, double bw,
      double t)
{
    struct policy_preflight_state *pf = &st->pf;
    struct policy_preflight_report *r = &pf->report;
    struct policy_estimate *e = &r->est;
    double allowed = (double)cfg->downtime_ms / 1000.0;
    double initial = (double)cfg->downtime_initial_ms / 1000.0;
    size_t last = pf->n - 1;
    char who[96];
    double hop = allowed * HOPELESS_RATIO + HOPELESS_ABS_S;

    policy_internal_estimate(&pf->m[pf->epoch], pf->n - pf->epoch,
                             pf->ram_bytes, bw, e);
    describe_measurement(pf, last, who, sizeof(who));
    r->t = t;
    r->levers = 0;
    r->downtime_ms = 0;
    pf->hopeless_now = bw > 0 && e->n > 0 && e->need_lo_s >= hop;
    if (!(bw > 0) || e->n == 0) {
        r->verdict = POLICY_VERDICT_UNSETTLED;
        snprintf(r->reason, sizeof(r->reason),
                 "%s: dirty rate at least %.0f MB/s; the bandwidth is "
                 "not known yet",
                 who, policy_internal_mb(e->rate_lo));
        return;
    }
    if (pf->hopeless_now) {
        r->levers = levers(cfg);
        r->verdict = r->levers ? POLICY_VERDICT_LEVER : POLICY_VERDICT_HOPELESS;
        r->decided_by = last + 1;
        snprintf(r->reason, sizeof(r->reason),
                 "%s: dirty rate >= %.0f MB/s, working set >= %.0f MB: at "
                 "%.0f MB/s the switch-over needs >= %.2f s, allowed %.2f s",
                 who, policy_internal_mb(e->rate_lo),
                 policy_internal_mb(e->ws_lo), policy_internal_mb(bw),
                 e->need_lo_s, allowed);
        return;
    }
    if (e->steady && e->need_hi_s * FITS_RATIO <= initial) {
        r->verdict = POLICY_VERDICT_CONVERGES;
        r->decided_by = last + 1;
        snprintf(r->reason, sizeof(r->reason),
                 "%s: the switch-over needs <= %.2f s at %.0f MB/s "
                 "(dirty rate <= %.0f MB/s, working set <= %.0f MB): "
                 "converges at %.2f s",
                 who, e->need_hi_s, policy_internal_mb(bw),
                 policy_internal_mb(fmin(e->rate_hi, 1e15)),
                 policy_internal_mb(e->ws_hi), initial);
        return;
    }
    if (e->steady && e->need_hi_s * FITS_RATIO <= allowed) {
        uint64_t top = policy_internal_downtime_max(cfg);

        r->verdict = POLICY_VERDICT_DOWNTIME;
        r->decided_by = last + 1;
        r->downtime_ms = round_up_ms(e->need_hi_s * MARGIN * 1000.0);
        if (r->downtime_ms > top) {
            r->downtime_ms = top;
        }
        snprintf(r->reason, sizeof(r->reason),
                 "%s: the switch-over needs %.2f..%.2f s at %.0f MB/s "
                 "(working set %.0f..%.0f MB)",
                 who, e->need_lo_s, e->need_hi_s, policy_internal_mb(bw),
                 policy_internal_mb(e->ws_lo), policy_internal_mb(e->ws_hi));
        return;
    }
    r->verdict = POLICY_VERDICT_UNSETTLED;
    if (e->need_lo_s > initial) {
        /* it needs more than the start: the most allowed, from now */
        r->downtime_ms = policy_internal_downtime_max(cfg);
    }
    if (e->steady) {
        snprintf(r->reason, sizeof(r->reason),
                 "%s: the switch-over needs %.2f..%.2f s at %.0f MB/s, "
                 "allowed %.2f s: pass by pass",
                 who, e->need_lo_s, e->need_hi_s, policy_internal_mb(bw),
                 allowed);
    } else {
        snprintf(r->reason, sizeof(r->reason),
                 "%s: no steady guest explains the measurements; needs "
                 ">= %.2f s at %.0f MB/s: pass by pass",
                 who, e->need_lo_s, policy_internal_mb(bw));
    }
}

/*
 * m agrees with a result over the same period from before the last
 * epoch: the guest came back to a state it had left (a burst ended).
 */
static bool
seen_before(const struct policy_preflight_state *pf, size_t before,
            const struct policy_dirty_rate *m)
{
    struct policy_internal_w a, b;
    size_t i;

    if (!policy_internal_w_bounds(m, pf->ram_bytes, &a)) {
        return false;
    }
    for (i = 0; i < before && i < pf->n; i++) {
        if (pf->m[i].calc_time_ms == m->calc_time_ms &&
            policy_internal_w_bounds(&pf->m[i], pf->ram_bytes, &b) &&
            a.lo <= b.hi && b.lo <= a.hi) {
            return true;
        }
    }
    return false;
}

/* Keeps m; a guest that no longer fits the epoch starts a new one. */
static void
add(const struct policy_config *cfg, struct policy_state *st,
    const struct policy_dirty_rate *m, double bw)
{
    struct policy_preflight_state *pf = &st->pf;
    struct policy_estimate e;
    size_t i;

    (void)cfg;
    pf->running = false;
    pf->t_last_end = m->t_end;
    if (pf->n == POLICY_MEASURE_MAX) {
        /* the oldest goes; the epoch keeps its place */
        for (i = 1; i < pf->n; i++) {
            pf->m[i - 1] = pf->m[i];
        }
        pf->n--;
        pf->epoch -= pf->epoch > 0;
        pf->epoch_prev -= pf->epoch_prev > 0;
    }
    pf->m[pf->n++] = *m;
    if (pf->n - pf->epoch == 1) {
        pf->t_epoch = m->t_start;
        return;
    }
    policy_internal_estimate(&pf->m[pf->epoch], pf->n - pf->epoch,
                             pf->ram_bytes, bw > 0 ? bw : 1, &e);
    if (!e.steady) {
        /* not one steady guest: it changed (or is no walker) */
        pf->returns += seen_before(pf, pf->epoch_prev, m);
        pf->epoch_prev = pf->epoch;
        pf->epoch = pf->n - 1;
        pf->changes++;
        pf->t_epoch = m->t_start;
        if (pf->migrating) {
            pf->rung = 0; /* a short period for its rate, then longer */
        }
    }
}

void
policy_preflight_feed(const struct policy_config *cfg, struct policy_state *st,
                      const struct policy_dirty_rate *m)
{
    double bw = verdict_bandwidth(cfg, st, NULL);

    if (!st->pf.started) {
        return;
    }
    add(cfg, st, m, bw);
    judge(cfg, st, bw, m->t_end);
}

/* The verdict's actions; s is NULL before migrate. */
static void
act(const struct policy_config *cfg, struct policy_state *st,
    const struct policy_sample *s, struct policy_output *out)
{
    struct policy_preflight_state *pf = &st->pf;
    struct policy_preflight_report *r = &pf->report;
    struct policy_adaptive_state *ad = &st->adaptive;
    uint64_t in_force = s != NULL && s->downtime_limit_ms != 0
                            ? s->downtime_limit_ms
                            : st->downtime_ms;
    uint64_t ms = 0;

    switch (r->verdict) {
    case POLICY_VERDICT_HOPELESS:
        policy_internal_cancel(st, out, s, "preflight: %s: hopeless: %s",
                               r->reason, s == NULL ? "refuse" : "abort");
        return;
    case POLICY_VERDICT_LEVER:
        ms = policy_internal_downtime_max(cfg);
        break;
    case POLICY_VERDICT_DOWNTIME:
    case POLICY_VERDICT_UNSETTLED:
        ms = r->downtime_ms;
        break;
    default:
        return;
    }
    if (ms > in_force &&
        policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME, ms,
                             "preflight: %s: downtime %llu ms", r->reason,
                             (unsigned long long)ms) != NULL) {
        st->downtime_ms = ms;
    }
    if (r->verdict != POLICY_VERDICT_LEVER || pf->acted) {
        return;
    }
    pf->acted = true;
    /* the pass logic escalates at the first stall, not the second */
    ad->evidence = 1;
    if ((r->levers & POLICY_LEVER_AUTO_CONVERGE) && !ad->throttle_released &&
        policy_internal_emit(out, s, POLICY_ACTION_AUTO_CONVERGE, 0,
                             "preflight: %s: throttle the guest",
                             r->reason) != NULL) {
        ad->throttle_released = true;
        ad->throttle_last = s != NULL ? s->throttle_percent : 0;
        ad->throttle_idle = 0;
        ad->t_throttle = s != NULL ? s->t : pf->t0;
    }
}

int
policy_preflight_finish(const struct policy_config *cfg,
                        struct policy_state *st, double t,
                        struct policy_output *out)
{
    struct policy_preflight_state *pf = &st->pf;

    memset(out, 0, sizeof(*out));
    out->report.eta_s = -1;
    if (!pf->started) {
        return 0;
    }
    pf->finished = true;
    pf->migrating = true;
    pf->running = false;
    if (pf->n == 0) {
        if (pf->report.reason[0] == '\0' && pf->mode != POLICY_PREFLIGHT_OFF) {
            snprintf(pf->report.reason, sizeof(pf->report.reason),
                     "no measurement before migrate: it would cost more "
                     "than %.0f %% of pass 1 (%.2f s allowed); measured in "
                     "pass 1",
                     BUDGET_SHARE * 100, pf->budget_s);
        }
        return 0;
    }
    pf->report.t = t;
    if (acting(cfg, st)) {
        act(cfg, st, NULL, out);
    }
    return (int)out->n_actions;
}

/* QEMU's own passes show the remaining data shrinking clearly. */
static bool
qemu_converging(const struct policy_track *tr)
{
    return tr->n_rem >= 2 && (double)tr->rem_at_sync[0] <
                                 CONVERGING_RATIO * (double)tr->rem_at_sync[1];
}

/*
 * The current epoch has lasted long enough to be believed: a guest seen
 * to change must stay so 10 s; a guest seen to come back to an earlier
 * state (bursts) is never judged by its measurements.
 */
static bool
believed(const struct policy_preflight_state *pf)
{
    return pf->changes == 0 ||
           (pf->returns == 0 && pf->t_last_end - pf->t_epoch >= PERSIST_S);
}

void
policy_internal_preflight_step(const struct policy_config *cfg,
                               struct policy_state *st,
                               const struct policy_sample *s,
                               struct policy_output *out)
{
    struct policy_preflight_state *pf = &st->pf;
    enum policy_verdict before = pf->report.verdict;
    uint64_t ms_before = pf->report.downtime_ms;
    double bw;

    if (!pf->started || !pf->migrating) {
        return;
    }
    if (migration_status_is_final(s->status) ||
        migration_status_is_postcopy(s->status)) {
        pf->failed = true; /* nothing more to measure or judge */
        pf->running = false;
        return;
    }
    bw = verdict_bandwidth(cfg, st, s);
    if (s->dirty_measured && pf->running) {
        add(cfg, st, &s->dirty, bw);
    } else if (pf->n == 0 || settled(before) || pf->report.est.bandwidth > 0) {
        return; /* nothing new: no result, no new bandwidth */
    }
    if (pf->n == 0 || !policy_internal_running(s->status)) {
        return;
    }
    judge(cfg, st, bw, s->t);
    if (!acting(cfg, st) || st->cancelled || st->postcopy_requested) {
        return;
    }
    if (pf->hopeless_now && (!believed(pf) || qemu_converging(&st->track))) {
        /* wait: a changing guest, or QEMU shows it converging */
        pf->report.verdict = POLICY_VERDICT_UNSETTLED;
        pf->report.downtime_ms = policy_internal_downtime_max(cfg);
    }
    if (pf->report.verdict == before && pf->report.downtime_ms == ms_before) {
        return;
    }
    act(cfg, st, s, out);
}

bool
policy_internal_preflight_hopeless(const struct policy_config *cfg,
                                   const struct policy_state *st)
{
    const struct policy_preflight_state *pf = &st->pf;

    return acting(cfg, st) && !pf->failed && pf->hopeless_now && believed(pf);
}

bool
policy_internal_preflight_measured(const struct policy_config *cfg,
                                   const struct policy_state *st)
{
    return acting(cfg, st) && st->pf.n > 0;
}

bool
policy_internal_preflight_vetoes_abort(const struct policy_config *cfg,
                                       const struct policy_state *st)
{
    const struct policy_preflight_state *pf = &st->pf;

    if (!acting(cfg, st) || pf->failed || pf->n == 0) {
        return false;
    }
    if (pf->returns > 0) {
        return true; /* bursts: the backstops end it, not a snapshot */
    }
    if (!(pf->report.est.bandwidth > 0)) {
        return false;
    }
    if (pf->hopeless_now) {
        return !believed(pf); /* a changed guest, not for 10 s yet */
    }
    /*
     * The measurements say it may converge: wait while QEMU's passes
     * still beat their best (a slow convergence), not once they are flat.
     */
    return st->track.passes_since_low < PROGRESS_PASSES;
}
