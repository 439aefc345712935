/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/monitor: migrate, then poll: every sample to the policy, and its
 * actions applied, in every phase that acts; and the cancel. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/* --- migrate ---------------------------------------------------------------
 */

static void
migrate_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL && err->kind == QMP_ERROR_COMMAND) {
        engine_finish(e, QM_EXIT_FAILED, "failed",
                      "QEMU refused the migration: %s", err->message);
        return;
    }
    e->migrate_sent = true;
    e->migrate_time = engine_now(e);
    if (err != NULL) {
        /*
         * The reply was lost, not refused: QEMU may well have started the
         * migration.  Treat it as a monitor lost mid-migration (one
         * reconnect, then follow or cancel it; else say how to find it).
         */
        e->migrate_reply_lost = true;
        ev_timer_again(e->loop, &e->poll_timer);
        engine_monitor_lost(e, e->src, err);
        return;
    }
    engine_enter(e, PHASE_MONITOR);
}

void
engine_enter_migrate(struct engine *e)
{
    engine_emit_start(e);
    engine_send(e, e->src,
                qemu_migrate(e->cfg.uri, e->cfg.disk == ENGINE_DISK_BLK),
                migrate_reply);
}

void
engine_enter_monitor(struct engine *e)
{
    ev_timer_again(e->loop, &e->poll_timer);
    if (e->cancel_requested) {
        e->cancel_requested = false;
        engine_begin_cancel(e, e->cancel_code, "%s", e->cancel_reason);
        return;
    }
    engine_poll(e);
}

void
engine_enter_postcopy(struct engine *e)
{
    e->postcopy_started = true;
    e->postcopy_since = engine_now(e);
}

void
engine_tell_action(struct engine *e, enum policy_action_kind kind,
                   uint64_t value, const char *fmt, ...)
{
    struct policy_action a;
    va_list ap;

    memset(&a, 0, sizeof(a));
    a.kind = kind;
    a.value = value;
    va_start(ap, fmt);
    vsnprintf(a.reason, sizeof(a.reason), fmt, ap);
    va_end(ap);
    engine_emit_action(e, engine_now(e), &a, false);
}

/* --- the levers, over QMP ------------------------------------------------- */

static void
action_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_note(e, 0, "warning: %s", err->message);
    }
}

static void
downtime_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    action_reply(e, ret, err);
    if (err != NULL) {
        levers_refused(&e->levers, POLICY_ACTION_SET_DOWNTIME);
    }
}

static void
bandwidth_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    action_reply(e, ret, err);
    if (err != NULL) {
        levers_refused(&e->levers, POLICY_ACTION_SET_BANDWIDTH);
    }
}

static void
lever_downtime(void *opaque, uint64_t ms)
{
    struct qemu_parameters p = {.set_downtime_limit = true,
                                .downtime_limit_ms = ms};

    engine_send(opaque, ((struct engine *)opaque)->src, qemu_set_parameters(&p),
                downtime_reply);
}

static void
lever_bandwidth(void *opaque, uint64_t bytes_per_s)
{
    struct engine *e = opaque;
    struct qemu_parameters p = {.set_max_bandwidth = true,
                                .max_bandwidth = bytes_per_s};

    if (engine_send(e, e->src, qemu_set_parameters(&p), bandwidth_reply) == 0) {
        disk_set_speed(e, bytes_per_s);
    }
}

static void
lever_auto_converge(void *opaque)
{
    struct engine *e = opaque;
    struct qemu_parameters p = {.set_throttle_trigger_threshold = true,
                                .throttle_trigger_threshold = 1};

    engine_send(e, e->src, qemu_set_parameters(&p), action_reply);
}

static void
dirty_limit_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    action_reply(e, ret, err);
    if (err != NULL) {
        levers_refused(&e->levers, POLICY_ACTION_DIRTY_LIMIT);
    }
}

