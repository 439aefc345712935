/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/engine: an engine's life: new, start, the sinks, commands sent,
 * the one way out, free. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/internal.h"

double
engine_now(const struct engine *e)
{
    return ev_now(e->loop) - e->t0;
}

const char *
engine_name(const struct engine *e)
{
    return e->cfg.name;
}

const char *
engine_prefix(const struct engine *e)
{
    return e->owned[9] != NULL ? e->owned[9] : "";
}

/* --- the sinks ----------------------------------------------------------- */

int
engine_add_sink(struct engine *e, const struct engine_sink *sink, void *opaque)
{
    if (e->n_sinks >= ENGINE_MAX_SINKS) {
        return -1;
    }
    e->sinks[e->n_sinks].sink = sink;
    e->sinks[e->n_sinks].opaque = opaque;
    e->n_sinks++;
    return 0;
}

#define FOR_EACH_SINK(e, i, member)                                            \
    for ((i) = 0; (i) < (e)->n_sinks; (i)++)                                   \
        if ((e)->sinks[i].sink->member != NULL)

static void engine_vtext(struct engine *e, int level, const char *fmt,
                         va_list ap) __attribute__((format(printf, 3, 0)));

/* level < 0: an error */
static void
engine_vtext(struct engine *e, int level, const char *fmt, va_list ap)
{
    char text[2048];
    size_t i;

    vsnprintf(text, sizeof(text), fmt, ap);
    if (level < 0) {
        FOR_EACH_SINK(e, i, error)
        {
            e->sinks[i].sink->error(e, e->sinks[i].opaque, text);
        }
        return;
    }
    FOR_EACH_SINK(e, i, note)
    {
        e->sinks[i].sink->note(e, e->sinks[i].opaque, level, text);
    }
}

void
engine_note(struct engine *e, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    engine_vtext(e, level, fmt, ap);
    va_end(ap);
}

void
engine_error(struct engine *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    engine_vtext(e, -1, fmt, ap);
    va_end(ap);
}

/* The start (once): the migration as a whole begins, disks first. */
void
engine_emit_start(struct engine *e)
{
    struct engine_start st;
    size_t i;

    if (e->announced) {
        return;
    }
    e->announced = true;
    memset(&st, 0, sizeof(st));
    st.source = e->cfg.source;
    st.uri = e->cfg.uri;
    st.dest = e->cfg.dest;
    st.policy = &e->policy;
    st.ram_total = e->ram_size;
    for (i = 0; i < e->n_disks; i++) {
        st.disk_total += e->disks[i].size;
    }
    st.downtime_limit_ms = e->levers.downtime_ms;
    st.bandwidth = e->levers.bandwidth;
    st.interval_ms = e->cfg.interval_ms;
    engine_note(e, 0, "%smigrating %s to %s (policy %s)", engine_prefix(e),
                e->cfg.source, e->cfg.uri, policy_kind_name(e->policy.kind));
    FOR_EACH_SINK(e, i, start)
    {
        e->sinks[i].sink->start(e, e->sinks[i].opaque, engine_now(e), &st);
    }
    for (i = 0; i < e->initial.n_actions; i++) {
        engine_emit_action(e, engine_now(e), &e->initial.actions[i], false);
    }
}

void
engine_emit_preflight(struct engine *e, const struct policy_preflight_report *r)
{
    size_t i;

    engine_note(e, 0, "%spreflight: %s: %s", engine_prefix(e),
                policy_verdict_name(r->verdict), r->reason);
    FOR_EACH_SINK(e, i, preflight)
    {
        e->sinks[i].sink->preflight(e, e->sinks[i].opaque, engine_now(e), r);
    }
}

void
engine_emit_measure(struct engine *e, const struct engine_measure_event *ev)
{
    size_t i;

    FOR_EACH_SINK(e, i, measure)
    {
        e->sinks[i].sink->measure(e, e->sinks[i].opaque, ev);
    }
}

void
engine_emit_action(struct engine *e, double t, const struct policy_action *a,
                   bool advice)
{
    size_t i;

    FOR_EACH_SINK(e, i, action)
    {
        e->sinks[i].sink->action(e, e->sinks[i].opaque, t, a, advice);
    }
}

