/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: --policy kubevirt, KubeVirt's 2026 alpha convergence (baseline). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/*
 * KubeVirt's enhancement proposals (docs/policy.md, "kubevirt", cites
 * them): VEP 248's stall detector (MigrationStallDetection) and VEP 291's
 * downtime tuning (MigrationDowntimeTuning), both with their defaults.
 * maxDowntimeMs is --downtime; completionTimeoutPerGiB is
 * --completion-timeout, KubeVirt's 150 s unless given;
 * allowPostCopy is --postcopy; allowWorkloadDisruption is --postcopy or
 * --timeout-action force-complete.
 */
#define STALL_MARGIN 0.04         /* stallMargin 4 % */
#define STALL_WINDOW_S 40.0       /* stallProgressTimeout */
#define SWITCHOVER_TIMEOUT_S 60.0 /* switchoverTimeout */
#define EWMA_ALPHA 0.4            /* ewmaAlpha */
#define PRECOPY_POSSIBLE 1.5      /* precopyPossibleFactor */
#define PATIENCE_DECAY 0.5        /* patienceWindowDecayFactor */
#define COMPLETION_FACTOR 2.0     /* completionTimeoutFactor */
#define TUNE_INITIAL_MS 150       /* downtimeTuning.initialMs */
#define TUNE_STEPS 7              /* downtimeTuning.steps */
#define TUNE_START_ITERATION 3    /* downtimeTuning.startAfterIteration */
#define TUNE_COOLDOWN_S 10.0      /* downtimeTuning.cooldownSeconds */
#define QEMU_MAX_DOWNTIME_MS 2000000

uint64_t
policy_internal_kubevirt_initial_ms(const struct policy_config *cfg)
{
    return cfg->downtime_ms < TUNE_INITIAL_MS ? cfg->downtime_ms
                                              : TUNE_INITIAL_MS;
}

void
policy_internal_kubevirt_init(const struct policy_config *cfg,
                              struct policy_kubevirt_state *ks)
{
    memset(ks, 0, sizeof(*ks));
    ks->tuned_ms = policy_internal_kubevirt_initial_ms(cfg);
}

static bool
disruption_allowed(const struct policy_config *cfg)
{
    return cfg->postcopy_permitted ||
           cfg->timeout_action == POLICY_TIMEOUT_FORCE_COMPLETE;
}

/*
 * getVMIMigrationDataSize(): memory and copied disks in decimal GB,
 * rounded up, times completionTimeoutPerGiB.
 */
static double
budget_s(const struct policy_config *cfg, const struct policy_sample *s)
{
    double per = cfg->completion_timeout_s; /* validate set 150 */
    double bytes = policy_internal_data_gb(cfg, s) * POLICY_GIB;

    if (!(per > 0)) {
        return INFINITY; /* --completion-timeout 0: off */
    }
    return per * ceil(bytes / 1e9);
}

static void
abort_now(struct policy_state *st, const struct policy_sample *s,
          struct policy_output *out, const char *why)
{
    policy_internal_cancel(st, out, s, "%s: abort", why);
}

/*
 * VEP 291's tuneDowntime(): from iteration startAfterIteration on, one
 * step of (maxDowntimeMs - initialMs) / steps each cooldown, up to
 * maxDowntimeMs.
 */
static void
tune(const struct policy_config *cfg, struct policy_state *st,
     const struct policy_sample *s, struct policy_output *out)
{
    struct policy_kubevirt_state *ks = &st->kubevirt;
    uint64_t initial = policy_internal_kubevirt_initial_ms(cfg);
    uint64_t step, next;
    char why[POLICY_REASON_MAX];

    if (s->ram_dirty_sync_count < TUNE_START_ITERATION ||
        ks->tuned_ms >= cfg->downtime_ms) {
        return;
    }
    if (!ks->tuning_started) {
        ks->tuning_started = true;
        ks->t_tuned = s->t;
        return;
    }
    if (s->t - ks->t_tuned < TUNE_COOLDOWN_S) {
        return;
    }
    step = (cfg->downtime_ms - initial) / TUNE_STEPS;
    if (step < 1) {
        step = 1;
    }
    next = ks->tuned_ms + step;
    if (next > cfg->downtime_ms) {
        next = cfg->downtime_ms;
    }
    snprintf(why, sizeof(why),
             "iteration %llu, %.0f s since the last step: downtime tuning "
             "%llu -> %llu ms of %llu",
             (unsigned long long)s->ram_dirty_sync_count, s->t - ks->t_tuned,
             (unsigned long long)ks->tuned_ms, (unsigned long long)next,
             (unsigned long long)cfg->downtime_ms);
    ks->tuned_ms = next;
    ks->t_tuned = s->t;
    if (next > st->downtime_ms) {
        policy_internal_set_downtime(st, out, s, next, why);
    }
}