/* Refused once QEMU's own limit is in service: the parameter then acts. */
static void
dirty_limit_now_reply(struct engine *e, json_t *ret,
                      const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_note(e, 1,
                    "set-vcpu-dirty-limit: %s (QEMU applies the new "
                    "vcpu-dirty-limit at its next check instead)",
                    err->message);
    }
}

/*
 * QEMU applies vcpu-dirty-limit when its throttle trigger fires (the
 * trigger released to 1 %: two dirty-rate periods, each a second or
 * more); set-vcpu-dirty-limit applies it at once, while QEMU's own is
 * not yet in service.
 */
static void
lever_dirty_limit(void *opaque, uint64_t mib_s)
{
    struct engine *e = opaque;
    struct qemu_parameters p = {.set_throttle_trigger_threshold = true,
                                .throttle_trigger_threshold = 1,
                                .vcpu_dirty_limit = mib_s};

    if (engine_send(e, e->src, qemu_set_parameters(&p), dirty_limit_reply) ==
        0) {
        engine_send(e, e->src, qemu_set_vcpu_dirty_limit(mib_s),
                    dirty_limit_now_reply);
    }
}

static void
lever_postcopy(void *opaque)
{
    struct engine *e = opaque;

    engine_send(e, e->src, qemu_migrate_start_postcopy(), action_reply);
}

static void
lever_pause(void *opaque)
{
    struct engine *e = opaque;

    engine_send(e, e->src, qemu_stop(), action_reply);
}

static void
lever_cancel(void *opaque, const char *reason)
{
    struct engine *e = opaque;

    e->cancel_by_policy = true;
    engine_begin_cancel(e, QM_EXIT_ABORTED, "%s", reason);
}

static void
lever_skipped(void *opaque, const char *why)
{
    engine_note(opaque, 0, "warning: %s", why);
}

static const struct levers_ops qmp_levers = {
    .set_downtime = lever_downtime,
    .set_bandwidth = lever_bandwidth,
    .auto_converge = lever_auto_converge,
    .start_postcopy = lever_postcopy,
    .pause = lever_pause,
    .cancel = lever_cancel,
    .dirty_limit = lever_dirty_limit,
    .skipped = lever_skipped,
};

/* --- samples -------------------------------------------------------------- */

/* One sample through the policy, into the record and out to the sinks. */
void
engine_take_sample(struct engine *e, const struct policy_sample *s,
                   struct policy_output *out)
{
    size_t i;

    e->last_sample = *s;
    e->have_sample = true;
    if (s->ram_transferred + s->disk_transferred > e->result.transferred) {
        e->result.transferred = s->ram_transferred + s->disk_transferred;
    }
    memset(out, 0, sizeof(*out));
    policy_step(&e->policy, &e->pstate, s, out);
    e->last_report = out->report;
    for (i = 0; i < e->n_sinks; i++) {
        if (e->sinks[i].sink->sample != NULL) {
            e->sinks[i].sink->sample(e, e->sinks[i].opaque, s->t, s,
                                     &out->report);
        }
    }
}

/*
 * The one path for a sample's actions, in every phase: applied where the
 * phase acts (migrate), told as advice (watch).  An action that moves the
 * phase on (a cancel) ends the rest.
 */
void
engine_apply_actions(struct engine *e, const struct policy_output *out,
                     double t)
{
    enum engine_phase phase = e->phase;
    size_t i;

    for (i = 0; i < out->n_actions; i++) {
        if (e->cfg.mode == ENGINE_WATCH) {
            engine_emit_action(e, t, &out->actions[i], true);
        } else if (e->cfg.mode == ENGINE_MIGRATE && e->phase == phase &&
                   phase_desc(phase)->acts) {
            engine_emit_action(e, engine_now(e), &out->actions[i], false);
            levers_apply(&e->levers, &qmp_levers, e, &out->actions[i]);
        }
    }
}

