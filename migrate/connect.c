/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/connect: the monitors: connecting, their events, losing them and
 * the one reconnect attempt. */
#include <string.h>

#include "migrate/internal.h"

static void
client_ready(struct qmp_client *c, void *opaque)
{
    struct engine *e = opaque;
    const struct qmp_greeting *g = qmp_client_greeting(c);

    engine_note(e, 1, "connected to %s: QEMU %d.%d.%d %s",
                qmp_client_address(c), g->major, g->minor, g->micro,
                g->package);
    if (c == e->dst) {
        e->dst_ready = true;
        e->dst_version.major = g->major;
        e->dst_version.minor = g->minor;
        e->dst_version.micro = g->micro;
    } else {
        e->src_ready = true;
        e->version.major = g->major;
        e->version.minor = g->minor;
        e->version.micro = g->micro;
        if (e->phase == PHASE_RECONNECT) {
            /* back where the loss interrupted, the migration picked up */
            engine_resume(e);
            e->poll_in_flight = false;
            e->disk_poll_in_flight = false;
            engine_note(e, 0, "reconnected to the source monitor %s",
                        e->cfg.source);
            if (e->cancelling) {
                /* it may not have reached QEMU: send it again (harmless) */
                engine_send_cancel(e);
            } else if (e->cancel_requested) {
                e->cancel_requested = false;
                engine_begin_cancel(e, e->cancel_code, "%s", e->cancel_reason);
            }
            engine_poll(e);
            return;
        }
    }
    if (e->phase == PHASE_CONNECT && e->src_ready &&
        (e->dst == NULL || e->dst_ready)) {
        engine_enter(e, e->cfg.mode == ENGINE_MIGRATE ? PHASE_PREFLIGHT
                                                      : PHASE_ATTACH);
    }
}

static void
client_event(struct qmp_client *c, const char *name, json_t *data,
             double timestamp, void *opaque)
{
    struct engine *e = opaque;

    (void)data;
    (void)timestamp;
    if (c != e->src) {
        engine_note(e, 2, "destination event %s", name);
        return;
    }
    engine_note(e, 2, "event %s", name);
    if (strcmp(name, QEMU_EVENT_MIGRATION_PASS) == 0) {
        e->pass_event = true;
        engine_poll(e);
    } else if (strcmp(name, QEMU_EVENT_MIGRATION) == 0) {
        engine_poll(e);
    }
}

static void
client_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    engine_monitor_lost(opaque, c, why);
}

int
engine_clients_new(struct engine *e, char *err, size_t errlen)
{
    struct qmp_options qo;
    struct qmp_handlers h = {
        .ready = client_ready,
        .event = client_event,
        .closed = client_closed,
        .opaque = e,
    };

    qmp_options_init(&qo);
    qo.greeting_timeout = e->cfg.greeting_timeout_s;
    qo.command_timeout = e->cfg.command_timeout_s;
    qo.oob = true; /* migrate-pause and migrate-recover, out of band */
    qo.ssh_options = e->cfg.ssh_options; /* copied by qmp_client_new */
    qo.n_ssh_options = e->cfg.n_ssh_options;
    e->src = qmp_client_new(e->loop, &qo, &h);
    if (e->src != NULL && e->cfg.dest != NULL) {
        e->dst = qmp_client_new(e->loop, &qo, &h);
    }
    if (e->src == NULL || (e->cfg.dest != NULL && e->dst == NULL)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void
engine_enter_connect(struct engine *e)
{
    struct qmp_error err;

    if (qmp_client_connect(e->src, e->cfg.source, &err) < 0) {
        engine_finish(e, QM_EXIT_MONITOR, "error", "%s", err.message);
        return;
    }
    if (e->dst != NULL && qmp_client_connect(e->dst, e->cfg.dest, &err) < 0) {
        engine_finish(e, QM_EXIT_MONITOR, "error", "%s", err.message);
    }
}

/* --- the one reconnect attempt ------------------------------------------- */

static void
reconnect_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;
    struct qmp_error err;

    (void)loop;
    (void)revents;
    if (e->phase != PHASE_RECONNECT) {
        return;
    }
    e->reconnect_started = true;
    if (qmp_client_connect(e->src, e->cfg.source, &err) < 0) {
        engine_monitor_lost(e, e->src, &err);
    }
}

void
engine_enter_reconnect(struct engine *e)
{
    engine_measure_abandon(e, "the source monitor was lost");
    e->reconnected = true; /* the one attempt is used */
    engine_error(e, "lost the source monitor (%s); reconnecting once",
                 e->lost_why);
    ev_set_cb(&e->reconnect_timer, reconnect_timer_cb);
    ev_timer_set(&e->reconnect_timer, ENGINE_RECONNECT_DELAY_S, 0.0);
    ev_timer_start(e->loop, &e->reconnect_timer);
}
