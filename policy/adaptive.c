/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: --policy adaptive, decisions at pass boundaries from QEMU's data. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/*
 * The model and the reasons for these numbers are in docs/policy.md,
 * "adaptive".
 */
#define STALL_RATIO 0.9    /* a pass leaving >= 90 % of the last: stalled */
#define CLEAR_RATIO 0.75   /* both below 75 %: clearly converging */
#define NEAR_RATIO 1.25    /* within 25 % of what switches over: wait */
#define FLAT_PASSES 3      /* unless it stays there this many passes */
#define PREDICT_RATIO 0.9  /* dirty rate >= 90 % of bandwidth: will stall */
#define EXCEEDS_RATIO 1.05 /* "exceeds" in a reason, rather than "keeps up" */
#define MARGIN 1.25        /* on the needed downtime */
#define ROUND_MS 10
#define EVIDENCE_NEEDED 2 /* pass starts that show a hopeless stall */
#define THROTTLE_MAX 99   /* QEMU's max-cpu-throttle */
#define THROTTLE_IDLE_MAX 3
#define THROTTLE_IDLE_S 3.0 /* > two of QEMU's 1 s dirty-rate periods */
#define POSTCOPY_WAIT_MAX 2
#define ALIVE_S 2.0 /* bytes moved this recently: the link works */

/* What one pass boundary shows. */
struct evidence {
    uint64_t sync;
    double rem;  /* RAM remaining as this pass began */
    double dirt; /* of which the last pass dirtied */
    bool have_prev;
    double prev_dirt; /* what the pass before dirtied */
    double prev_rem;  /* what the pass before left */
    double bw;        /* bytes/s */
    double dirty;     /* bytes/s */
    double threshold; /* bytes QEMU switches over below */
    double need_s;    /* rem / bw */
    double allowed_s; /* --downtime */
    bool stalled;
    bool converging; /* clearly shrinking: the evidence resets */
};

static uint64_t
round_up_ms(double ms)
{
    return policy_internal_u64(ceil(ms / ROUND_MS) * ROUND_MS);
}

/* "dirty rate 310 MB/s exceeds bandwidth 100 MB/s; ..." */
static void
describe(const struct evidence *ev, char *buf, size_t len)
{
    double d = policy_internal_mb(ev->dirty);
    double b = policy_internal_mb(ev->bw);
    int dp = policy_internal_mb_prec(ev->dirty);
    int bp = policy_internal_mb_prec(ev->bw);

    if (ev->dirty > EXCEEDS_RATIO * ev->bw) {
        snprintf(buf, len, "dirty rate %.*f MB/s exceeds bandwidth %.*f MB/s",
                 dp, d, bp, b);
    } else if (ev->dirty >= PREDICT_RATIO * ev->bw) {
        snprintf(buf, len,
                 "dirty rate %.*f MB/s keeps up with bandwidth "
                 "%.*f MB/s",
                 dp, d, bp, b);
    } else if (ev->have_prev) {
        snprintf(buf, len,
                 "each pass dirties %.*f MB again (%.*f MB "
                 "before; dirty rate %.*f MB/s, bandwidth %.*f "
                 "MB/s)",
                 policy_internal_mb_prec(ev->dirt),
                 policy_internal_mb(ev->dirt),
                 policy_internal_mb_prec(ev->prev_dirt),
                 policy_internal_mb(ev->prev_dirt), dp, d, bp, b);
    } else {
        snprintf(buf, len, "dirty rate %.*f MB/s, bandwidth %.*f MB/s", dp, d,
                 bp, b);
    }
}

/*
 * The most adaptive sets: --downtime; when the preflight measured the
 * guest (and so a migration may go on where it once aborted), less the
 * room for the device state (policy_internal_downtime_max()); with a
 * dirty-limit permitted, whose last pass fills the limit, less still
 * (policy_internal_escalation_downtime()).
 */
static uint64_t
top_ms(const struct policy_config *cfg, const struct policy_state *st)
{
    uint64_t top = policy_internal_preflight_measured(cfg, st)
                       ? policy_internal_downtime_max(cfg)
                       : cfg->downtime_ms;
    uint64_t escalation = policy_internal_escalation_downtime(cfg);

    return escalation < top ? escalation : top;
}

static uint64_t
limit_in_force(const struct policy_state *st, const struct policy_sample *s)
{
    return s->downtime_limit_ms != 0 ? s->downtime_limit_ms : st->downtime_ms;
}

