/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/job_end: cancelling, and the checks that leave the guest running on
 * exactly one side. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/job_internal.h"

/*
 * QEMU accepts 'cont' on a source in postmigrate: after a completed
 * migration qmigrate never resumes the source, so both sides can never
 * run.  After a failed or cancelled one it resumes the source only when
 * the guest ran there before (or we paused it), and never while the
 * destination might be running it.
 */

static const char *
status_of(json_t *ret)
{
    const char *s = json_string_value(json_object_get(ret, "status"));

    return s ? s : "unknown";
}

/* --- cancel -------------------------------------------------------------- */

static void
cancel_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        output_error(job->out, "migrate_cancel: %s", err->message);
    }
    job_poll(job);
}

void
job_begin_cancel(struct job *job, enum qm_exit code, const char *fmt, ...)
{
    va_list ap;

    if (job->phase == PHASE_DONE || job->phase == PHASE_FINISH ||
        job->cancelling) {
        return;
    }
    if (job->postcopy_started || job->postcopy_requested) {
        if (++job->postcopy_refusals >= 2 && code == QM_EXIT_ABORTED &&
            job->phase == PHASE_MONITOR) {
            /* asked again: go, but leave QEMU to it */
            job_finish(job, QM_EXIT_MONITOR, "error",
                       "left during post-copy (asked twice): the migration "
                       "goes on without qmigrate and the guest already "
                       "runs on the destination; follow it with 'qmigrate "
                       "watch --source %s'",
                       job->opts.source);
            return;
        }
        output_error(job->out,
                     "not cancelling: post-copy has started and the guest "
                     "already runs on the destination; a cancel now would "
                     "lose it. Waiting for the migration to finish (ask "
                     "again to leave it running without qmigrate).");
        return;
    }
    job->cancel_code = code;
    va_start(ap, fmt);
    vsnprintf(job->cancel_reason, sizeof(job->cancel_reason), fmt, ap);
    va_end(ap);
    if (job->phase == PHASE_MIRROR) {
        /* the disks copy, RAM has not started: undo the mirrors */
        disk_abort_begin(job, code, "aborted", "%s", job->cancel_reason);
        return;
    }
    if (job->phase < PHASE_MIGRATE) {
        /* Nothing started: there is nothing to undo. */
        job_finish(job, code, "cancelled", "%s; the migration was not started",
                   job->cancel_reason);
        return;
    }
    if (job->phase == PHASE_MIGRATE) {
        /* migrate is on its way: cancel once QEMU has taken it. */
        job->cancel_requested = true;
        return;
    }
    job->cancelling = true;
    job->phase = PHASE_CANCEL;
    output_note(job->out, 0, "cancelling the migration: %s",
                job->cancel_reason);
    ev_timer_set(&job->cancel_timer, job->opts.cancel_timeout_s, 0.0);
    ev_timer_start(job->loop, &job->cancel_timer);
    if (!ev_is_active(&job->poll_timer)) {
        ev_timer_again(job->loop, &job->poll_timer);
    }
    job_send(job, job->src, "migrate_cancel", NULL, cancel_reply);
}

void
job_cancel(struct job *job, const char *why)
{
    job_begin_cancel(job, QM_EXIT_ABORTED, "%s", why);
}

void
job_cancel_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    job_finish(job, QM_EXIT_FAILED, "error",
               "QEMU did not finish cancelling within %.0f s (last status "
               "%s). The guest should be on the source but may be paused: "
               "check 'query-status' on %s",
               job->opts.cancel_timeout_s,
               job->have_sample ? migration_status_name(job->last_sample.status)
                                : "unknown",
               job->opts.source);
}

/* --- a monitor went away ----------------------------------------------- */

