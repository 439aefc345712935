/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: moving model time, phase by phase, as the migration thread. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>

/* Anything closer than this (seconds) counts as the same instant. */
#define TIME_EPS 1e-9

static int64_t
ms_between(double from, double to)
{
    return (int64_t)floor(to * 1000 + 1e-6) -
           (int64_t)floor(from * 1000 + 1e-6);
}

/*
 * migration_iteration_finish() for failed and cancelled: throttling
 * stops; a guest the migration stopped runs again.
 */
void
fq_step_end(struct fq_model *m, enum fq_status status)
{
    m->throttle = 0;
    m->phase = FQ_PHASE_IDLE;
    if (status == FQ_STATUS_FAILED) {
        fq_model_push_status(m, status);
    }
    if (m->vm_was_running) {
        if (m->runstate != FQ_RUN_RUNNING) {
            m->runstate = FQ_RUN_RUNNING;
            fq_model_push_event(m, FQ_EVENT_RESUME);
        }
    } else if (m->runstate == FQ_RUN_FINISH_MIGRATE) {
        m->runstate = FQ_RUN_POSTMIGRATE;
    }
    if (status != FQ_STATUS_FAILED) {
        fq_model_push_status(m, status);
    }
}

static void
complete(struct fq_model *m)
{
    int64_t transfer_ms;

    fq_model_push_status(m, FQ_STATUS_COMPLETED);
    /* migration_calculate_complete() */
    m->total_ms = ms_between(m->start_time, m->now);
    if (!m->postcopy_started) {
        m->downtime_ms = ms_between(m->downtime_start, m->now);
    }
    transfer_ms = m->total_ms - m->setup_ms;
    if (transfer_ms > 0) {
        m->mbps = fq_stream_bytes(m) * 8.0 / (double)transfer_ms / 1000;
    }
    m->runstate = FQ_RUN_POSTMIGRATE;
    m->throttle = 0;
    m->phase = FQ_PHASE_IDLE;
}

/* Stops the guest for the switchover: vm_stop_force_state(). */
static void
stop_guest(struct fq_model *m)
{
    if (m->runstate == FQ_RUN_RUNNING) {
        fq_model_push_event(m, FQ_EVENT_STOP);
    }
    m->runstate = FQ_RUN_FINISH_MIGRATE;
}

/* The end of setup: ram_save_setup()'s first sync, then active. */
static void
setup_done(struct fq_model *m)
{
    m->setup_ms = (int64_t)floor(m->cfg.setup_ms);
    m->dirty_zero = m->pages_zero;
    m->dirty_static = m->pages_static;
    m->dirty_ws = m->pages_ws;
    m->log_ws = 0;
    m->period_start = m->now;
    fq_bitmap_sync(m);
    fq_model_push_status(m, FQ_STATUS_ACTIVE);
    m->phase = FQ_PHASE_ITERATE;
    m->need_check = true;
}

/* The guest stopped and the last dirty data goes out, unlimited. */
void
fq_step_switchover(struct fq_model *m)
{
    fq_bitmap_sync(m);
    m->phase = FQ_PHASE_SWITCHOVER;
    m->phase_end = -1;
}

/* postcopy_start() after the guest stopped: the last sync, device state. */
void
fq_step_postcopy(struct fq_model *m)
{
    double disk = m->disk_dirty;

    fq_bitmap_sync(m);
    /* block migration cannot postcopy: its last blocks go now */
    m->other_bytes += disk;
    m->disk_dirty = 0;
    m->phase = FQ_PHASE_POSTCOPY_SWITCH;
    m->phase_end =
        m->now + disk / m->cfg.link_bandwidth + m->cfg.switchover_ms / 1000;
}

/*
 * QEMU 10.0 ("migration: Always set DEVICE state"): once the guest has
 * stopped, pre-copy and post-copy switch over in status 'device', also
 * without pause-before-switchover; post-copy becomes 'postcopy-active'
 * only when the device state is out.  7.2 has 'device' only after
 * pre-switchover, and 'postcopy-active' before the STOP.
 */
static void
device_state_10(struct fq_model *m)
{
    if (m->cfg.device_switchover) {
        fq_model_push_status(m, FQ_STATUS_DEVICE);
    }
}

/* migration_completion() for pre-copy. */
static void
begin_completion(struct fq_model *m)
{
    m->downtime_start = m->now;
    m->vm_was_running = m->runstate == FQ_RUN_RUNNING;
    stop_guest(m);
    if (m->caps.pause_before_switchover) {
        fq_model_push_status(m, FQ_STATUS_PRE_SWITCHOVER);
        m->phase = FQ_PHASE_PAUSED;
        return;
    }
    device_state_10(m);
    fq_step_switchover(m);
}

/* postcopy_start() up to the pause. */
static void
begin_postcopy(struct fq_model *m)
{
    m->postcopy_requested = false;
    m->postcopy_started = true;
    if (!m->caps.pause_before_switchover && !m->cfg.device_switchover) {
        fq_model_push_status(m, FQ_STATUS_POSTCOPY_ACTIVE);
    }
    m->downtime_start = m->now;
    stop_guest(m);
    if (m->caps.pause_before_switchover) {
        fq_model_push_status(m, FQ_STATUS_PRE_SWITCHOVER);
        m->phase = FQ_PHASE_PAUSED;
        return;
    }
    device_state_10(m);
    fq_step_postcopy(m);
}

/*
 * migration_iteration_run(): QEMU syncs the bitmap when RAM left to send
 * falls under the threshold, then switches over when everything pending
 * does.  Returns true when the phase changed.
 */