/* Gathers what this pass boundary says; false if it says nothing yet. */
static bool
gather(const struct policy_config *cfg, struct policy_state *st,
       const struct policy_sample *s, struct evidence *ev)
{
    const struct policy_track *tr = &st->track;
    struct policy_adaptive_state *ad = &st->adaptive;
    size_t valid = 0;
    bool above;

    while (valid < tr->n_rem && tr->sync_at[valid] >= st->adaptive.clean_sync) {
        valid++;
    }
    if (valid == 0) {
        return false;
    }
    ev->sync = tr->sync_at[0];
    ev->rem = (double)tr->rem_at_sync[0];
    ev->dirt = (double)tr->dirt_at_sync[0];
    ev->have_prev = valid >= 2;
    ev->prev_dirt = ev->have_prev ? (double)tr->dirt_at_sync[1] : 0;
    ev->prev_rem = ev->have_prev ? (double)tr->rem_at_sync[1] : 0;
    ev->bw = policy_internal_bandwidth(tr, s);
    ev->dirty = policy_internal_dirty_rate(s);
    ev->allowed_s = (double)cfg->downtime_ms / 1000.0;
    if (!(ev->bw > 0)) {
        return false;
    }
    ev->need_s = ev->rem / ev->bw;
    ev->threshold = ev->bw * (double)limit_in_force(st, s) / 1000.0;
    /*
     * Like with like: what the last two passes dirtied; before that, the
     * rates.  A pass just above the threshold is how a converging
     * migration ends, so it only counts as a stall if it stays there.
     */
    above = ev->rem > NEAR_RATIO * ev->threshold;
    if (ev->have_prev) {
        bool dirt_flat = ev->dirt >= STALL_RATIO * ev->prev_dirt;
        bool rem_flat = ev->rem >= STALL_RATIO * ev->prev_rem;

        /*
         * What the last pass dirtied over its own length is the guest's
         * rate, measured like with like.  (QEMU's dirty-pages-rate at the
         * second sync averages over the whole first pass and reads far
         * too low.)  A guest that dirties as fast as the link sends will
         * stall, even while this pass still left less than the last.
         */
        bool outruns =
            tr->pass_s > 0 && ev->dirt / tr->pass_s >= PREDICT_RATIO * ev->bw;

        /* Near the threshold the tail dominates: only the dirt counts. */
        ad->flat = dirt_flat ? ad->flat + 1 : 0;
        ev->stalled =
            above ? dirt_flat || rem_flat || outruns : ad->flat >= FLAT_PASSES;
        ev->converging = ev->dirt < CLEAR_RATIO * ev->prev_dirt &&
                         ev->rem < CLEAR_RATIO * ev->prev_rem;
    } else {
        ad->flat = 0;
        ev->stalled = above && ev->dirty >= PREDICT_RATIO * ev->bw;
    }
    return true;
}

/* The stall fits: the downtime it needs, at once. */
static void
give_downtime(const struct policy_config *cfg, struct policy_state *st,
              const struct policy_sample *s, struct policy_output *out,
              const struct evidence *ev)
{
    uint64_t ms = round_up_ms(ev->need_s * 1000.0 * MARGIN);
    char why[POLICY_REASON_MAX];

    if (ms > top_ms(cfg, st)) {
        ms = top_ms(cfg, st);
    }
    if (ms <= limit_in_force(st, s)) {
        return;
    }
    if (ev->have_prev) {
        snprintf(why, sizeof(why),
                 "pass %llu left %.*f MB, %.*f MB dirtied in one pass "
                 "(%.*f MB before) at %.*f MB/s: switch-over needs %.2f s, "
                 "allowed %.2f s",
                 (unsigned long long)ev->sync, policy_internal_mb_prec(ev->rem),
                 policy_internal_mb(ev->rem), policy_internal_mb_prec(ev->dirt),
                 policy_internal_mb(ev->dirt),
                 policy_internal_mb_prec(ev->prev_dirt),
                 policy_internal_mb(ev->prev_dirt),
                 policy_internal_mb_prec(ev->bw), policy_internal_mb(ev->bw),
                 ev->need_s, ev->allowed_s);
    } else {
        snprintf(why, sizeof(why),
                 "pass %llu left %.*f MB, dirty rate %.*f MB/s keeps up with "
                 "%.*f MB/s: switch-over needs %.2f s, allowed %.2f s",
                 (unsigned long long)ev->sync, policy_internal_mb_prec(ev->rem),
                 policy_internal_mb(ev->rem),
                 policy_internal_mb_prec(ev->dirty),
                 policy_internal_mb(ev->dirty), policy_internal_mb_prec(ev->bw),
                 policy_internal_mb(ev->bw), ev->need_s, ev->allowed_s);
    }
    policy_internal_set_downtime(st, out, s, ms, why);
}