void
job_monitor_lost(struct job *job, struct qmp_client *side,
                 const struct qmp_error *why)
{
    if (job->phase == PHASE_DONE) {
        return;
    }
    if (side == job->dst) {
        if (job->phase == PHASE_MIRROR) {
            job->dst_lost = true;
            disk_abort_begin(job, QM_EXIT_FAILED, "failed",
                             "lost the destination while copying disks: %s",
                             why->message);
            return;
        }
        if (job->phase < PHASE_MIGRATE) {
            job_finish(job, QM_EXIT_MONITOR, "error", "destination: %s",
                       why->message);
            return;
        }
        if (!job->dst_lost) {
            job->dst_lost = true;
            output_error(job->out,
                         "lost the destination monitor (%s); following the "
                         "migration on the source",
                         why->message);
        }
        return;
    }
    if (job->phase < PHASE_MIGRATE) {
        job_finish(job, QM_EXIT_MONITOR, "error", "%s", why->message);
        return;
    }
    if (job->reconnecting && !job->reconnect_started) {
        return; /* the first loss, told twice (a command and the close) */
    }
    job->reconnecting = false; /* the attempt, if any, failed */
    /*
     * One reconnect attempt when the connection ended (the peer hung up,
     * or garbled the stream) while QEMU migrates: a monitor socket that
     * closes and reopens must not orphan a running migration.  A monitor
     * that stops answering (a timeout) gets none: it would not greet.
     */
    if (!job->reconnected &&
        (why->kind == QMP_ERROR_CLOSED || why->kind == QMP_ERROR_PROTOCOL)) {
        job->reconnecting = true;
        job->reconnected = true;
        snprintf(job->lost_why, sizeof(job->lost_why), "%s", why->message);
        output_error(job->out,
                     "lost the source monitor (%s); reconnecting "
                     "once",
                     why->message);
        ev_timer_set(&job->reconnect_timer, 0.5, 0.0);
        ev_timer_start(job->loop, &job->reconnect_timer);
        return;
    }
    job_finish(job, QM_EXIT_MONITOR, "error",
               "lost the source monitor during the migration (%s%s%s; last "
               "status %s). QEMU may have died, or the migration may go on "
               "without qmigrate: check both sides (qmigrate watch --source "
               "%s)",
               job->lost_why[0] ? job->lost_why : "",
               job->lost_why[0] ? ", then the reconnect attempt: " : "",
               why->message,
               job->have_sample ? migration_status_name(job->last_sample.status)
                                : "unknown",
               job->opts.source);
}

/* --- completed: the guest must run on the destination ------------------- */

static void
end_finish(struct job *job)
{
    job_finish(job, job->end_code, job->end_result, "%s", job->end_reason);
}

static void append_reason(struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
append_reason(struct job *job, const char *fmt, ...)
{
    size_t used = strlen(job->end_reason);
    va_list ap;

    if (used + 1 >= sizeof(job->end_reason)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(job->end_reason + used, sizeof(job->end_reason) - used, fmt, ap);
    va_end(ap);
}

static void
dst_verify_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    if (err != NULL) {
        append_reason(job, "; could not confirm the destination: %s",
                      err->message);
    } else if (strcmp(status_of(ret), "running") == 0) {
        append_reason(job, "; the guest runs on the destination");
    } else {
        append_reason(job, "; WARNING: the destination is '%s', not running",
                      status_of(ret));
    }
    end_finish(job);
}

static void
dst_cont_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        append_reason(job, "; WARNING: resuming the destination failed: %s",
                      err->message);
        end_finish(job);
        return;
    }
    job_send(job, job->dst, "query-status", NULL, dst_verify_reply);
}

static void dst_status_end_reply(struct job *job, json_t *ret,
                                 const struct qmp_error *err);

static void
dst_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    job_send(job, job->dst, "query-status", NULL, dst_status_end_reply);
}