static bool
pending_check(struct fq_model *m)
{
    double ps = (double)m->cfg.page_size;
    double thr = floor(m->threshold);
    double ram = fq_ram_dirty_pages(m) * ps;
    double pre = 0;
    double pending;

    if (ram < thr) {
        fq_bitmap_sync(m);
        ram = fq_ram_dirty_pages(m) * ps;
    }
    if (m->blk) {
        double disk = m->disk_dirty;

        /* block_save_pending(): at least a block during the bulk phase */
        if (disk <= thr && !m->bulk_completed) {
            disk = thr + FQ_BLOCK_BYTES;
        }
        pre += disk;
    }
    pending = pre + ram;
    if (!m->caps.postcopy_ram) {
        pre += ram;
    }
    if (pending >= 1 && pending >= thr) {
        if (m->postcopy_requested && pre <= thr) {
            begin_postcopy(m);
            return true;
        }
        return false;
    }
    begin_completion(m);
    return true;
}

/* One stretch of pre-copy, up to the next window edge or the end. */
static void
iterate(struct fq_model *m, double end)
{
    double next;
    double dt;
    double rate;
    double used;

    if (!m->stalled && m->now >= m->win_start + FQ_WINDOW_S - TIME_EPS) {
        fq_window_update(m);
        m->need_check = true;
    }
    if (m->need_check && !m->stalled) {
        m->need_check = false;
        if (pending_check(m)) {
            return;
        }
    }
    next = end;
    if (!m->stalled && m->win_start + FQ_WINDOW_S < next) {
        next = m->win_start + FQ_WINDOW_S;
    }
    dt = next - m->now;
    rate = fq_send_rate(m);
    used = rate > 0 ? fq_send(m, dt, rate) : dt;
    if (used < dt - TIME_EPS) {
        /* nothing left in the bitmap: QEMU loops to the check at once */
        m->need_check = true;
    } else {
        used = dt;
    }
    fq_guest_run(m, used);
    m->now = used >= dt ? next : m->now + used;
}

/* Draining at full speed with the guest stopped, then device state. */
static void
switchover(struct fq_model *m, double end)
{
    double rate;
    double used;

    if (m->phase_end < 0) {
        rate = fq_send_rate(m);
        used = rate > 0 ? fq_send(m, end - m->now, rate) : end - m->now;
        if (used < end - m->now - TIME_EPS) {
            m->now += used;
            m->phase_end = m->now + m->cfg.switchover_ms / 1000;
        } else {
            m->now = end;
        }
        return;
    }
    if (m->phase_end <= end) {
        m->now = m->phase_end;
        complete(m);
        return;
    }
    m->now = end;
}

/* The guest runs on the destination; what is left drains. */
static void
postcopy(struct fq_model *m, double end)
{
    double rate = fq_send_rate(m);
    double dt = end - m->now;
    double used;
    double before = m->dirty_ws;

    used = rate > 0 ? fq_send(m, dt, rate) : dt;
    fq_cost_postcopy(m, used, false);
    /* the destination's guest faults on the pages it still lacks */
    if (m->pages_ws > 0) {
        m->postcopy_requests += m->dirty_rate * used * before / m->pages_ws;
    }
    if (used < dt - TIME_EPS) {
        m->now += used;
        complete(m);
        return;
    }
    m->now = end;
}

/* Runs a fixed-length phase (setup, device state, cancelling) to end. */
static bool
wait_phase(struct fq_model *m, double end)
{
    if (m->phase_end > end) {
        fq_guest_run(m, end - m->now);
        m->now = end;
        return false;
    }
    fq_guest_run(m, m->phase_end - m->now);
    m->now = m->phase_end;
    return true;
}

void
fq_model_advance(struct fq_model *m, double dt)
{
    double end;

    if (!(dt > 0)) {
        return;
    }
    end = m->now + dt;
    while (m->now < end - TIME_EPS) {
        switch (m->phase) {
        case FQ_PHASE_IDLE:
        case FQ_PHASE_PAUSED:
            fq_guest_run(m, end - m->now);
            m->now = end;
            break;
        case FQ_PHASE_SETUP:
            if (wait_phase(m, end)) {
                setup_done(m);
            }
            break;
        case FQ_PHASE_ITERATE:
            iterate(m, end);
            break;
        case FQ_PHASE_SWITCHOVER:
            switchover(m, end);
            break;
        case FQ_PHASE_POSTCOPY_SWITCH:
            if (wait_phase(m, end)) {
                m->downtime_ms = ms_between(m->downtime_start, m->now);
                m->phase = FQ_PHASE_POSTCOPY;
                if (m->cfg.device_switchover) {
                    fq_model_push_status(m, FQ_STATUS_POSTCOPY_ACTIVE);
                }
            }
            break;
        case FQ_PHASE_POSTCOPY:
            postcopy(m, end);
            break;
        case FQ_PHASE_POSTCOPY_PAUSED:
        case FQ_PHASE_POSTCOPY_RECOVER:
            fq_step_postcopy_paused(m, end);
            break;
        case FQ_PHASE_CANCELLING:
            if (wait_phase(m, end)) {
                fq_step_end(m, FQ_STATUS_CANCELLED);
            }
            break;
        }
    }
    m->now = end;
    fq_dirty_settle(m);
}

void
fq_step_begin_active(struct fq_model *m)
{
    m->phase = FQ_PHASE_SETUP;
    m->phase_end = m->now + m->cfg.setup_ms / 1000;
}
