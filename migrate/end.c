/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/end: FINISH: undo what is left, and check that the guest runs on
 * exactly one side. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/*
 * QEMU accepts 'cont' on a source in postmigrate: after a completed
 * migration qmigrate never resumes the source, so both sides can never
 * run.  After a failed or cancelled one it resumes the source only when
 * the guest ran there before (or we paused it), and never while the
 * destination might be running it.
 */

/* The name of the run state a query-status reply gives, for the reason. */
static const char *
state_name(json_t *ret)
{
    const char *name;

    qemu_runstate_of(ret, &name);
    return name;
}

/* The reply says the guest runs. */
static bool
runs(json_t *ret)
{
    const char *name;

    return qemu_runstate_of(ret, &name) == QEMU_RUN_RUNNING;
}

static void
end_finish(struct engine *e)
{
    engine_finish(e, e->end_code, e->end_result, "%s", e->end_reason);
}

static void append_reason(struct engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
append_reason(struct engine *e, const char *fmt, ...)
{
    size_t used = strlen(e->end_reason);
    va_list ap;

    if (used + 1 >= sizeof(e->end_reason)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->end_reason + used, sizeof(e->end_reason) - used, fmt, ap);
    va_end(ap);
}

static void
dst_verify_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    if (err != NULL) {
        append_reason(e, "; could not confirm the destination: %s",
                      err->message);
    } else if (runs(ret)) {
        append_reason(e, "; the guest runs on the destination");
    } else {
        append_reason(e, "; WARNING: the destination is '%s', not running",
                      state_name(ret));
    }
    end_finish(e);
}

static void
dst_cont_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        append_reason(e, "; WARNING: resuming the destination failed: %s",
                      err->message);
        end_finish(e);
        return;
    }
    engine_send(e, e->dst, qemu_query_status(), dst_verify_reply);
}

static void dst_status_end_reply(struct engine *e, json_t *ret,
                                 const struct qmp_error *err);

static void
dst_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;

    (void)loop;
    (void)revents;
    engine_send(e, e->dst, qemu_query_status(), dst_status_end_reply);
}

static void
dst_status_end_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    enum qemu_runstate state;
    const char *status;

    if (err != NULL) {
        append_reason(e, "; could not check the destination: %s", err->message);
        end_finish(e);
        return;
    }
    state = qemu_runstate_of(ret, &status);
    if (state == QEMU_RUN_RUNNING) {
        append_reason(e, "; the guest runs on the destination");
        end_finish(e);
    } else if ((state == QEMU_RUN_PAUSED || state == QEMU_RUN_PRELAUNCH) &&
               e->cfg.mode == ENGINE_MIGRATE &&
               (e->source_was_running || e->levers.paused)) {
        /* Started with -S: it waits for us, and the guest was running. */
        engine_send(e, e->dst, qemu_cont(), dst_cont_reply);
    } else if (state == QEMU_RUN_INMIGRATE &&
               (e->dst_wait_until == 0 ||
                ev_now(e->loop) < e->dst_wait_until)) {
        /* Across a slow link the source completes with the last bytes
         * still on their way: wait for the destination to load them. */
        if (e->dst_wait_until == 0) {
            e->dst_wait_until = ev_now(e->loop) + e->cfg.command_timeout_s;
        }
        ev_init(&e->disk_timer, dst_wait_cb); /* the disks are done */
        e->disk_timer.data = e;
        ev_timer_set(&e->disk_timer, 0.1, 0.0);
        ev_timer_start(e->loop, &e->disk_timer);
    } else {
        append_reason(e, "; %sthe destination is '%s'",
                      state == QEMU_RUN_INMIGRATE ? "WARNING: " : "", status);
        end_finish(e);
    }
}

static void
src_status_completed_reply(struct engine *e, json_t *ret,
                           const struct qmp_error *err)
{
    if (err == NULL && runs(ret)) {
        append_reason(e, "; WARNING: the source is running, not postmigrate: "
                         "someone resumed it; both sides may be running");
    }
    if (e->dst != NULL && !e->dst_lost) {
        engine_send(e, e->dst, qemu_query_status(), dst_status_end_reply);
        return;
    }
    append_reason(e, "; the destination was not checked (no --dest)");
    end_finish(e);
}

static void
end_completed_checks(struct engine *e)
{
    engine_send(e, e->src, qemu_query_status(), src_status_completed_reply);
}

/* --- dirty-limit: never left throttling the guest on the source ------------
 */

/*
 * QEMU lifts its dirty-limit itself only on migrate_cancel; after a
 * failure the guest would go on running throttled on the source.  So
 * whenever dirty-limit was set, qmigrate lifts it there and checks.  (The
 * limit is the source QEMU's: the destination never had one.)
 */
