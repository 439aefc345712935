/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: what a series of samples says: bandwidth, passes, low watermarks. */
#include <string.h>

#include "policy/internal.h"

/* The shortest window over which bytes moved are turned into a rate. */
#define BW_WINDOW_S 0.25
/* A pass shorter than this gives a noisy average. */
#define PASS_MIN_S 0.2

void
policy_internal_track_init(struct policy_track *tr)
{
    memset(tr, 0, sizeof(*tr));
    tr->low_total = UINT64_MAX;
    tr->low_disk = UINT64_MAX;
    tr->low_post = UINT64_MAX;
    tr->best_sync_rem = UINT64_MAX;
}

double
policy_internal_elapsed(const struct policy_track *tr,
                        const struct policy_sample *s)
{
    return tr->started ? s->t - tr->t0 : 0;
}

double
policy_internal_bandwidth(const struct policy_track *tr,
                          const struct policy_sample *s)
{
    if (tr->pass_bandwidth > 0 && tr->pass_moving_s >= PASS_MIN_S) {
        return tr->pass_bandwidth;
    }
    if (tr->bw_valid && tr->bandwidth > 0) {
        return tr->bandwidth;
    }
    return s->ram_mbps * 1e6 / 8;
}

double
policy_internal_pass_rate(const struct policy_track *tr, double t,
                          double *moving_s)
{
    *moving_s = t - tr->t_boundary - tr->still_pass_s;
    if (!(*moving_s > 0) || tr->moved_prev < tr->moved_boundary) {
        return 0;
    }
    return (double)(tr->moved_prev - tr->moved_boundary) / *moving_s;
}

static void
new_low(struct policy_track *tr, double t)
{
    tr->t_low = t;
    tr->passes_since_low = 0;
}

/*
 * The time the stream stood still (a link down, TCP waiting to resend) is
 * not the link's: rates are bytes over the time bytes moved, so a pass
 * that held an outage does not make the link look slow.
 */
static void
track_bandwidth(struct policy_track *tr, const struct policy_sample *s,
                uint64_t moved)
{
    double dt = s->t - tr->bw_ref_t - tr->still_window_s;

    if (moved < tr->bw_ref_bytes) {
        /* Counters went back (a new migration): start over. */
        tr->bw_ref_t = s->t;
        tr->bw_ref_bytes = moved;
        tr->still_window_s = 0;
        return;
    }
    if (dt >= BW_WINDOW_S) {
        tr->bandwidth = (double)(moved - tr->bw_ref_bytes) / dt;
        tr->bw_valid = true;
        tr->bw_ref_t = s->t;
        tr->bw_ref_bytes = moved;
        tr->still_window_s = 0;
    }
}

/*
 * What the last pass dirtied: RAM remaining at the new pass, less the
 * tail QEMU had not sent yet when it synced (it syncs as soon as its
 * estimate falls below bandwidth x downtime limit, so the tail is at most
 * that).  The tail is what the previous sample had left, less what was
 * sent since.  See docs/policy.md, "like with like".
 */
static uint64_t
pass_dirt(const struct policy_track *tr, const struct policy_sample *s)
{
    uint64_t sent = s->ram_transferred >= tr->ram_xfer_prev
                        ? s->ram_transferred - tr->ram_xfer_prev
                        : 0;
    uint64_t tail = tr->ram_rem_prev > sent ? tr->ram_rem_prev - sent : 0;
    double threshold =
        tr->pass_bandwidth * (double)s->downtime_limit_ms / 1000.0;

    if (s->downtime_limit_ms != 0 && (double)tail > threshold) {
        tail = policy_internal_u64(threshold);
    }
    if (tail > s->ram_remaining) {
        tail = s->ram_remaining;
    }
    return s->ram_remaining - tail;
}