static void
dst_status_end_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    const char *status;

    if (err != NULL) {
        append_reason(job, "; could not check the destination: %s",
                      err->message);
        end_finish(job);
        return;
    }
    status = status_of(ret);
    if (strcmp(status, "running") == 0) {
        append_reason(job, "; the guest runs on the destination");
        end_finish(job);
    } else if ((strcmp(status, "paused") == 0 ||
                strcmp(status, "prelaunch") == 0) &&
               job->opts.command == CMD_MIGRATE &&
               (job->source_was_running || job->paused_by_us)) {
        /* Started with -S: it waits for us, and the guest was running. */
        job_send(job, job->dst, "cont", NULL, dst_cont_reply);
    } else if (strcmp(status, "inmigrate") == 0 &&
               (job->dst_wait_until == 0 ||
                ev_now(job->loop) < job->dst_wait_until)) {
        /* Across a slow link the source completes with the last bytes
         * still on their way: wait for the destination to load them. */
        if (job->dst_wait_until == 0) {
            job->dst_wait_until =
                ev_now(job->loop) + job->opts.command_timeout_s;
        }
        ev_init(&job->disk_timer, dst_wait_cb); /* the disks are done */
        job->disk_timer.data = job;
        ev_timer_set(&job->disk_timer, 0.1, 0.0);
        ev_timer_start(job->loop, &job->disk_timer);
    } else {
        append_reason(job, "; %sthe destination is '%s'",
                      strcmp(status, "inmigrate") == 0 ? "WARNING: " : "",
                      status);
        end_finish(job);
    }
}

static void
src_status_completed_reply(struct job *job, json_t *ret,
                           const struct qmp_error *err)
{
    if (err == NULL && strcmp(status_of(ret), "running") == 0) {
        append_reason(job, "; WARNING: the source is running, not postmigrate: "
                           "someone resumed it; both sides may be running");
    }
    if (job->dst != NULL && !job->dst_lost) {
        job_send(job, job->dst, "query-status", NULL, dst_status_end_reply);
        return;
    }
    append_reason(job, "; the destination was not checked (no --dest)");
    end_finish(job);
}

static void
end_completed_checks(struct job *job)
{
    job_send(job, job->src, "query-status", NULL, src_status_completed_reply);
}

void
job_end_completed(struct job *job, const struct migrate_summary *sum)
{
    job->end_code = QM_EXIT_COMPLETED;
    job->end_result = "completed";
    snprintf(job->end_reason, sizeof(job->end_reason),
             "migration completed after %.1f s", ev_now(job->loop) - job->t0);
    if (sum->downtime_ms >= 0) {
        append_reason(job, ", downtime %lld ms", (long long)sum->downtime_ms);
    }
    if (job->cancelling) {
        append_reason(job, " (before the cancel took effect)");
    }
    disk_cleanup(job, end_completed_checks);
}

/* --- failed or cancelled: the guest must run on the source -------------- */

static void
src_verify_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    if (err != NULL) {
        append_reason(job, "; could not confirm the source: %s", err->message);
    } else if (strcmp(status_of(ret), "running") == 0) {
        append_reason(job, "; the guest was resumed and runs on the source");
    } else {
        append_reason(job,
                      "; WARNING: the source is '%s' after 'cont', not "
                      "running",
                      status_of(ret));
    }
    end_finish(job);
}

static void
src_cont_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        append_reason(job,
                      "; WARNING: resuming the guest on the source failed: "
                      "%s",
                      err->message);
        end_finish(job);
        return;
    }
    job_send(job, job->src, "query-status", NULL, src_verify_reply);
}

static void
src_resume(struct job *job)
{
    job_send(job, job->src, "cont", NULL, src_cont_reply);
}

/* After a failure in postmigrate: resume only if the destination does not run.
 */
static void
dst_status_failed_reply(struct job *job, json_t *ret,
                        const struct qmp_error *err)
{
    if (err == NULL && strcmp(status_of(ret), "running") == 0) {
        append_reason(job,
                      "; WARNING: the destination runs the guest although "
                      "the source reports the migration %s; the source "
                      "stays paused",
                      job->end_result);
        end_finish(job);
        return;
    }
    src_resume(job);
}

/* May qmigrate resume the guest on the source after this ending? */
static bool
may_resume(const struct job *job)
{
    if (job->postcopy_started) {
        return false; /* the source's memory is stale: see report_paused */
    }
    switch (job->opts.command) {
    case CMD_MIGRATE:
        return job->paused_by_us || job->source_was_running;
    case CMD_CANCEL:
        return job->opts.resume;
    default:
        return false; /* watch never acts */
    }
}

