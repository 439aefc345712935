/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: pages on the wire, the guest dirtying them, bitmap syncs. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>

double
fq_ram_dirty_pages(const struct fq_model *m)
{
    return m->dirty_zero + m->dirty_static + m->dirty_ws;
}

/* migration_total_bytes(): everything written to the stream. */
double
fq_stream_bytes(const struct fq_model *m)
{
    return m->ram_bytes + m->other_bytes;
}

/* ram_get_total_transferred_pages() */
double
fq_sent_pages(const struct fq_model *m)
{
    return m->duplicate + m->normal;
}

/* Bytes/s the stream may carry now: the rate limit, or the link. */
double
fq_send_rate(const struct fq_model *m)
{
    double rate = m->cfg.link_bandwidth;
    uint64_t limit = 0;

    if (m->stalled) {
        return 0;
    }
    rate = fq_channels_rate(m, rate);
    switch (m->phase) {
    case FQ_PHASE_ITERATE:
        limit = m->params.max_bandwidth;
        break;
    case FQ_PHASE_POSTCOPY:
        limit = m->params.max_postcopy_bandwidth;
        break;
    default:
        /* QEMU lifts the rate limit for the final stage. */
        break;
    }
    if (limit != 0 && (double)limit < rate) {
        rate = (double)limit;
    }
    return rate;
}

/* ram_transferred_add(): which phase the bytes are booked to. */
static void
book_ram_bytes(struct fq_model *m, double bytes)
{
    if (m->caps.multifd && !m->postcopy_started) {
        m->multifd_bytes += bytes; /* the channels carry the pages */
    } else if (m->runstate == FQ_RUN_RUNNING) {
        m->precopy_bytes += bytes;
    } else if (m->postcopy_started) {
        m->postcopy_bytes += bytes;
    } else {
        m->downtime_bytes += bytes;
    }
    m->ram_bytes += bytes;
}

/* Disk blocks go first: the bulk copy, then blocks written since. */
static double
send_disk(struct fq_model *m, double dt, double rate)
{
    double used = 0;
    double bytes;

    if (!m->blk) {
        return 0;
    }
    if (!m->bulk_completed) {
        bytes = fmin(m->disk_total - m->disk_bulk_done, dt * rate);
        m->disk_bulk_done += bytes;
        m->other_bytes += bytes;
        used += bytes / rate;
        if (m->disk_total - m->disk_bulk_done <= FQ_EPS) {
            m->disk_bulk_done = m->disk_total;
            m->bulk_completed = true;
        } else {
            return used;
        }
    }
    bytes = fmin(m->disk_dirty, (dt - used) * rate);
    m->disk_dirty -= bytes;
    m->other_bytes += bytes;
    if (m->disk_dirty <= FQ_EPS) {
        m->disk_dirty = 0;
    }
    return used + bytes / rate;
}

/*
 * Sends, for up to dt seconds, the given shares of the dirty zero pages
 * and of the dirty normal pages, mixed evenly.  Returns the seconds used.
 */
static double
send_pages(struct fq_model *m, double dt, double rate, bool zero, bool norm)
{
    double ps = (double)m->cfg.page_size;
    double nz = zero ? m->dirty_zero : 0;
    double nn = norm ? m->dirty_static + m->dirty_ws : 0;
    double n = nz + nn;
    double t_zero;
    double t_norm;
    double t_page;
    double k;
    double f;

    if (n <= FQ_EPS || dt <= 0) {
        return 0;
    }
    t_zero = fmax(FQ_ZERO_PAGE_BYTES / rate, ps / m->cfg.zero_scan_rate);
    t_norm = (ps + FQ_PAGE_HEADER_BYTES) / rate;
    t_page = (nz * t_zero + nn * t_norm) / n;
    k = fmin(dt / t_page, n);
    f = k / n;
    m->duplicate += nz * f;
    m->normal += nn * f;
    book_ram_bytes(m, nz * f * FQ_ZERO_PAGE_BYTES +
                          nn * f * (ps + FQ_PAGE_HEADER_BYTES));
    if (k >= n) {
        f = 1;
    }
    if (zero) {
        m->dirty_zero -= m->dirty_zero * f;
    }
    if (norm) {
        m->dirty_static -= m->dirty_static * f;
        m->dirty_ws -= m->dirty_ws * f;
    }
    return k * t_page;
}

/*
 * Sends for up to dt seconds at rate bytes/s and returns the seconds it
 * used: less than dt when there was nothing left to send.  Zero pages
 * cost 9 bytes (or the time to find them zero), others a page and a
 * header.  QEMU walks RAM in address order; with zero_pages_last the
 * zero pages lie above the data, as in the test guest, else they are
 * spread evenly among it.
 */
