/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/phase: the engine's phases in one table, the one way into each,
 * and what a cancel or a lost monitor does in each. */
#include <stdarg.h>
#include <stdio.h>

#include "migrate/internal.h"

/*
 * The sequence, as docs/engine.md describes it.  Each phase's enter
 * function sends the phase's first command; the replies move it on by
 * calling engine_enter() with the next phase.
 */
static const struct phase_desc phases[PHASE_COUNT] = {
    [PHASE_NEW] = {"new", NULL, ON_CANCEL_END, ON_LOST_END, ON_LOST_END,
                   POLL_NONE, false},
    [PHASE_CONNECT] = {"connect", engine_enter_connect, ON_CANCEL_END,
                       ON_LOST_END, ON_LOST_END, POLL_NONE, false},
    [PHASE_PREFLIGHT] = {"preflight", engine_enter_preflight, ON_CANCEL_END,
                         ON_LOST_END, ON_LOST_END, POLL_NONE, false},
    [PHASE_ATTACH] = {"attach", engine_enter_attach, ON_CANCEL_END, ON_LOST_END,
                      ON_LOST_END, POLL_NONE, false},
    [PHASE_DISKS] = {"disks", engine_enter_disks, ON_CANCEL_END, ON_LOST_END,
                     ON_LOST_END, POLL_NONE, false},
    [PHASE_SETUP] = {"setup", engine_enter_setup, ON_CANCEL_END, ON_LOST_END,
                     ON_LOST_END, POLL_NONE, false},
    [PHASE_MEASURE] = {"measure", engine_enter_measure, ON_CANCEL_END,
                       ON_LOST_END, ON_LOST_END, POLL_NONE, true},
    [PHASE_MIRROR] = {"mirror", engine_enter_mirror, ON_CANCEL_UNDO_DISKS,
                      ON_LOST_END, ON_LOST_UNDO_DISKS, POLL_BLOCK_JOBS, true},
    [PHASE_MIGRATE] = {"migrate", engine_enter_migrate, ON_CANCEL_DEFER,
                       ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_NONE, false},
    [PHASE_MONITOR] = {"monitor", engine_enter_monitor, ON_CANCEL_SEND,
                       ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_MIGRATE, true},
    [PHASE_SWITCHOVER] = {"switchover", engine_enter_switchover, ON_CANCEL_SEND,
                          ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_MIGRATE,
                          true},
    [PHASE_POSTCOPY] = {"postcopy", engine_enter_postcopy, ON_CANCEL_REFUSE,
                        ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_MIGRATE, true},
    [PHASE_POSTCOPY_PAUSED] = {"postcopy-paused", engine_enter_postcopy_paused,
                               ON_CANCEL_REFUSE, ON_LOST_RECONNECT,
                               ON_LOST_SPLIT, POLL_MIGRATE, false},
    [PHASE_RECOVER] = {"recover", engine_enter_recover, ON_CANCEL_REFUSE,
                       ON_LOST_RECONNECT, ON_LOST_SPLIT, POLL_MIGRATE, false},
    [PHASE_CANCEL] = {"cancel", engine_enter_cancel, ON_CANCEL_IGNORE,
                      ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_MIGRATE, false},
    [PHASE_RECONNECT] = {"reconnect", engine_enter_reconnect, ON_CANCEL_DEFER,
                         ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_NONE, false},
    [PHASE_FINISH] = {"finish", engine_enter_finish, ON_CANCEL_IGNORE,
                      ON_LOST_RECONNECT, ON_LOST_FOLLOW, POLL_NONE, false},
    [PHASE_DONE] = {"done", NULL, ON_CANCEL_IGNORE, ON_LOST_IGNORE,
                    ON_LOST_IGNORE, POLL_NONE, false},
};

const struct phase_desc *
phase_desc(enum engine_phase phase)
{
    return &phases[phase];
}

void
engine_enter(struct engine *e, enum engine_phase phase)
{
    if (e->phase == PHASE_DONE) {
        return;
    }
    engine_note(e, 2, "%sphase %s", engine_prefix(e), phases[phase].name);
    e->phase = phase;
    if (phases[phase].enter != NULL) {
        phases[phase].enter(e);
    }
}

void
engine_resume(struct engine *e)
{
    if (e->phase == PHASE_RECONNECT) {
        e->phase = e->resume_phase;
    }
}

/* --- cancel -------------------------------------------------------------- */

