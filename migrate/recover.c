/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/recover: POSTCOPY_PAUSED and RECOVER: a post-copy whose stream
 * broke is resumed (migrate-recover on the destination, then migrate with
 * resume on the source) until it runs again or --recover-timeout ends. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

bool
recover_possible(const struct engine *e)
{
    return e->cfg.mode == ENGINE_MIGRATE && e->dst != NULL && !e->dst_lost &&
           (e->caps & QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RECOVER)) != 0;
}

/* Where the destination listens again: --recover-uri, else --to. */
static const char *
recover_uri(const struct engine *e)
{
    return e->cfg.recover_uri != NULL ? e->cfg.recover_uri : e->cfg.uri;
}

void
recover_give_up(struct engine *e, const char *fmt, ...)
{
    char what[640];
    va_list ap;
    bool paused = e->have_sample &&
                  e->last_sample.status == MIGRATION_STATUS_POSTCOPY_PAUSED;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    engine_finish(
        e, QM_EXIT_FAILED, "failed",
        "%s. The guest is split: it runs on the destination, which cannot "
        "fetch its remaining pages from the source. Do not resume the "
        "source; recover with QEMU's post-copy recovery, by hand, once the "
        "link works:%s (1) on the destination's monitor%s%s: "
        "{\"execute\": \"migrate-recover\", \"arguments\": {\"uri\": "
        "\"%s\"}}; (2) on the source's monitor %s: {\"execute\": "
        "\"migrate\", \"arguments\": {\"uri\": \"%s\", \"resume\": true}}; "
        "(3) follow it with 'qmigrate watch --source %s'",
        what,
        paused ? ""
               : " (0) on the source's monitor: {\"execute\": "
                 "\"migrate-pause\"} (both sides then say postcopy-paused);",
        e->cfg.dest != NULL ? " " : "", e->cfg.dest != NULL ? e->cfg.dest : "",
        recover_uri(e), e->cfg.source, recover_uri(e), e->cfg.source);
}

/* --- the attempts --------------------------------------------------------- */

static void
recover_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;

    (void)loop;
    (void)revents;
    if (e->phase == PHASE_POSTCOPY_PAUSED || e->phase == PHASE_RECOVER) {
        engine_enter(e, PHASE_RECOVER);
    }
}

static void
recover_timed_out(struct engine *e)
{
    recover_give_up(e,
                    "post-copy recovery did not succeed within "
                    "--recover-timeout %.0f s (%u attempts; the last: %s)",
                    e->cfg.recover_timeout_s, e->recover_attempts,
                    e->recover_why[0] ? e->recover_why : "none answered");
}

/* The next attempt after a pause, unless the time is up. */
static void recover_retry(struct engine *e, double delay, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
recover_retry(struct engine *e, double delay, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(e->recover_why, sizeof(e->recover_why), fmt, ap);
    va_end(ap);
    e->recover_busy = false;
    e->recover_resumed = false;
    if (engine_now(e) + delay > e->recover_deadline) {
        recover_timed_out(e);
        return;
    }
    engine_note(e, 0, "%spost-copy recovery, attempt %u: %s; again in %.0f s",
                engine_prefix(e), e->recover_attempts, e->recover_why, delay);
    ev_set_cb(&e->recover_timer, recover_timer_cb);
    ev_timer_set(&e->recover_timer, delay, 0.0);
    ev_timer_start(e->loop, &e->recover_timer);
}

/* A reply from the destination that is no answer: retry, or it is gone. */
static bool
dst_no_answer(struct engine *e, const char *command,
              const struct qmp_error *err)
{
    if (err->kind == QMP_ERROR_COMMAND || err->kind == QMP_ERROR_TIMEOUT) {
        recover_retry(e, ENGINE_RECOVER_RETRY_S, "%s on the destination: %s",
                      command, err->message);
        return true;
    }
    e->dst_lost = true;
    recover_give_up(e, "lost the destination monitor during recovery (%s)",
                    err->message);
    return true;
}

static void
resume_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (e->phase != PHASE_RECOVER) {
        return;
    }
    if (err != NULL) {
        if (err->kind == QMP_ERROR_COMMAND || err->kind == QMP_ERROR_TIMEOUT) {
            recover_retry(e, ENGINE_RECOVER_RETRY_S,
                          "migrate with resume on the source: %s",
                          err->message);
        } else {
            engine_monitor_lost(e, e->src, err);
        }
        return;
    }
    e->recover_busy = false;
    e->recover_resumed = true;
    e->recover_resume_t = engine_now(e);
    engine_poll(e);
}

static void
send_resume(struct engine *e)
{
    engine_tell_action(e, POLICY_ACTION_RESUME, e->recover_attempts,
                       "attempt %u: the source reconnects to %s (migrate "
                       "with resume)",
                       e->recover_attempts, recover_uri(e));
    engine_send(e, e->src, qemu_migrate_resume(recover_uri(e)), resume_reply);
}

static void
recover_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (e->phase != PHASE_RECOVER) {
        return;
    }
    if (err != NULL) {
        dst_no_answer(e, "migrate-recover", err);
        return;
    }
    send_resume(e);
}