/*
 * decideAction(): at a local minimum of a stall, what to do with the
 * implied downtime (remaining / EWMA bandwidth).
 */
static void
switchover(const struct policy_config *cfg, struct policy_state *st,
           const struct policy_sample *s, struct policy_output *out,
           double elapsed, uint64_t rem)
{
    struct policy_kubevirt_state *ks = &st->kubevirt;
    double implied_ms =
        ks->ewma_bw > 0 ? (double)rem / ks->ewma_bw * 1000 : INFINITY;
    double left_ms = (ks->budget_s * COMPLETION_FACTOR - elapsed) * 1000.0;
    double max_ms = (double)cfg->downtime_ms;
    char why[POLICY_REASON_MAX];

    snprintf(why, sizeof(why),
             "stalled at %.0f MB left (best %.0f MB): implied downtime "
             "%.0f ms at %.0f MB/s",
             policy_internal_mb((double)rem),
             policy_internal_mb((double)ks->best), implied_ms,
             policy_internal_mb(ks->ewma_bw));
    if (implied_ms > left_ms) {
        return; /* the switch-over would not fit the budget: wait */
    }
    if (cfg->postcopy_permitted && disruption_allowed(cfg)) {
        if (policy_internal_emit(out, s, POLICY_ACTION_START_POSTCOPY, 0,
                                 "%s: post-copy", why) != NULL) {
            st->postcopy_requested = true;
            ks->switched = true;
        }
        return;
    }
    if (disruption_allowed(cfg)) {
        policy_internal_set_downtime(st, out, s, QEMU_MAX_DOWNTIME_MS, why);
    } else if (implied_ms <= max_ms * PRECOPY_POSSIBLE) {
        policy_internal_set_downtime(st, out, s, cfg->downtime_ms, why);
    } else {
        policy_internal_cancel(st, out, s, "%s > %.0f ms x %.1f: abort", why,
                               max_ms, PRECOPY_POSSIBLE);
        return;
    }
    ks->switched = true;
    ks->switch_deadline = elapsed + SWITCHOVER_TIMEOUT_S;
}

static bool
near_minimum(const struct policy_kubevirt_state *ks, uint64_t rem)
{
    return (double)rem <= (double)ks->best * (1 + STALL_MARGIN);
}

/* Records older than the window leave it; their least is the reference. */
static void
age_records(struct policy_kubevirt_state *ks, double elapsed)
{
    size_t i = 0, j;

    while (i < ks->n_rec && ks->rec_t[i] <= elapsed - STALL_WINDOW_S) {
        if (!ks->have_outside || ks->rec_rem[i] < ks->outside_min) {
            ks->outside_min = ks->rec_rem[i];
            ks->have_outside = true;
        }
        i++;
    }
    for (j = i; j < ks->n_rec; j++) {
        ks->rec_t[j - i] = ks->rec_t[j];
        ks->rec_rem[j - i] = ks->rec_rem[j];
    }
    ks->n_rec -= i;
}

static void
record(struct policy_kubevirt_state *ks, double elapsed, uint64_t rem)
{
    if (ks->n_rec == POLICY_KUBEVIRT_RECORDS) {
        /* full: the oldest ages out early */
        age_records(ks, ks->rec_t[0] + STALL_WINDOW_S);
    }
    ks->rec_t[ks->n_rec] = elapsed;
    ks->rec_rem[ks->n_rec] = rem;
    ks->n_rec++;
}

static void
history_push(struct policy_kubevirt_state *ks, uint64_t rem)
{
    size_t i, worst = 0;

    if (ks->n_hist < POLICY_KUBEVIRT_RECORDS) {
        ks->hist[ks->n_hist++] = rem;
        return;
    }
    /* full: only the lowest are ever taken, drop the highest */
    for (i = 1; i < ks->n_hist; i++) {
        worst = ks->hist[i] > ks->hist[worst] ? i : worst;
    }
    if (rem < ks->hist[worst]) {
        ks->hist[worst] = rem;
    }
}

static bool
history_pop_lowest(struct policy_kubevirt_state *ks, uint64_t *out)
{
    size_t i, low = 0;

    if (ks->n_hist == 0) {
        return false;
    }
    for (i = 1; i < ks->n_hist; i++) {
        low = ks->hist[i] < ks->hist[low] ? i : low;
    }
    *out = ks->hist[low];
    ks->hist[low] = ks->hist[--ks->n_hist];
    return true;
}

