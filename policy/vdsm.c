/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: --policy vdsm, oVirt VDSM's convergence schedule and legacy paths. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/* VDSM's migration_monitor_interval (lib/vdsm/common/config.py.in) */
#define VDSM_MONITOR_INTERVAL_S 10.0

/* VDSM's _legacy_convergence_schedule() puts its last value here too. */
#define LEGACY_LAST_LIMIT 42
/* DowntimeThread._WAIT_STEP_LIMIT */
#define TIMED_WAIT_MAX_S 60.0
/* migration_max_time_per_gib_mem, VDSM's legacy monitor */
#define TIMED_MAX_TIME_PER_GIB 64

/* lib/vdsm/virt/migration.py exponential_downtime(). */
uint64_t
policy_internal_vdsm_exponential(uint64_t downtime_ms, unsigned steps,
                                 unsigned i)
{
    double downtime = (double)downtime_ms;
    double offset, base;

    if (steps <= 1) {
        return downtime_ms;
    }
    offset = downtime / (double)steps;
    base = pow(downtime - offset, 1.0 / (double)(steps - 1));
    return policy_internal_u64(offset + pow(base, (double)i));
}

double
policy_internal_vdsm_wait(const struct policy_config *cfg, uint64_t ram_total)
{
    /* delay_per_gib * memSize(MiB) / (1024 * steps), at most 60 s */
    double mem_mib = floor((double)ram_total / POLICY_MIB);
    double wait = cfg->downtime_delay_s * mem_mib /
                  (1024.0 * (double)cfg->downtime_steps);

    return fmin(wait, TIMED_WAIT_MAX_S);
}

void
policy_internal_vdsm_init(const struct policy_config *cfg,
                          struct policy_vdsm_state *vs)
{
    struct policy_schedule *sc = &vs->schedule;
    unsigned steps = cfg->downtime_steps;
    unsigned i;
    uint64_t ms = cfg->downtime_ms;

    memset(vs, 0, sizeof(*vs));
    *sc = cfg->schedule;
    if (sc->n_entries > POLICY_MAX_SCHEDULE) {
        sc->n_entries = POLICY_MAX_SCHEDULE;
    }
    if (sc->mode != POLICY_SCHEDULE_LEGACY) {
        return;
    }
    /*
     * init: step 0; limits 1, 2, ...: steps 1 .. steps-1; the last value
     * again at limit 42; then abort.  Room is kept for those two.
     */
    if (steps > POLICY_MAX_SCHEDULE - 1) {
        steps = POLICY_MAX_SCHEDULE - 1;
    }
    sc->init_downtime_ms = policy_internal_vdsm_exponential(ms, steps, 0);
    sc->n_entries = 0;
    for (i = 1; i < steps; i++) {
        struct policy_schedule_entry *e = &sc->entries[sc->n_entries++];

        e->limit = (int)i;
        e->verb = POLICY_SCHEDULE_SET_DOWNTIME;
        e->downtime_ms = policy_internal_vdsm_exponential(ms, steps, i);
    }
    sc->entries[sc->n_entries].limit = LEGACY_LAST_LIMIT;
    sc->entries[sc->n_entries].verb = POLICY_SCHEDULE_SET_DOWNTIME;
    sc->entries[sc->n_entries].downtime_ms =
        policy_internal_vdsm_exponential(ms, steps, steps - 1);
    sc->n_entries++;
    sc->entries[sc->n_entries].limit = -1;
    sc->entries[sc->n_entries].verb = POLICY_SCHEDULE_ABORT;
    sc->entries[sc->n_entries].downtime_ms = 0;
    sc->n_entries++;
}

uint64_t
policy_internal_vdsm_init_downtime(const struct policy_config *cfg,
                                   const struct policy_vdsm_state *vs)
{
    if (vs->schedule.mode == POLICY_SCHEDULE_TIMED) {
        return policy_internal_vdsm_exponential(cfg->downtime_ms,
                                                cfg->downtime_steps, 0);
    }
    return vs->schedule.init_downtime_ms;
}

static void
fire_entry(const struct policy_config *cfg, struct policy_state *st,
           const struct policy_sample *s, struct policy_output *out,
           const struct policy_schedule_entry *e, uint64_t n)
{
    const char *name = st->vdsm.schedule.name;
    char limit[24];

    if (e->limit < 0) {
        snprintf(limit, sizeof(limit), "last");
    } else {
        snprintf(limit, sizeof(limit), "%d", e->limit);
    }
    switch (e->verb) {
    case POLICY_SCHEDULE_SET_DOWNTIME:
        if (policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME,
                                 e->downtime_ms,
                                 "iteration %llu > limit %s of schedule %s: "
                                 "downtime %llu ms",
                                 (unsigned long long)n, limit, name,
                                 (unsigned long long)e->downtime_ms) != NULL) {
            st->downtime_ms = e->downtime_ms;
        }
        break;
    case POLICY_SCHEDULE_POSTCOPY:
        if (!cfg->postcopy_permitted) {
            break; /* refused at validation; VDSM logs and goes on */
        }
        if (policy_internal_emit(out, s, POLICY_ACTION_START_POSTCOPY, 0,
                                 "iteration %llu > limit %s of schedule %s: "
                                 "post-copy",
                                 (unsigned long long)n, limit, name) != NULL) {
            st->postcopy_requested = true;
        }
        break;
    case POLICY_SCHEDULE_ABORT:
        policy_internal_cancel(st, out, s,
                               "iteration %llu > limit %s of schedule %s: "
                               "abort (downtime %llu ms did not converge)",
                               (unsigned long long)n, limit, name,
                               (unsigned long long)s->downtime_limit_ms);
        break;
    }
}