double
fq_send(struct fq_model *m, double dt, double rate)
{
    double used;

    if (rate <= 0 || dt <= 0) {
        return 0;
    }
    used = send_disk(m, dt, rate);
    if (m->blk && !m->bulk_completed) {
        return dt;
    }
    if (m->cfg.zero_pages_last) {
        used += send_pages(m, dt - used, rate, false, true);
        used += send_pages(m, dt - used, rate, true, false);
    } else {
        used += send_pages(m, dt - used, rate, true, true);
    }
    return used;
}

/* The guest runs for dt: its writes land in the dirty log. */
void
fq_guest_run(struct fq_model *m, double dt)
{
    double run;
    double written;

    if (m->runstate != FQ_RUN_RUNNING || dt <= 0) {
        return;
    }
    /* cpu_throttle: the vCPU runs (100 - throttle)% of the time */
    run = (100.0 - m->throttle) / 100.0;
    fq_cost_throttled(m, dt);
    /* A walker over the working set: distinct pages since the sync. */
    m->log_ws =
        fmin(m->pages_ws,
             m->log_ws + fmin(m->dirty_rate * run, fq_dirty_rate_now(m)) * dt);
    fq_dirty_guest_run(m, dt, run);

    if (m->blk && m->cfg.disk_dirty_rate > 0 && m->disk_total > 0) {
        double ws = (double)m->cfg.disk_working_set_bytes;
        double sent = m->disk_bulk_done / m->disk_total;

        /* Only blocks already copied need copying again. */
        written = m->cfg.disk_dirty_rate * run * dt * sent;
        if (ws > 0) {
            m->disk_dirty =
                fmin(ws, m->disk_dirty + written * (1 - m->disk_dirty / ws));
        }
    }
}

/*
 * migration_bitmap_sync(): the dirty log joins the migration bitmap.
 * A page already in the bitmap is not new; the share of logged pages
 * that are is taken as the share of the working set not already dirty.
 * Every second or more the period's rates are computed and auto-converge
 * decides whether to throttle.
 */
void
fq_bitmap_sync(struct fq_model *m)
{
    double fresh = 0;

    m->sync_count++;
    if (m->pages_ws > 0) {
        fresh = m->log_ws * (1 - m->dirty_ws / m->pages_ws);
    }
    m->dirty_ws += fresh;
    m->log_ws = 0;
    m->period_new_pages += fresh;
    m->remaining_at_sync = fq_ram_dirty_pages(m) * (double)m->cfg.page_size;

    /* QEMU compares whole milliseconds: end_time > last + 1000 */
    if (floor(m->now * 1000) > floor(m->period_start * 1000) + 1000) {
        double ms = floor(m->now * 1000) - floor(m->period_start * 1000);

        fq_throttle_trigger(m);
        m->dirty_pages_rate = (uint64_t)(m->period_new_pages * 1000 / ms);
        m->period_start = m->now;
        m->period_new_pages = 0;
        m->period_bytes_prev = m->ram_bytes;
    }
    fq_model_push_pass(m, m->sync_count);
}

/*
 * migration_update_counters(): at the end of each ~100 ms window the
 * measured bandwidth sets the switchover threshold, mbps, pages/s, and
 * (once a dirty rate is known) the expected downtime.
 */
void
fq_window_update(struct fq_model *m)
{
    double ms = (m->now - m->win_start) * 1000;
    double bytes = fq_stream_bytes(m) - m->win_bytes0;
    double pages = fq_sent_pages(m) - m->win_pages0;
    double bandwidth;

    if (ms <= 0) {
        return;
    }
    bandwidth = bytes / ms;
    if (m->params.avail_switchover_bandwidth != 0) {
        m->threshold = (double)m->params.avail_switchover_bandwidth / 1000 *
                       (double)m->params.downtime_limit;
    } else {
        m->threshold = bandwidth * (double)m->params.downtime_limit;
    }
    m->mbps = bytes * 8.0 / (ms / 1000.0) / 1000.0 / 1000.0;
    m->pages_per_second = pages / (ms / 1000.0);
    if (m->dirty_pages_rate != 0 && bytes > 10000) {
        double bw = bandwidth;

        if (m->params.avail_switchover_bandwidth != 0) {
            bw = (double)m->params.avail_switchover_bandwidth / 1000;
        }
        m->expected_downtime = (int64_t)(m->remaining_at_sync / bw);
    }
    m->win_start = m->now;
    m->win_bytes0 = fq_stream_bytes(m);
    m->win_pages0 = fq_sent_pages(m);
}