static void
report_paused(struct job *job, const char *status)
{
    if (job->postcopy_started) {
        append_reason(job,
                      "; WARNING: post-copy had started, so the guest ran "
                      "on the destination and the source's memory (%s) is "
                      "stale: do NOT resume the source. Recover with QEMU's "
                      "post-copy recovery (migrate-recover on the "
                      "destination, then migrate with resume=true on the "
                      "source) if the destination still has the guest",
                      status);
        return;
    }
    if (job->opts.command == CMD_MIGRATE) {
        append_reason(job,
                      "; the guest stays %s on the source, as it was "
                      "before",
                      status);
    } else {
        append_reason(job,
                      "; WARNING: the guest is %s on the source and not "
                      "running anywhere qmigrate can see: resume it with "
                      "'cont'%s once you know the destination does not run "
                      "it",
                      status,
                      job->opts.command == CMD_CANCEL
                          ? " (or qmigrate cancel --resume)"
                          : "");
    }
}

static void
src_status_failed_reply(struct job *job, json_t *ret,
                        const struct qmp_error *err)
{
    const char *status;

    if (err != NULL) {
        append_reason(job, "; could not check the source: %s", err->message);
        end_finish(job);
        return;
    }
    status = status_of(ret);
    snprintf(job->src_status, sizeof(job->src_status), "%s", status);
    if (strcmp(status, "running") == 0) {
        append_reason(job, "; the guest runs on the source");
        end_finish(job);
        return;
    }
    if (!may_resume(job)) {
        report_paused(job, status);
        end_finish(job);
        return;
    }
    if (strcmp(status, "postmigrate") == 0) {
        /* QEMU finished sending: resume only if the destination does not run */
        if (job->dst != NULL && !job->dst_lost) {
            job_send(job, job->dst, "query-status", NULL,
                     dst_status_failed_reply);
        } else {
            append_reason(job, "; WARNING: the source is paused in postmigrate "
                               "and qmigrate cannot see the destination (no "
                               "--dest): check that the destination does not "
                               "run the guest, then resume the source with "
                               "'cont'");
            end_finish(job);
        }
        return;
    }
    src_resume(job);
}

static void
end_on_source_checks(struct job *job)
{
    job_send(job, job->src, "query-status", NULL, src_status_failed_reply);
}

void
job_end_on_source(struct job *job, enum qm_exit code, const char *result,
                  const char *reason, const char *error_desc)
{
    job->end_code = code;
    job->end_result = result;
    job->end_reason[0] = '\0';
    if (reason != NULL && reason[0] != '\0') {
        append_reason(job, "%s", reason);
    } else {
        append_reason(job, "the migration failed");
    }
    if (error_desc != NULL && error_desc[0] != '\0') {
        append_reason(job, " (QEMU: %s)", error_desc);
    }
    if (job->opts.command == CMD_MIGRATE) {
        disk_cleanup(job, end_on_source_checks);
    } else {
        end_on_source_checks(job);
    }
}

/* --- the one reconnect attempt ------------------------------------------ */

void
job_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;
    struct qmp_error err;

    (void)loop;
    (void)revents;
    if (job->phase == PHASE_DONE) {
        return;
    }
    job->reconnect_started = true;
    if (qmp_client_connect(job->src, job->opts.source, &err) < 0) {
        job_monitor_lost(job, job->src, &err);
    }
}

/* The source monitor is back: pick the migration up where it was. */
void
job_reconnected(struct job *job)
{
    job->reconnecting = false;
    job->poll_in_flight = false;
    job->disk_poll_in_flight = false;
    output_note(job->out, 0, "reconnected to the source monitor %s",
                job->opts.source);
    if (job->cancelling) {
        /* the cancel may not have reached QEMU: send it again (harmless) */
        job_send(job, job->src, "migrate_cancel", NULL, cancel_reply);
    }
    job_poll(job);
}