/* VEP 248's ON_ITERATION_BOUNDARY. */
static void
iteration(const struct policy_config *cfg, struct policy_state *st,
          const struct policy_sample *s, struct policy_output *out,
          double elapsed)
{
    struct policy_kubevirt_state *ks = &st->kubevirt;
    uint64_t rem = s->ram_remaining + s->disk_remaining;
    size_t i;

    age_records(ks, elapsed);
    if (!ks->stalled) {
        bool stall =
            ks->have_outside &&
            (double)rem >= (double)ks->outside_min * (1 - STALL_MARGIN);

        record(ks, elapsed, rem);
        if (!stall) {
            return;
        }
        ks->stalled = true;
        ks->best = ks->outside_min;
        for (i = 0; i < ks->n_rec; i++) {
            ks->best = ks->rec_rem[i] < ks->best ? ks->rec_rem[i] : ks->best;
        }
        ks->n_hist = 0;
        ks->patience_s = STALL_WINDOW_S;
        ks->deadline = elapsed + ks->patience_s;
        if (near_minimum(ks, rem)) {
            switchover(cfg, st, s, out, elapsed, rem);
        }
        return;
    }
    record(ks, elapsed, rem);
    history_push(ks, rem);
    if (near_minimum(ks, rem)) {
        switchover(cfg, st, s, out, elapsed, rem);
        return;
    }
    if (elapsed >= ks->deadline) {
        uint64_t low;

        if (history_pop_lowest(ks, &low)) {
            ks->best = low;
        }
        ks->patience_s *= PATIENCE_DECAY;
        ks->deadline = elapsed + ks->patience_s;
    }
    if (near_minimum(ks, rem)) {
        switchover(cfg, st, s, out, elapsed, rem);
    }
}

/* checkCompletionTimeout(), every poll. */
static bool
completion(const struct policy_config *cfg, struct policy_state *st,
           const struct policy_sample *s, struct policy_output *out,
           double elapsed)
{
    struct policy_kubevirt_state *ks = &st->kubevirt;
    uint64_t rem = s->ram_remaining + s->disk_remaining;
    double implied_ms =
        ks->ewma_bw > 0 ? (double)rem / ks->ewma_bw * 1000 : INFINITY;
    double hard = ks->budget_s * COMPLETION_FACTOR;
    bool fits = implied_ms <= (hard - elapsed) * 1000.0;
    char why[POLICY_REASON_MAX];

    if (ks->switched) {
        if (elapsed <= ks->switch_deadline) {
            return false;
        }
        snprintf(why, sizeof(why),
                 "switch-over set %.0f s ago did not happen (switchoverTimeout "
                 "%.0f s)",
                 elapsed - ks->switch_deadline + SWITCHOVER_TIMEOUT_S,
                 SWITCHOVER_TIMEOUT_S);
        abort_now(st, s, out, why);
        return true;
    }
    if (!(ks->budget_s > 0) || elapsed <= ks->budget_s) {
        return false;
    }
    snprintf(why, sizeof(why),
             "elapsed %.0f s > completion budget %.0f s (implied downtime "
             "%.0f ms)",
             elapsed, ks->budget_s, implied_ms);
    if (cfg->postcopy_permitted && fits) {
        if (policy_internal_emit(out, s, POLICY_ACTION_START_POSTCOPY, 0,
                                 "%s: post-copy", why) != NULL) {
            st->postcopy_requested = true;
            ks->switched = true;
        }
        return true;
    }
    if (disruption_allowed(cfg) && fits) {
        policy_internal_set_downtime(st, out, s, QEMU_MAX_DOWNTIME_MS, why);
        ks->switched = true;
        ks->switch_deadline = fmin(hard, elapsed + SWITCHOVER_TIMEOUT_S);
        return true;
    }
    abort_now(st, s, out, why);
    return true;
}

void
policy_internal_kubevirt(const struct policy_config *cfg,
                         struct policy_state *st, const struct policy_sample *s,
                         struct policy_output *out)
{
    struct policy_kubevirt_state *ks = &st->kubevirt;
    double elapsed = policy_internal_elapsed(&st->track, s);
    double sample_bw = s->ram_mbps * 1e6 / 8;

    if (st->cancelled || st->postcopy_requested ||
        !policy_internal_running(s->status)) {
        return;
    }
    if (ks->budget_s == 0 && s->ram_total > 0) {
        ks->budget_s = budget_s(cfg, s);
    }
    /* the poll arm: bandwidth EWMA, seeded with the first sample */
    if (sample_bw > 0) {
        ks->ewma_bw = ks->ewma_bw > 0 ? EWMA_ALPHA * sample_bw +
                                            (1 - EWMA_ALPHA) * ks->ewma_bw
                                      : sample_bw;
    }
    if (completion(cfg, st, s, out, elapsed) || st->cancelled) {
        return;
    }
    tune(cfg, st, s, out);
    if (st->track.boundary && !ks->switched) {
        iteration(cfg, st, s, out, elapsed);
    }
}