/* A new pass began: RAM remaining now is what the last one left. */
static void
track_boundary(struct policy_track *tr, const struct policy_sample *s,
               uint64_t moved, uint64_t sync)
{
    double dt = s->t - tr->t_boundary;
    size_t i;
    double rate = policy_internal_pass_rate(tr, s->t, &tr->pass_moving_s);

    tr->boundary = true;
    tr->pass_s = dt;
    tr->still_pass_s = 0;
    if (tr->pass_moving_s > 0 && moved >= tr->moved_boundary) {
        tr->pass_bandwidth = rate;
    }
    for (i = 2; i > 0; i--) {
        tr->rem_at_sync[i] = tr->rem_at_sync[i - 1];
        tr->dirt_at_sync[i] = tr->dirt_at_sync[i - 1];
        tr->sync_at[i] = tr->sync_at[i - 1];
    }
    tr->rem_at_sync[0] = s->ram_remaining;
    tr->dirt_at_sync[0] = pass_dirt(tr, s);
    tr->sync_at[0] = sync;
    if (tr->n_rem < 3) {
        tr->n_rem++;
    }
    tr->t_boundary = s->t;
    tr->moved_boundary = moved;
    tr->sync = sync;
    tr->passes_since_low++;
    if (s->ram_remaining < tr->best_sync_rem) {
        tr->best_sync_rem = s->ram_remaining;
        new_low(tr, s->t);
    }
}

static void
track_watermarks(struct policy_track *tr, const struct policy_sample *s)
{
    uint64_t total = s->ram_remaining + s->disk_remaining;

    if (migration_status_is_postcopy(s->status)) {
        if (total < tr->low_post) {
            tr->low_post = total;
            new_low(tr, s->t);
        }
        return;
    }
    /* In the first pass RAM remaining only falls: every fall is progress. */
    if (tr->n_rem == 0 && total < tr->low_total) {
        tr->low_total = total;
        new_low(tr, s->t);
    }
    /* A disk copy makes progress whatever RAM does. */
    if (s->disk_total > 0 && s->disk_remaining < tr->low_disk) {
        tr->low_disk = s->disk_remaining;
        new_low(tr, s->t);
    }
}

void
policy_internal_track(struct policy_track *tr, const struct policy_sample *s)
{
    uint64_t moved = s->ram_transferred + s->disk_transferred;
    uint64_t sync;
    bool running = policy_internal_running(s->status) ||
                   migration_status_is_postcopy(s->status);

    tr->boundary = false;
    if (!tr->started) {
        tr->started = true;
        tr->t0 = s->t;
        tr->t_moved = s->t;
        tr->t_low = s->t;
        tr->moved_prev = moved;
        tr->bw_ref_t = s->t;
        tr->bw_ref_bytes = moved;
        tr->t_prev = s->t;
    }
    if (moved > tr->moved_prev) {
        tr->t_moved = s->t;
    } else if (running && tr->have_base && moved > 0) {
        /* The stream stood still since the last sample. */
        tr->still_window_s += s->t - tr->t_prev;
        tr->still_pass_s += s->t - tr->t_prev;
    }
    tr->t_prev = s->t;
    tr->moved_prev = moved;
    track_bandwidth(tr, s, moved);
    if (!running) {
        return;
    }
    sync = s->ram_dirty_sync_count;
    if (sync == 0 && s->pass_event) {
        /* No dirty-sync-count from this QEMU: count the events. */
        sync = tr->sync + 1;
    } else if (sync == 0) {
        sync = tr->sync;
    }
    if (!tr->have_base) {
        tr->have_base = true;
        tr->sync = sync;
        tr->t_boundary = s->t;
        tr->moved_boundary = moved;
        tr->still_pass_s = 0;
        tr->t_low = s->t;
        /* Time spent in setup is not time without progress. */
        tr->t_moved = s->t;
    } else if (sync > tr->sync && !migration_status_is_postcopy(s->status)) {
        track_boundary(tr, s, moved, sync);
    }
    track_watermarks(tr, s);
    tr->ram_rem_prev = s->ram_remaining;
    tr->ram_xfer_prev = s->ram_transferred;
}