/* After auto-converge was released: has QEMU's throttle run out? */
static bool
throttle_exhausted(struct policy_adaptive_state *ad,
                   const struct policy_sample *s)
{
    if (s->throttle_percent > ad->throttle_last) {
        ad->throttle_idle = 0;
        ad->t_throttle = s->t;
    } else {
        ad->throttle_idle++;
    }
    ad->throttle_last = s->throttle_percent;
    /*
     * QEMU raises the throttle at most every second dirty-rate period,
     * each at least 1 s long: with short passes, count seconds too.
     */
    return s->throttle_percent >= THROTTLE_MAX ||
           (ad->throttle_idle >= THROTTLE_IDLE_MAX &&
            s->t - ad->t_throttle >= THROTTLE_IDLE_S);
}

/*
 * Decimals for "needs X s, allowed Y s": one, unless that would print two
 * different durations alike (0.54 s needed must not read as 0.5 allowed).
 */
static int
seconds_precision(double a, double b)
{
    int prec = 1;

    while (prec < 3 && a != b &&
           round(a * pow(10, prec)) == round(b * pow(10, prec))) {
        prec++;
    }
    return prec;
}

/* The stall does not fit: the next permitted rung, or abort. */
static void
escalate(const struct policy_config *cfg, struct policy_state *st,
         const struct policy_sample *s, struct policy_output *out,
         const struct evidence *ev)
{
    struct policy_adaptive_state *ad = &st->adaptive;
    char what[160];
    char why[POLICY_REASON_MAX];

    describe(ev, what, sizeof(what));
    snprintf(why, sizeof(why), "%s; switch-over needs %.*f s, allowed %.*f s",
             what, seconds_precision(ev->need_s, ev->allowed_s), ev->need_s,
             seconds_precision(ev->need_s, ev->allowed_s), ev->allowed_s);
    ad->evidence++;
    if (limit_in_force(st, s) < top_ms(cfg, st)) {
        policy_internal_set_downtime(st, out, s, top_ms(cfg, st), why);
    }
    if (policy_internal_dirty_limit(
            cfg, st, s, out,
            &(struct policy_internal_stall){ev->sync, ev->rem, ev->bw,
                                            ev->dirty, why})) {
        return; /* preferred to auto-converge: see docs/policy.md */
    }
    if (cfg->auto_converge_permitted && !cfg->dirty_limit_permitted &&
        !ad->throttle_released) {
        if (policy_internal_emit(out, s, POLICY_ACTION_AUTO_CONVERGE, 0,
                                 "%s: throttle the guest", why) != NULL) {
            ad->throttle_released = true;
            ad->throttle_last = s->throttle_percent;
            ad->throttle_idle = 0;
            ad->t_throttle = s->t;
        }
        return;
    }
    if (ad->throttle_released && !throttle_exhausted(ad, s)) {
        return; /* QEMU still raises the throttle */
    }
    if (ad->evidence < EVIDENCE_NEEDED) {
        return;
    }
    if (cfg->postcopy_permitted && !st->postcopy_requested) {
        if (s->t - st->track.t_moved > ALIVE_S) {
            return; /* never switch over a silent link */
        }
        if (policy_internal_emit(out, s, POLICY_ACTION_START_POSTCOPY, 0,
                                 "%s: post-copy", why) != NULL) {
            st->postcopy_requested = true;
            ad->postcopy_wait = 0;
        }
        return;
    }
    if (policy_internal_preflight_vetoes_abort(cfg, st)) {
        return; /* measured: it may still converge within --downtime */
    }
    if (ad->throttle_released) {
        size_t n = strlen(why);

        snprintf(why + n, sizeof(why) - n, " (throttle at %d %%)",
                 s->throttle_percent);
    }
    if (cfg->timeout_action == POLICY_TIMEOUT_FORCE_COMPLETE) {
        if (!st->paused &&
            policy_internal_emit(out, s, POLICY_ACTION_PAUSE, 0,
                                 "%s: pause the guest so the rest drains",
                                 why) != NULL) {
            st->paused = true;
        }
        return;
    }
    policy_internal_cancel(st, out, s, "%s: abort", why);
}