/*
 * MonitorThread.monitor_migration(), which VDSM runs every
 * migration_monitor_interval (10 s): on a new iteration, n = iterations
 * since the first poll; the head entry fires when its limit < n; at most
 * one entry per poll.  Samples between polls are not looked at, as VDSM
 * does not see them: on a fast link that makes the schedule ~10 s a step.
 * Nothing once post-copy runs.
 */
static void
vdsm_schedule(const struct policy_config *cfg, struct policy_state *st,
              const struct policy_sample *s, struct policy_output *out)
{
    struct policy_vdsm_state *vs = &st->vdsm;
    uint64_t it = st->track.sync;
    const struct policy_schedule_entry *head;
    uint64_t n;

    if (!vs->have_initial) {
        vs->have_initial = true;
        vs->initial_iteration = it;
        vs->last_iteration = it;
        vs->t_poll = s->t;
        return;
    }
    if (s->t < vs->t_poll + VDSM_MONITOR_INTERVAL_S) {
        return; /* between VDSM's polls */
    }
    vs->t_poll = s->t;
    if (it <= vs->last_iteration) {
        return;
    }
    vs->last_iteration = it;
    n = it - vs->initial_iteration;
    if (vs->next >= vs->schedule.n_entries) {
        return;
    }
    head = &vs->schedule.entries[vs->next];
    /* limit -1 is always below n: it fires at the next new iteration. */
    if ((int64_t)head->limit < (int64_t)n) {
        vs->next++;
        fire_entry(cfg, st, s, out, head, n);
    }
}

/*
 * The pre-2019 legacy path: DowntimeThread started at the first new
 * iteration sets step 1 at once and each further step after a wait;
 * the legacy monitor aborts past 64 s per GiB of RAM, or when the data
 * remaining has had no new low for --progress-timeout seconds.
 */
static void
vdsm_timed(const struct policy_config *cfg, struct policy_state *st,
           const struct policy_sample *s, struct policy_output *out)
{
    struct policy_vdsm_state *vs = &st->vdsm;
    uint64_t mem_mib = s->ram_total >> 20;
    uint64_t max_time = (TIMED_MAX_TIME_PER_GIB * mem_mib + 1023) / 1024;
    double elapsed = policy_internal_elapsed(&st->track, s);
    uint64_t remaining = s->ram_remaining + s->disk_remaining;
    double wait = policy_internal_vdsm_wait(cfg, s->ram_total);
    unsigned due = 0;
    uint64_t ms;

    if (max_time > 0 && elapsed > (double)max_time) {
        policy_internal_cancel(st, out, s,
                               "elapsed %.0f s > legacy maximum %llu s "
                               "(64 s/GiB x RAM %.1f GiB): abort",
                               elapsed, (unsigned long long)max_time,
                               (double)s->ram_total / POLICY_GIB);
        return;
    }
    if (!vs->have_lowmark || vs->lowmark > remaining) {
        vs->have_lowmark = true;
        vs->lowmark = remaining;
        vs->t_progress = s->t;
    }
    if (!vs->have_initial) {
        vs->have_initial = true;
        vs->last_iteration = st->track.sync;
    } else if (st->track.sync > vs->last_iteration && !vs->thread_started) {
        vs->thread_started = true;
        vs->t_thread = s->t;
        vs->thread_step = 1;
    }
    if (vs->thread_started) {
        /* Step k (k >= 1) is due at t_thread + (k - 1) * wait. */
        while (vs->thread_step < cfg->downtime_steps &&
               s->t >= vs->t_thread + (vs->thread_step - 1) * wait) {
            due = vs->thread_step++;
        }
    }
    if (due > 0) {
        ms = policy_internal_vdsm_exponential(cfg->downtime_ms,
                                              cfg->downtime_steps, due);
        if (policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME, ms,
                                 "%.0f s after the first iteration, step %u "
                                 "of %u (one every %.0f s): downtime %llu ms",
                                 s->t - vs->t_thread, due,
                                 cfg->downtime_steps - 1, wait,
                                 (unsigned long long)ms) != NULL) {
            st->downtime_ms = ms;
        }
    }
    if (cfg->progress_timeout_s > 0 &&
        s->t - vs->t_progress > cfg->progress_timeout_s) {
        policy_internal_cancel(st, out, s,
                               "remaining %.0f MB, no new low since %.0f "
                               "MB %.0f s ago > progress timeout %.0f s: "
                               "abort",
                               policy_internal_mb((double)remaining),
                               policy_internal_mb((double)vs->lowmark),
                               s->t - vs->t_progress, cfg->progress_timeout_s);
    }
}

void
policy_internal_vdsm(const struct policy_config *cfg, struct policy_state *st,
                     const struct policy_sample *s, struct policy_output *out)
{
    if (st->cancelled || !policy_internal_running(s->status)) {
        return;
    }
    if (st->vdsm.schedule.mode == POLICY_SCHEDULE_TIMED) {
        vdsm_timed(cfg, st, s, out);
    } else {
        vdsm_schedule(cfg, st, s, out);
    }
}