static void
dirty_limit_query_reply(struct engine *e, json_t *ret,
                        const struct qmp_error *err)
{
    if (err != NULL) {
        append_reason(e, "; could not confirm the dirty-limit was lifted: %s",
                      err->message);
    } else if (qemu_dirty_limit_in_service(ret)) {
        append_reason(e, "; WARNING: a dirty-limit is still in service on the "
                         "source (query-vcpu-dirty-limit): lift it with "
                         "cancel-vcpu-dirty-limit");
    } else if (e->levers.dirty_limit_mib_s != 0) {
        append_reason(e, "; the dirty-limit is lifted on the source");
    }
    e->lift_then(e);
}

static void
dirty_limit_cancel_reply(struct engine *e, json_t *ret,
                         const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        append_reason(e, "; WARNING: lifting the dirty-limit failed: %s",
                      err->message);
    }
    engine_send(e, e->src, qemu_query_vcpu_dirty_limit(),
                dirty_limit_query_reply);
}

/* Lifts the dirty-limit on the source when one may be set, then then(). */
static void
dirty_limit_lift(struct engine *e, engine_step_fn *then)
{
    if (e->cfg.mode != ENGINE_MIGRATE ||
        !(e->caps & QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT))) {
        then(e);
        return;
    }
    e->lift_then = then;
    engine_send(e, e->src, qemu_cancel_vcpu_dirty_limit(),
                dirty_limit_cancel_reply);
}

static void
lift_then_completed_checks(struct engine *e)
{
    dirty_limit_lift(e, end_completed_checks);
}

void
end_completed(struct engine *e, int64_t downtime_ms)
{
    e->end_code = QM_EXIT_COMPLETED;
    e->end_result = "completed";
    snprintf(e->end_reason, sizeof(e->end_reason),
             "migration completed after %.1f s", ev_now(e->loop) - e->t0);
    if (downtime_ms >= 0) {
        append_reason(e, ", downtime %lld ms", (long long)downtime_ms);
    }
    if (e->cancelling) {
        append_reason(e, " (before the cancel took effect)");
    }
    disk_cleanup(e, lift_then_completed_checks);
}

/* --- failed or cancelled: the guest must run on the source -------------- */

static void
src_verify_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    if (err != NULL) {
        append_reason(e, "; could not confirm the source: %s", err->message);
    } else if (runs(ret)) {
        append_reason(e, "; the guest was resumed and runs on the source");
    } else {
        append_reason(e,
                      "; WARNING: the source is '%s' after 'cont', not "
                      "running",
                      state_name(ret));
    }
    end_finish(e);
}

static void
src_cont_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        append_reason(e,
                      "; WARNING: resuming the guest on the source failed: "
                      "%s",
                      err->message);
        end_finish(e);
        return;
    }
    engine_send(e, e->src, qemu_query_status(), src_verify_reply);
}

static void
src_resume(struct engine *e)
{
    engine_send(e, e->src, qemu_cont(), src_cont_reply);
}

/* After a failure in postmigrate: resume only if the destination does not run.
 */
static void
dst_status_failed_reply(struct engine *e, json_t *ret,
                        const struct qmp_error *err)
{
    if (err == NULL && runs(ret)) {
        append_reason(e,
                      "; WARNING: the destination runs the guest although "
                      "the source reports the migration %s; the source "
                      "stays paused",
                      e->end_result);
        end_finish(e);
        return;
    }
    src_resume(e);
}

/* May qmigrate resume the guest on the source after this ending? */
static bool
may_resume(const struct engine *e)
{
    if (e->postcopy_started) {
        return false; /* the source's memory is stale: see report_paused */
    }
    switch (e->cfg.mode) {
    case ENGINE_MIGRATE:
        return e->levers.paused || e->source_was_running;
    case ENGINE_CANCEL:
        return e->cfg.resume;
    default:
        return false; /* watch never acts */
    }
}

static void
report_paused(struct engine *e, const char *status)
{
    if (e->postcopy_started) {
        append_reason(e,
                      "; WARNING: post-copy had started, so the guest ran "
                      "on the destination and the source's memory (%s) is "
                      "stale: do NOT resume the source. Recover with QEMU's "
                      "post-copy recovery (migrate-recover on the "
                      "destination, then migrate with resume=true on the "
                      "source) if the destination still has the guest",
                      status);
        return;
    }
    if (e->cfg.mode == ENGINE_MIGRATE) {
        append_reason(e,
                      "; the guest stays %s on the source, as it was "
                      "before",
                      status);
    } else {
        append_reason(e,
                      "; WARNING: the guest is %s on the source and not "
                      "running anywhere qmigrate can see: resume it with "
                      "'cont'%s once you know the destination does not run "
                      "it",
                      status,
                      e->cfg.mode == ENGINE_CANCEL
                          ? " (or qmigrate cancel --resume)"
                          : "");
    }
}