/* One pass boundary: leave alone, give the downtime, or escalate. */
static void
decide(const struct policy_config *cfg, struct policy_state *st,
       const struct policy_sample *s, struct policy_output *out)
{
    struct policy_adaptive_state *ad = &st->adaptive;
    struct evidence ev = {0};

    if (st->postcopy_requested && !ad->postcopy_failed) {
        /* Still pre-copy passes after start-postcopy: it did not take. */
        if (++ad->postcopy_wait < POSTCOPY_WAIT_MAX) {
            return;
        }
        ad->postcopy_failed = true;
    }
    if (!gather(cfg, st, s, &ev)) {
        return;
    }
    if (!ev.stalled) {
        /* A pass in between keeps the evidence, but adds none. */
        if (ev.converging || !ev.have_prev ||
            ev.need_s * 1000.0 <= (double)cfg->downtime_ms) {
            ad->evidence = 0;
        }
        if (ad->throttle_released) {
            (void)throttle_exhausted(ad, s);
        }
        return;
    }
    if (ev.need_s * 1000.0 <= (double)cfg->downtime_ms) {
        ad->evidence = 0;
        give_downtime(cfg, st, s, out, &ev);
        return;
    }
    escalate(cfg, st, s, out, &ev);
}

/*
 * Backstops, every sample: a dead stream, passes that never beat the
 * best, and the completion cap.  true when an action ended the policy's
 * work.
 */
static bool
backstops(const struct policy_config *cfg, struct policy_state *st,
          const struct policy_sample *s, struct policy_output *out)
{
    const struct policy_track *tr = &st->track;
    double p = cfg->progress_timeout_s;
    double elapsed = policy_internal_elapsed(tr, s);
    bool pending_postcopy =
        st->postcopy_requested && !st->adaptive.postcopy_failed;
    char why[POLICY_REASON_MAX];
    double cap;

    if (p > 0 && s->t - tr->t_moved > p) {
        /* Nothing to force over a dead link: cancel, whatever the action. */
        policy_internal_cancel(st, out, s,
                               "no bytes moved for %.0f s (transferred "
                               "%.0f MB) > progress timeout %.0f s: "
                               "stream dead or frozen: abort",
                               s->t - tr->t_moved,
                               policy_internal_mb((double)tr->moved_prev), p);
        return true;
    }
    if (st->paused || pending_postcopy) {
        return st->paused;
    }
    if (p > 0 && s->t - tr->t_low > p &&
        tr->passes_since_low >= EVIDENCE_NEEDED) {
        snprintf(why, sizeof(why),
                 "%u passes in %.0f s, none below the best %.0f MB left "
                 "> progress timeout %.0f s",
                 tr->passes_since_low, s->t - tr->t_low,
                 policy_internal_mb((double)tr->best_sync_rem), p);
        policy_internal_timeout_action(cfg, st, s, out, why);
        return true;
    }
    cap = cfg->completion_timeout_s * policy_internal_data_gb(cfg, s);
    if (cap > 0 && elapsed > cap) {
        snprintf(why, sizeof(why),
                 "elapsed %.0f s > completion cap %.0f s (%g s/GiB x "
                 "data %.1f GiB)",
                 elapsed, cap, cfg->completion_timeout_s,
                 policy_internal_data_gb(cfg, s));
        policy_internal_timeout_action(cfg, st, s, out, why);
        return true;
    }
    return false;
}

void
policy_internal_adaptive(const struct policy_config *cfg,
                         struct policy_state *st, const struct policy_sample *s,
                         struct policy_output *out)
{
    const struct policy_track *tr = &st->track;

    /* Post-copy is never aborted, and there is nothing left to tune. */
    if (st->cancelled || !policy_internal_running(s->status)) {
        return;
    }
    if (backstops(cfg, st, s, out) || st->cancelled) {
        return;
    }
    if (policy_internal_disk_busy(s)) {
        /* The disk copy shares the link: passes now compare with nothing. */
        st->adaptive.clean_sync = tr->sync + 1;
        st->adaptive.evidence = 0;
        return;
    }
    if (tr->boundary) {
        decide(cfg, st, s, out);
    }
}
