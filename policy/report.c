/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: the progress report every sample carries, whatever the policy. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/* Combined percent stays below this until QEMU says completed. */
#define PERCENT_CAP 99.0
/* A pass that leaves more than this share of the last is not converging. */
#define CONVERGING_RATIO 0.9
/* Passes counted into an ETA, at most. */
#define ETA_MAX_PASSES 100

static double
share_done(uint64_t total, uint64_t remaining)
{
    if (total == 0) {
        return 0;
    }
    if (remaining > total) {
        remaining = total;
    }
    return 100.0 * (double)(total - remaining) / (double)total;
}

static void unknown_eta(struct policy_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
unknown_eta(struct policy_report *r, const char *fmt, ...)
{
    va_list ap;

    r->eta_s = -1;
    va_start(ap, fmt);
    vsnprintf(r->eta_note, sizeof(r->eta_note), fmt, ap);
    va_end(ap);
}

/*
 * Pre-copy ETA: the rest of this pass, then passes shrinking by rho each
 * until one fits under bandwidth x downtime limit, then that last one.
 */
static void
precopy_eta(const struct policy_track *tr, const struct policy_sample *s,
            double bw, struct policy_report *r)
{
    double rest = (double)s->ram_remaining + (double)s->disk_remaining;
    double threshold = bw * (double)s->downtime_limit_ms / 1000.0;
    double rho, next;
    int n;

    if (tr->n_rem == 0 || policy_internal_disk_busy(s)) {
        /* First pass (or disk bulk): what is left of it, then more. */
        r->eta_s = rest / bw;
        return;
    }
    if (tr->n_rem >= 2 && tr->rem_at_sync[1] > 0) {
        rho = (double)tr->rem_at_sync[0] / (double)tr->rem_at_sync[1];
    } else {
        rho = policy_internal_dirty_rate(s) / bw;
    }
    if (rho >= CONVERGING_RATIO) {
        if (tr->n_rem >= 2) {
            unknown_eta(r,
                        "not converging: %.0f MB left at pass %llu, "
                        "%.0f MB at pass %llu",
                        policy_internal_mb((double)tr->rem_at_sync[0]),
                        (unsigned long long)tr->sync_at[0],
                        policy_internal_mb((double)tr->rem_at_sync[1]),
                        (unsigned long long)tr->sync_at[1]);
        } else {
            unknown_eta(r,
                        "not converging: dirty rate %.0f MB/s, "
                        "bandwidth %.0f MB/s",
                        policy_internal_mb(policy_internal_dirty_rate(s)),
                        policy_internal_mb(bw));
        }
        return;
    }
    next = (double)tr->rem_at_sync[0] * rho;
    for (n = 0; n < ETA_MAX_PASSES && next > threshold; n++) {
        rest += next;
        next *= rho;
    }
    r->eta_s = (rest + next) / bw;
}

static void
fill_eta(const struct policy_state *st, const struct policy_sample *s,
         struct policy_report *r)
{
    const struct policy_track *tr = &st->track;
    double bw = policy_internal_bandwidth(tr, s);

    r->eta_s = -1;
    r->eta_note[0] = '\0';
    switch (s->status) {
    case MIGRATION_STATUS_COMPLETED:
        r->eta_s = 0;
        return;
    case MIGRATION_STATUS_FAILED:
        unknown_eta(r, "migration failed");
        return;
    case MIGRATION_STATUS_CANCELLED:
    case MIGRATION_STATUS_CANCELLING:
        unknown_eta(r, "migration cancelled");
        return;
    case MIGRATION_STATUS_PRE_SWITCHOVER:
    case MIGRATION_STATUS_DEVICE:
        r->eta_s = 0; /* switching over now */
        return;
    case MIGRATION_STATUS_POSTCOPY_PAUSED:
    case MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP:
    case MIGRATION_STATUS_POSTCOPY_RECOVER:
        unknown_eta(r, "post-copy interrupted");
        return;
    case MIGRATION_STATUS_ACTIVE:
    case MIGRATION_STATUS_POSTCOPY_ACTIVE:
        break;
    default:
        unknown_eta(r, "migration not running yet");
        return;
    }
    if (st->cancelled) {
        unknown_eta(r, "cancel requested");
        return;
    }
    if (!(bw > 0)) {
        unknown_eta(r, "no bandwidth measured yet");
        return;
    }
    if (s->status == MIGRATION_STATUS_POSTCOPY_ACTIVE || st->paused) {
        /* Nothing is dirtied any more: what is left, once. */
        r->eta_s = ((double)s->ram_remaining + (double)s->disk_remaining) / bw;
        return;
    }
    precopy_eta(tr, s, bw, r);
}

void
policy_internal_report(const struct policy_config *cfg, struct policy_state *st,
                       const struct policy_sample *s, struct policy_report *r)
{
    struct policy_track *tr = &st->track;
    double p;

    (void)cfg;
    memset(r, 0, sizeof(*r));
    r->status = s->status;
    r->elapsed_s = policy_internal_elapsed(tr, s);
    r->memory_total = s->ram_total;
    r->memory_remaining = s->ram_remaining;
    r->memory_transferred = s->ram_transferred;
    r->disk_total = s->disk_total;
    r->disk_remaining = s->disk_remaining;
    r->disk_transferred = s->disk_transferred;
    r->downtime_limit_ms = s->downtime_limit_ms;
    r->expected_downtime_ms = s->expected_downtime_ms;
    r->throttle_percent = s->throttle_percent;
    r->dirty_rate = policy_internal_u64(policy_internal_dirty_rate(s));
    r->bandwidth = policy_internal_u64(policy_internal_bandwidth(tr, s));
    r->iteration =
        s->ram_dirty_sync_count != 0 ? s->ram_dirty_sync_count : tr->sync;
    r->since_low_watermark_s = tr->started ? s->t - tr->t_low : 0;

    if (s->status == MIGRATION_STATUS_COMPLETED) {
        r->memory_percent = 100;
        r->disk_percent = 100;
        tr->percent = 100;
    } else {
        r->memory_percent = share_done(s->ram_total, s->ram_remaining);
        r->disk_percent = s->disk_total == 0
                              ? 100
                              : share_done(s->disk_total, s->disk_remaining);
        if (policy_internal_running(s->status) ||
            migration_status_is_postcopy(s->status)) {
            p = share_done(s->ram_total + s->disk_total,
                           s->ram_remaining + s->disk_remaining);
            p = fmin(p, PERCENT_CAP);
            if (p > tr->percent) {
                tr->percent = p;
            }
        }
    }
    r->percent = tr->percent;
    fill_eta(st, s, r);
}