static void
src_status_failed_reply(struct engine *e, json_t *ret,
                        const struct qmp_error *err)
{
    enum qemu_runstate state;
    const char *status;

    if (err != NULL) {
        append_reason(e, "; could not check the source: %s", err->message);
        end_finish(e);
        return;
    }
    state = qemu_runstate_of(ret, &status);
    if (state == QEMU_RUN_RUNNING) {
        append_reason(e, "; the guest runs on the source");
        end_finish(e);
        return;
    }
    if (!may_resume(e)) {
        report_paused(e, status);
        end_finish(e);
        return;
    }
    if (state == QEMU_RUN_POSTMIGRATE) {
        /* QEMU finished sending: resume only if the destination does not run */
        if (e->dst != NULL && !e->dst_lost) {
            engine_send(e, e->dst, qemu_query_status(),
                        dst_status_failed_reply);
        } else {
            append_reason(e, "; WARNING: the source is paused in postmigrate "
                             "and qmigrate cannot see the destination (no "
                             "--dest): check that the destination does not "
                             "run the guest, then resume the source with "
                             "'cont'");
            end_finish(e);
        }
        return;
    }
    src_resume(e);
}

static void
end_on_source_checks(struct engine *e)
{
    engine_send(e, e->src, qemu_query_status(), src_status_failed_reply);
}

static void
lift_then_source_checks(struct engine *e)
{
    dirty_limit_lift(e, end_on_source_checks);
}

void
end_on_source(struct engine *e, enum qm_exit code, const char *result,
              const char *reason, const char *error_desc)
{
    e->end_code = code;
    e->end_result = result;
    e->end_reason[0] = '\0';
    if (reason != NULL && reason[0] != '\0') {
        append_reason(e, "%s", reason);
    } else {
        append_reason(e, "the migration failed");
    }
    if (error_desc != NULL && error_desc[0] != '\0') {
        append_reason(e, " (QEMU: %s)", error_desc);
    }
    if (e->cfg.mode == ENGINE_MIGRATE) {
        disk_cleanup(e, lift_then_source_checks);
    } else {
        end_on_source_checks(e);
    }
}

/* --- FINISH -------------------------------------------------------------- */

static void
settle_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct migrate_summary sum;

    if (err == NULL) {
        summary_from_query_migrate(ret, &sum);
        if (sum.downtime_ms >= 0) {
            e->result.downtime_ms = sum.downtime_ms;
        }
    }
    end_completed(e, e->result.downtime_ms);
}

void
engine_settle_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;

    (void)loop;
    (void)revents;
    engine_send(e, e->src, qemu_query_migrate(), settle_reply);
}

/* What a cancel of ours ends as: aborted (exit 3), or failed (exit 1). */
static const char *
cancel_result(const struct engine *e)
{
    return e->cancel_code == QM_EXIT_ABORTED ? "aborted" : "failed";
}

static void
disks_undone(struct engine *e)
{
    engine_finish(e, e->end_code, e->end_result,
                  "%s; the disk mirrors were cancelled and the guest runs on "
                  "the source, on its own disks",
                  e->end_reason);
}

void
engine_enter_finish(struct engine *e)
{
    ev_timer_stop(e->loop, &e->poll_timer);
    if (e->finish_how == FINISH_DISKS_ONLY) {
        disk_cleanup(e, disks_undone);
        return;
    }
    if (e->finish_how == FINISH_NOTHING_RAN) {
        char reason[sizeof(e->end_reason)];

        snprintf(reason, sizeof(reason), "%s", e->end_reason);
        end_on_source(e, e->end_code, e->end_result, reason, NULL);
        return;
    }
    e->result.downtime_ms = e->final.downtime_ms;
    switch (e->last_sample.status) {
    case MIGRATION_STATUS_COMPLETED:
        /*
         * QEMU says completed before it has computed the downtime and
         * moved the source to postmigrate: ask again a moment later.
         */
        ev_timer_set(&e->settle_timer, ENGINE_SETTLE_S, 0.0);
        ev_timer_start(e->loop, &e->settle_timer);
        break;
    case MIGRATION_STATUS_FAILED:
        end_on_source(e, e->cancelling ? e->cancel_code : QM_EXIT_FAILED,
                      e->cancelling ? cancel_result(e) : "failed",
                      e->cancelling ? e->cancel_reason : NULL,
                      e->final.error_desc);
        break;
    default: /* cancelled */
        end_on_source(e, e->cancelling ? e->cancel_code : QM_EXIT_ABORTED,
                      e->cancelling ? cancel_result(e) : "cancelled",
                      e->cancelling ? e->cancel_reason
                                    : "the migration was cancelled by "
                                      "another monitor client",
                      NULL);
        break;
    }
}