/*
 * Post-copy cannot be cancelled (the guest runs on the destination), but a
 * post-copy whose stream is dead must not keep qmigrate polling for ever.
 * After the progress timeout (150 s when it is off) without a byte moved,
 * qmigrate breaks the stream (migrate-pause) to recover it, or, when it
 * cannot recover, ends, loudly, and leaves QEMU alone.
 */
static bool
postcopy_stalled(struct engine *e, const struct policy_sample *s)
{
    double limit = e->policy.progress_timeout_s > 0
                       ? e->policy.progress_timeout_s
                       : ENGINE_POSTCOPY_STALL_S;
    double moved = e->pstate.track.t_moved > e->postcopy_since
                       ? e->pstate.track.t_moved
                       : e->postcopy_since;
    double idle = s->t - moved;

    if (idle <= limit || s->status != MIGRATION_STATUS_POSTCOPY_ACTIVE) {
        return false;
    }
    if (recover_possible(e)) {
        char why[96];

        snprintf(why, sizeof(why), "no bytes moved for %.0f s", idle);
        recover_break_stream(e, why);
        return false;
    }
    recover_give_up(e,
                    "post-copy stalled: no bytes moved for %.0f s (status %s)",
                    idle, migration_status_name(s->status));
    return true;
}

/* Where a sample of this status moves the phase; false when it ended. */
static bool
follow_status(struct engine *e, const struct policy_sample *s)
{
    if (migration_status_is_final(s->status)) {
        engine_enter(e, PHASE_FINISH);
        return false;
    }
    if (migration_status_is_postcopy(s->status) &&
        (e->phase == PHASE_MONITOR || e->phase == PHASE_SWITCHOVER)) {
        engine_enter(e, PHASE_POSTCOPY);
    }
    if (e->phase == PHASE_POSTCOPY &&
        s->status == MIGRATION_STATUS_POSTCOPY_PAUSED &&
        e->cfg.mode == ENGINE_MIGRATE) {
        engine_enter(e, PHASE_POSTCOPY_PAUSED);
        return e->phase != PHASE_DONE;
    }
    if ((e->phase == PHASE_POSTCOPY_PAUSED || e->phase == PHASE_RECOVER) &&
        !recover_follow(e, s)) {
        return false;
    }
    if (e->phase == PHASE_POSTCOPY && postcopy_stalled(e, s)) {
        return false;
    }
    if (s->status == MIGRATION_STATUS_PRE_SWITCHOVER &&
        e->cfg.mode == ENGINE_MIGRATE && e->phase == PHASE_MONITOR &&
        e->cfg.disk == ENGINE_DISK_MIRROR) {
        engine_enter(e, PHASE_SWITCHOVER);
    }
    if (s->status == MIGRATION_STATUS_NONE && e->migrate_sent &&
        s->t - e->migrate_time > (e->migrate_reply_lost ? 2.0 : 10.0)) {
        /* nothing runs: there is nothing to undo, only to check */
        e->end_code = QM_EXIT_FAILED;
        e->end_result = "failed";
        snprintf(e->end_reason, sizeof(e->end_reason), "%s",
                 e->migrate_reply_lost
                     ? "the reply to 'migrate' was lost and QEMU reports no "
                       "migration: none was started"
                     : "QEMU accepted 'migrate' but reports no migration");
        e->finish_how = FINISH_NOTHING_RAN;
        engine_enter(e, PHASE_FINISH);
        return false;
    }
    return true;
}