/* During post-copy a cancel would lose the guest: say so; twice, leave. */
static void
cancel_refused(struct engine *e, enum qm_exit code)
{
    if (++e->postcopy_refusals >= 2 && code == QM_EXIT_ABORTED) {
        engine_finish(e, QM_EXIT_MONITOR, "error",
                      "left during post-copy (asked twice): the migration "
                      "goes on without qmigrate and the guest already "
                      "runs on the destination; follow it with 'qmigrate "
                      "watch --source %s'",
                      e->cfg.source);
        return;
    }
    engine_error(e, "not cancelling: post-copy has started and the guest "
                    "already runs on the destination; a cancel now would "
                    "lose it. Waiting for the migration to finish (ask "
                    "again to leave it running without qmigrate).");
}

void
engine_begin_cancel(struct engine *e, enum qm_exit code, const char *fmt, ...)
{
    enum phase_on_cancel how = phases[e->phase].on_cancel;
    va_list ap;

    if (e->cancelling || how == ON_CANCEL_IGNORE) {
        return;
    }
    if (how == ON_CANCEL_SEND && e->levers.postcopy_requested) {
        how = ON_CANCEL_REFUSE; /* it may be running there already */
    }
    if (how == ON_CANCEL_REFUSE) {
        cancel_refused(e, code);
        return;
    }
    e->cancel_code = code;
    va_start(ap, fmt);
    vsnprintf(e->cancel_reason, sizeof(e->cancel_reason), fmt, ap);
    va_end(ap);
    switch (how) {
    case ON_CANCEL_END:
        engine_finish(e, code, e->cancel_by_policy ? "aborted" : "cancelled",
                      "%s; the migration was not started", e->cancel_reason);
        break;
    case ON_CANCEL_UNDO_DISKS:
        disk_abort(e, code, "aborted", "%s", e->cancel_reason);
        break;
    case ON_CANCEL_DEFER:
        e->cancel_requested = true;
        break;
    default: /* ON_CANCEL_SEND */
        e->cancelling = true;
        engine_enter(e, PHASE_CANCEL);
        break;
    }
}

/* --- a monitor went away ------------------------------------------------- */

static void
source_lost(struct engine *e, const struct qmp_error *why)
{
    if (e->phase == PHASE_RECONNECT && !e->reconnect_started) {
        return; /* the first loss, told twice (a command and the close) */
    }
    /*
     * One reconnect attempt when the connection ended (the peer hung up,
     * or garbled the stream) while QEMU migrates: a monitor socket that
     * closes and reopens must not orphan a running migration.  A monitor
     * that stops answering (a timeout) gets none: it would not greet.
     */
    if (!e->reconnected &&
        (why->kind == QMP_ERROR_CLOSED || why->kind == QMP_ERROR_PROTOCOL)) {
        snprintf(e->lost_why, sizeof(e->lost_why), "%s", why->message);
        e->resume_phase = e->phase == PHASE_MIGRATE ? PHASE_MONITOR : e->phase;
        engine_enter(e, PHASE_RECONNECT);
        return;
    }
    engine_finish(e, QM_EXIT_MONITOR, "error",
                  "lost the source monitor during the migration (%s%s%s; "
                  "last status %s). QEMU may have died, or the migration may "
                  "go on without qmigrate: check both sides (qmigrate watch "
                  "--source %s)",
                  e->lost_why[0] ? e->lost_why : "",
                  e->lost_why[0] ? ", then the reconnect attempt: " : "",
                  why->message,
                  e->have_sample ? migration_status_name(e->last_sample.status)
                                 : "unknown",
                  e->cfg.source);
}

void
engine_monitor_lost(struct engine *e, struct qmp_client *side,
                    const struct qmp_error *why)
{
    const struct phase_desc *d = &phases[e->phase];
    enum phase_on_lost how =
        side == e->dst ? d->on_dest_lost : d->on_source_lost;

    switch (how) {
    case ON_LOST_IGNORE:
        break;
    case ON_LOST_END:
        engine_finish(e, QM_EXIT_MONITOR, "error", "%s%s",
                      side == e->dst ? "destination: " : "", why->message);
        break;
    case ON_LOST_UNDO_DISKS:
        e->dst_lost = true;
        disk_abort(e, QM_EXIT_FAILED, "failed",
                   "lost the destination while copying disks: %s",
                   why->message);
        break;
    case ON_LOST_FOLLOW:
        if (!e->dst_lost) {
            e->dst_lost = true;
            engine_error(e,
                         "lost the destination monitor (%s); following the "
                         "migration on the source",
                         why->message);
        }
        break;
    case ON_LOST_RECONNECT:
        source_lost(e, why);
        break;
    case ON_LOST_SPLIT:
        e->dst_lost = true;
        recover_give_up(e, "lost the destination monitor (%s)", why->message);
        break;
    }
}