/* --- commands ------------------------------------------------------------ */

/* A command in flight: whose it is, and what to do with the reply. */
struct engine_call {
    struct engine *e;
    engine_reply_fn *reply;
};

/* Every reply passes here: counted, then dropped if the engine ended. */
static void
engine_call_reply(struct qmp_client *c, json_t *ret,
                  const struct qmp_error *err, void *opaque)
{
    struct engine_call *call = opaque;
    struct engine *e = call->e;

    (void)c;
    e->pending--;
    if (e->phase != PHASE_DONE && call->reply != NULL) {
        call->reply(e, ret, err);
    }
}

static int
engine_send_how(struct engine *e, struct qmp_client *side,
                struct qemu_command cmd, engine_reply_fn *reply, bool oob)
{
    struct engine_call *call = malloc(sizeof(*call));
    struct qmp_error err;

    if (call == NULL) {
        json_decref(cmd.args);
        engine_finish(e, QM_EXIT_FAILED, "error", "out of memory");
        return -1;
    }
    call->e = e;
    call->reply = reply;
    e->pending++;
    if ((oob ? qmp_client_execute_oob
             : qmp_client_execute)(side, cmd.name, cmd.args, engine_call_reply,
                                   call, free, &err) < 0) {
        e->pending--;
        engine_finish(e, QM_EXIT_MONITOR, "error", "%s", err.message);
        return -1;
    }
    return 0;
}

int
engine_send(struct engine *e, struct qmp_client *side, struct qemu_command cmd,
            engine_reply_fn *reply)
{
    return engine_send_how(e, side, cmd, reply, false);
}

int
engine_send_oob(struct engine *e, struct qmp_client *side,
                struct qemu_command cmd, engine_reply_fn *reply)
{
    return engine_send_how(e, side, cmd, reply, true);
}

void
engine_setup_failed(struct engine *e, const struct qmp_error *err)
{
    enum qm_exit code =
        err->kind == QMP_ERROR_COMMAND ? QM_EXIT_USAGE : QM_EXIT_MONITOR;

    engine_finish(e, code, "error", "%s", err->message);
}

/* --- the one way out ------------------------------------------------------ */

static void
engine_stop_timers(struct engine *e)
{
    ev_timer_stop(e->loop, &e->poll_timer);
    ev_timer_stop(e->loop, &e->cancel_timer);
    ev_timer_stop(e->loop, &e->settle_timer);
    ev_timer_stop(e->loop, &e->disk_timer);
    ev_timer_stop(e->loop, &e->reconnect_timer);
    ev_timer_stop(e->loop, &e->measure.timer);
    ev_timer_stop(e->loop, &e->recover_timer);
}