static void
poll_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct policy_output out;
    struct policy_sample s;
    char why[256];

    e->poll_in_flight = false;
    if (err != NULL && err->kind == QMP_ERROR_COMMAND &&
        ++e->poll_refusals < ENGINE_POLL_REFUSALS_MAX) {
        /* QEMU answered, in QMP: the monitor is fine; ask again */
        engine_note(e, 0, "warning: %s (refusal %d of %d)", err->message,
                    e->poll_refusals, ENGINE_POLL_REFUSALS_MAX);
        return;
    }
    if (err != NULL && err->kind == QMP_ERROR_COMMAND) {
        engine_begin_cancel(e, QM_EXIT_FAILED,
                            "QEMU refused query-migrate %d times in a row "
                            "(%s): qmigrate cannot follow the migration",
                            e->poll_refusals, err->message);
        return;
    }
    if (err != NULL && err->kind == QMP_ERROR_TIMEOUT &&
        e->phase == PHASE_POSTCOPY && !e->stream_broken &&
        recover_possible(e)) {
        /*
         * A source whose main loop is stuck on the post-copy stream (a
         * frozen destination can do this) answers nothing in band: break
         * the stream out of band, then it answers again.
         */
        recover_break_stream(e, "the source answered no query-migrate for "
                                "--command-timeout");
        return;
    }
    if (err != NULL) {
        engine_monitor_lost(e, e->src, err);
        return;
    }
    e->poll_refusals = 0;
    if (sample_from_query_migrate(ret, &s, why, sizeof(why)) < 0) {
        /* The monitor answers, but not as QEMU does: stop the migration. */
        engine_begin_cancel(e, QM_EXIT_MONITOR, "monitor %s: %s", e->cfg.source,
                            why);
        return;
    }
    sample_complete(e, &s);
    if (migration_status_is_final(s.status)) {
        summary_from_query_migrate(ret, &e->final);
    } else if (s.status == MIGRATION_STATUS_POSTCOPY_PAUSED &&
               e->phase == PHASE_POSTCOPY) {
        struct migrate_summary sum;

        summary_from_query_migrate(ret, &sum);
        snprintf(e->recover_why, sizeof(e->recover_why), "%s", sum.error_desc);
    }
    engine_take_sample(e, &s, &out);
    if (!follow_status(e, &s)) {
        return;
    }
    engine_apply_actions(e, &out, s.t);
    engine_measure_more(e);
    if (e->poll_again && e->phase != PHASE_DONE) {
        e->poll_again = false;
        engine_poll(e);
    }
}

void
engine_poll(struct engine *e)
{
    enum phase_poll what = phase_desc(e->phase)->poll;

    if (what == POLL_BLOCK_JOBS) {
        disk_poll(e);
        return;
    }
    if (what != POLL_MIGRATE) {
        return;
    }
    if (e->poll_in_flight) {
        e->poll_again = true;
        return;
    }
    e->poll_in_flight = true;
    if (engine_send(e, e->src, qemu_query_migrate(), poll_reply) == 0) {
        disk_poll(e);
    }
}

void
engine_poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    engine_poll(w->data);
}

/* --- cancel ----------------------------------------------------------------
 */

static void
cancel_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_error(e, "migrate_cancel: %s", err->message);
    }
    engine_poll(e);
}

void
engine_send_cancel(struct engine *e)
{
    engine_send(e, e->src, qemu_migrate_cancel(), cancel_reply);
}

void
engine_enter_cancel(struct engine *e)
{
    engine_note(e, 0, "cancelling the migration: %s", e->cancel_reason);
    ev_timer_set(&e->cancel_timer, e->cfg.cancel_timeout_s, 0.0);
    ev_timer_start(e->loop, &e->cancel_timer);
    if (!ev_is_active(&e->poll_timer)) {
        ev_timer_again(e->loop, &e->poll_timer);
    }
    engine_send_cancel(e);
}

void
engine_cancel_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;

    (void)loop;
    (void)revents;
    engine_finish(e, QM_EXIT_FAILED, "error",
                  "QEMU did not finish cancelling within %.0f s (last status "
                  "%s). The guest should be on the source but may be paused: "
                  "check 'query-status' on %s",
                  e->cfg.cancel_timeout_s,
                  e->have_sample ? migration_status_name(e->last_sample.status)
                                 : "unknown",
                  e->cfg.source);
}