/* Where the destination stands decides the step. */
static void
dst_state_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct policy_sample d;
    char why[256];

    if (e->phase != PHASE_RECOVER) {
        return;
    }
    if (err != NULL) {
        dst_no_answer(e, "query-migrate", err);
        return;
    }
    if (sample_from_query_migrate(ret, &d, why, sizeof(why)) < 0) {
        recover_retry(e, ENGINE_RECOVER_RETRY_S, "the destination: %s", why);
        return;
    }
    switch (d.status) {
    case MIGRATION_STATUS_POSTCOPY_PAUSED:
        engine_tell_action(e, POLICY_ACTION_RECOVER, e->recover_attempts,
                           "attempt %u: the destination listens on %s "
                           "(migrate-recover)",
                           e->recover_attempts, recover_uri(e));
        engine_send_oob(e, e->dst, qemu_migrate_recover(recover_uri(e)),
                        recover_reply);
        break;
    case MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP:
    case MIGRATION_STATUS_POSTCOPY_RECOVER:
        send_resume(e); /* it listens already, from an earlier attempt */
        break;
    case MIGRATION_STATUS_POSTCOPY_ACTIVE:
    case MIGRATION_STATUS_COMPLETED:
        recover_retry(e, ENGINE_RECOVER_RETRY_S,
                      "the destination says %s: it has not seen the break "
                      "yet",
                      migration_status_name(d.status));
        break;
    default:
        recover_give_up(e,
                        "post-copy recovery: the destination's migration "
                        "is %s",
                        migration_status_name(d.status));
        break;
    }
}

/* --- the phases ------------------------------------------------------------
 */

/* Why qmigrate cannot recover itself (recover_possible() is false). */
static const char *
why_impossible(const struct engine *e)
{
    if (e->cfg.mode != ENGINE_MIGRATE) {
        return "qmigrate only follows this migration";
    }
    if (e->dst == NULL) {
        return "without --dest qmigrate cannot run migrate-recover on the "
               "destination";
    }
    if (e->dst_lost) {
        return "the destination monitor is gone (its QEMU may have died)";
    }
    return "this QEMU has no post-copy recovery (it came in 3.0)";
}

void
engine_enter_postcopy_paused(struct engine *e)
{
    if (!recover_possible(e)) {
        recover_give_up(e,
                        "the post-copy stream broke (postcopy-paused%s%s) and "
                        "%s",
                        e->recover_why[0] ? ": " : "", e->recover_why,
                        why_impossible(e));
        return;
    }
    e->recover_busy = false;
    e->recover_resumed = false;
    if (e->recover_deadline == 0) {
        e->recover_deadline = engine_now(e) + e->cfg.recover_timeout_s;
        e->recover_attempts = 0;
        engine_error(e,
                     "%spost-copy paused: the stream broke%s%s; recovering "
                     "(migrate-recover on the destination at %s, then "
                     "migrate with resume) for up to %.0f s",
                     engine_prefix(e), e->recover_why[0] ? ": " : "",
                     e->recover_why, recover_uri(e), e->cfg.recover_timeout_s);
    }
    ev_set_cb(&e->recover_timer, recover_timer_cb);
    ev_timer_set(&e->recover_timer, e->recover_attempts == 0 ? 0.0 : 1.0, 0.0);
    ev_timer_start(e->loop, &e->recover_timer);
}

void
engine_enter_recover(struct engine *e)
{
    if (e->recover_busy) {
        return;
    }
    e->recover_busy = true;
    e->recover_resumed = false;
    e->recover_attempts++;
    e->recover_attempt_t = engine_now(e);
    engine_send(e, e->dst, qemu_query_migrate(), dst_state_reply);
}

void
recover_break_stream(struct engine *e, const char *why)
{
    if (e->stream_broken) {
        return;
    }
    e->stream_broken = true;
    engine_tell_action(e, POLICY_ACTION_BREAK_STREAM, 0,
                       "%s in post-copy: the stream is broken on purpose, "
                       "to recover it",
                       why);
    engine_send_oob(e, e->src, qemu_migrate_pause(), NULL);
}

bool
recover_follow(struct engine *e, const struct policy_sample *s)
{
    switch (s->status) {
    case MIGRATION_STATUS_POSTCOPY_ACTIVE:
        e->recoveries++;
        engine_note(e, 0,
                    "%spost-copy recovered after %.1f s (attempt %u): the "
                    "stream runs again",
                    engine_prefix(e),
                    s->t - (e->recover_deadline - e->cfg.recover_timeout_s),
                    e->recover_attempts);
        ev_timer_stop(e->loop, &e->recover_timer);
        e->recover_deadline = 0;
        e->recover_busy = false;
        e->recover_resumed = false;
        e->stream_broken = false;
        e->recover_why[0] = '\0';
        engine_enter(e, PHASE_POSTCOPY);
        break;
    case MIGRATION_STATUS_POSTCOPY_PAUSED:
        if (e->phase == PHASE_RECOVER && e->recover_resumed &&
            s->t - e->recover_resume_t > ENGINE_RESUME_WAIT_S) {
            recover_retry(e, ENGINE_RECOVER_RETRY_S,
                          "the source is still postcopy-paused %.0f s after "
                          "migrate with resume",
                          s->t - e->recover_resume_t);
        } else if (e->phase == PHASE_RECOVER && e->recover_busy &&
                   s->t - e->recover_attempt_t >
                       e->cfg.command_timeout_s + ENGINE_RESUME_WAIT_S) {
            /* a reply lost with a monitor that came back */
            recover_retry(e, ENGINE_RECOVER_RETRY_S,
                          "attempt %u got no answer in %.0f s",
                          e->recover_attempts, s->t - e->recover_attempt_t);
        } else if (e->recover_deadline > 0 && s->t > e->recover_deadline) {
            recover_timed_out(e);
        }
        break;
    default: /* postcopy-recover(-setup): under way */
        break;
    }
    return e->phase != PHASE_DONE;
}