static void engine_vfinish(struct engine *e, enum qm_exit code,
                           const char *result, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
engine_vfinish(struct engine *e, enum qm_exit code, const char *result,
               const char *fmt, va_list ap)
{
    struct engine_result *res = &e->result;
    size_t i;

    if (e->phase == PHASE_DONE) {
        return;
    }
    e->phase = PHASE_DONE;
    engine_stop_timers(e);
    res->code = code;
    res->result = result;
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    res->total_time_s = engine_now(e);
    FOR_EACH_SINK(e, i, end)
    {
        e->sinks[i].sink->end(e, e->sinks[i].opaque, res);
    }
    /* Let go of the monitors at once: QEMU serves one client at a time. */
    if (e->src != NULL) {
        qmp_client_close(e->src);
    }
    if (e->dst != NULL) {
        qmp_client_close(e->dst);
    }
    if (e->done != NULL) {
        e->done(e, res, e->done_opaque);
    }
}

void
engine_finish(struct engine *e, enum qm_exit code, const char *result,
              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    engine_vfinish(e, code, result, fmt, ap);
    va_end(ap);
}

void
engine_refuse(struct engine *e, enum qm_exit code, const char *fmt, ...)
{
    va_list ap;

    e->t0 = ev_now(e->loop);
    va_start(ap, fmt);
    engine_vfinish(e, code, "error", fmt, ap);
    va_end(ap);
}

/* --- life ---------------------------------------------------------------- */

/* Copies a borrowed string of cfg into owned[slot]; NULL stays NULL. */
static int
own(struct engine *e, size_t slot, const char **s)
{
    if (*s == NULL || (*s)[0] == '\0') {
        *s = NULL;
        return 0;
    }
    e->owned[slot] = strdup(*s);
    *s = e->owned[slot];
    return *s != NULL ? 0 : -1;
}

struct engine *
engine_new(struct ev_loop *loop, const struct engine_config *cfg,
           engine_done_fn *done, void *opaque, char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof(*e));
    int rc = 0;

    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->loop = loop;
    e->cfg = *cfg;
    rc |= own(e, 0, &e->cfg.source);
    rc |= own(e, 1, &e->cfg.dest);
    rc |= own(e, 2, &e->cfg.uri);
    rc |= own(e, 3, &e->cfg.disk_include);
    rc |= own(e, 4, &e->cfg.nbd);
    rc |= own(e, 5, &e->cfg.tls_creds);
    rc |= own(e, 6, &e->cfg.tls_dir);
    rc |= own(e, 7, &e->cfg.tls_hostname);
    rc |= own(e, 8, &e->cfg.name);
    rc |= own(e, 10, &e->cfg.recover_uri);
    if (rc == 0 && e->cfg.name != NULL &&
        asprintf(&e->owned[9], "%s: ", e->cfg.name) < 0) {
        e->owned[9] = NULL;
        rc = -1;
    }
    if (rc != 0 || e->cfg.source == NULL) {
        snprintf(err, errlen, rc != 0 ? "out of memory" : "no source monitor");
        engine_free(e);
        return NULL;
    }
    e->done = done;
    e->done_opaque = opaque;
    e->policy = cfg->policy;
    e->result.downtime_ms = -1;
    e->result.result = "error";
    e->phase = PHASE_NEW;
    snprintf(e->tls_object, sizeof(e->tls_object), "qmigrate-tls-%ld-%p",
             (long)getpid(), (void *)e);
    ev_init(&e->poll_timer, engine_poll_timer_cb);
    e->poll_timer.repeat = cfg->interval_ms / 1000.0;
    e->poll_timer.data = e;
    ev_init(&e->cancel_timer, engine_cancel_timer_cb);
    e->cancel_timer.data = e;
    ev_init(&e->settle_timer, engine_settle_timer_cb);
    e->settle_timer.data = e;
    ev_init(&e->reconnect_timer, NULL);
    e->reconnect_timer.data = e;
    ev_init(&e->disk_timer, NULL);
    e->disk_timer.data = e;
    ev_init(&e->measure.timer, NULL);
    e->measure.timer.data = e;
    ev_init(&e->recover_timer, NULL);
    e->recover_timer.data = e;
    levers_init(&e->levers, QEMU_DEFAULT_DOWNTIME_LIMIT_MS, e->policy.bandwidth,
                e->policy.auto_converge_permitted);
    e->levers.dirty_limit_permitted = e->policy.dirty_limit_permitted;
    if (engine_clients_new(e, err, errlen) < 0) {
        engine_free(e);
        return NULL;
    }
    return e;
}

void
engine_start(struct engine *e)
{
    e->t0 = ev_now(e->loop);
    engine_enter(e, PHASE_CONNECT);
}

void
engine_cancel(struct engine *e, const char *why)
{
    engine_begin_cancel(e, QM_EXIT_ABORTED, "%s", why);
}

bool
engine_last(const struct engine *e, struct policy_sample *s,
            struct policy_report *r)
{
    if (!e->have_sample) {
        return false;
    }
    *s = e->last_sample;
    *r = e->last_report;
    return true;
}

void
engine_free(struct engine *e)
{
    size_t i;

    if (e == NULL) {
        return;
    }
    e->phase = PHASE_DONE;
    engine_stop_timers(e);
    qmp_client_free(e->src);
    qmp_client_free(e->dst);
    preflight_clear(&e->pre);
    for (i = 0; i < sizeof(e->owned) / sizeof(e->owned[0]); i++) {
        free(e->owned[i]);
    }
    free(e);
}
