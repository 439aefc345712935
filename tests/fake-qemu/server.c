/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the libev server: monitors, clients, model ticks, faults. */
#include "tests/fake-qemu/fake.h"

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/stream.h"

/* A client that reads nothing gets dropped past this much queued output. */
#define OUT_MAX ((size_t)16 * 1024 * 1024)

struct endpoint;

struct client {
    struct endpoint *ep;
    int fd;
    ev_io rio;
    ev_io wio;
    ev_timer late; /* a late reply (or greeting) is held back */
    struct qmp_stream in;
    struct fq_session session;
    char *out;
    size_t out_len;
    size_t out_cap;
    json_t *queue; /* requests waiting behind a late one */
    json_t *held;  /* the late request; NULL for the greeting */
    bool holding;
    bool greeted;
    bool cut_next; /* hangup-mid-message: cut the next message */
    bool closing;  /* close once the output is flushed */
};

/* One VM and its monitor socket. */
struct endpoint {
    struct fq_server *srv;
    struct fq_vm vm;
    struct fq_faults faults;
    bool vm_ready;
    int listen_fd;
    ev_io lio;
    char addr[FQ_ADDR_MAX + 64];
    char path[FQ_ADDR_MAX]; /* UNIX socket to remove on a clean exit */
    struct client *client;
    double synced;     /* wall time the model was advanced to */
    int armed_reply;   /* error/late waiting for the next command */
    int armed_stream;  /* a stream fault waiting for a client */
    double unstall_at; /* wall time; < 0 when not pending */
    bool dead;
};

struct fq_server {
    struct ev_loop *loop;
    struct endpoint *eps;
    size_t n;
    size_t alive;
    double start; /* wall time of model time 0 */
    double scale;
    ev_timer tick;
    ev_signal sigint;
    ev_signal sigterm;
    int exit_code;
};

static void client_close(struct client *c);
static void process_request(struct client *c, json_t *req, bool faults);
static void apply_fault(struct endpoint *ep, int i);

static double
rel_now(const struct fq_server *srv)
{
    return ev_now(srv->loop) - srv->start;
}

/* Queues text for the client, CRLF after it, as QEMU ends messages. */
static void
send_raw(struct client *c, const char *text, size_t len, bool crlf)
{
    size_t need;

    if (c->closing) {
        return;
    }
    if (c->cut_next) {
        /* hangup-mid-message: half of this message, then hang up */
        len /= 2;
        crlf = false;
        c->closing = true;
        ev_io_stop(c->ep->srv->loop, &c->rio);
    }
    need = c->out_len + len + 2;
    if (need > OUT_MAX) {
        c->closing = true;
        return;
    }
    if (need > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        char *n;

        while (cap < need) {
            cap *= 2;
        }
        n = realloc(c->out, cap);
        if (n == NULL) {
            c->closing = true;
            return;
        }
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out_len += len;
    if (crlf) {
        memcpy(c->out + c->out_len, "\r\n", 2);
        c->out_len += 2;
    }
    ev_io_start(c->ep->srv->loop, &c->wio);
}

static void
send_json(struct client *c, const json_t *msg)
{
    char *text = msg ? fq_json_dumps_qemu(msg) : NULL;

    if (text == NULL) {
        return;
    }
    send_raw(c, text, strlen(text), true);
    free(text);
}

static void
send_garbage(struct client *c)
{
    static const char garbage[] = "{\"return\": {\"status\": \"active\",]}}";

    send_raw(c, garbage, sizeof(garbage) - 1, true);
}

static void
send_bad_utf8(struct client *c)
{
    static const char bad[] = "{\"timestamp\": {\"seconds\": 0, "
                              "\"microseconds\": 0}, \"event\": "
                              "\"MIGRATION\", \"data\": {\"status\": "
                              "\"\xff\xfe\xc3\x28\"}}";

    send_raw(c, bad, sizeof(bad) - 1, true);
}

/* Moves the model up to now (wall) in model time. */
static void
sync_model(struct endpoint *ep)
{
    double now = ev_now(ep->srv->loop);

    if (now > ep->synced) {
        fq_model_advance(ep->vm.model, (now - ep->synced) * ep->srv->scale);
        ep->synced = now;
    }
}

/* Sends the model's events, and lets pass/status faults see them. */
static void
flush_events(struct endpoint *ep)
{
    struct fq_server *srv = ep->srv;
    struct client *c = ep->client;
    struct fq_event ev;

    while (fq_model_next_event(ep->vm.model, &ev)) {
        double wall = srv->start + ev.time / srv->scale;
        bool migration =
            ev.type == FQ_EVENT_MIGRATION || ev.type == FQ_EVENT_MIGRATION_PASS;
        json_t *msg;

        fq_faults_event(&ep->faults, &ev, rel_now(srv));
        if (c == NULL || !c->greeted || !c->session.negotiated ||
            (migration && !fq_model_caps(ep->vm.model)->events)) {
            continue;
        }
        msg = fq_monitor_event(&ev, wall);
        send_json(c, msg);
        json_decref(msg);
    }
}

static void
process_due(struct endpoint *ep)
{
    int i;

    if (ep->unstall_at >= 0 && rel_now(ep->srv) >= ep->unstall_at) {
        ep->unstall_at = -1;
        fq_model_stall(ep->vm.model, false);
    }
    while (!ep->dead &&
           (i = fq_faults_next_due(&ep->faults, rel_now(ep->srv))) >= 0) {
        apply_fault(ep, i);
    }
}

/* The VM goes away: a crash (die) leaves its socket file, quit not. */
static void
endpoint_die(struct endpoint *ep, bool crash)
{
    struct fq_server *srv = ep->srv;

    if (ep->dead) {
        return;
    }
    ep->dead = true;
    if (ep->client != NULL) {
        if (crash) {
            ep->client->out_len = 0;
        }
        ep->client->closing = true;
        if (ep->client->out_len == 0) {
            client_close(ep->client);
        }
    }
    if (ep->listen_fd >= 0) {
        ev_io_stop(srv->loop, &ep->lio);
        close(ep->listen_fd);
        ep->listen_fd = -1;
    }
    if (!crash && ep->path[0] != '\0') {
        unlink(ep->path);
        ep->path[0] = '\0';
    }
    if (crash) {
        srv->exit_code = 1;
    }
    /* the last VM gone ends the server, once its last words are out */
    if (--srv->alive == 0 && ep->client == NULL) {
        ev_break(srv->loop, EVBREAK_ALL);
    }
}

/* Hangs up once what is already queued (a greeting, events) is out. */
static void
client_hangup(struct client *c)
{
    ev_io_stop(c->ep->srv->loop, &c->rio);
    if (c->out_len == 0) {
        client_close(c);
        return;
    }
    c->closing = true;
}

static void
apply_stream_fault(struct client *c, enum fq_action a)
{
    switch (a) {
    case FQ_ACT_HANGUP:
        client_hangup(c);
        break;
    case FQ_ACT_HANGUP_MID:
        c->cut_next = true;
        break;
    case FQ_ACT_GARBAGE_JSON:
        send_garbage(c);
        break;
    case FQ_ACT_BAD_UTF8:
        send_bad_utf8(c);
        break;
    default:
        break;
    }
}

static void
apply_fault(struct endpoint *ep, int i)
{
    const struct fq_fault *f = &ep->faults.list[i];
    struct client *c = ep->client;

    switch (f->action) {
    case FQ_ACT_FAIL_MIGRATION:
        sync_model(ep);
        fq_model_fail(ep->vm.model, f->desc);
        flush_events(ep);
        break;
    case FQ_ACT_STALL:
        sync_model(ep);
        fq_model_stall(ep->vm.model, true);
        ep->unstall_at = f->seconds > 0 ? rel_now(ep->srv) + f->seconds : -1;
        break;
    case FQ_ACT_UNSTALL:
        sync_model(ep);
        fq_model_stall(ep->vm.model, false);
        ep->unstall_at = -1;
        break;
    case FQ_ACT_DIRTY_RATE:
        sync_model(ep);
        fq_model_set_dirty_rate(ep->vm.model, f->rate);
        break;
    case FQ_ACT_DIE:
        endpoint_die(ep, true);
        break;
    case FQ_ACT_BREAK_STREAM:
        sync_model(ep);
        fq_model_break_stream(ep->vm.model, f->desc);
        flush_events(ep);
        break;
    case FQ_ACT_ERROR:
    case FQ_ACT_LATE:
        ep->armed_reply = i;
        break;
    case FQ_ACT_HANGUP:
    case FQ_ACT_HANGUP_MID:
    case FQ_ACT_GARBAGE_JSON:
    case FQ_ACT_BAD_UTF8:
        if (c != NULL && c->greeted && !c->closing) {
            apply_stream_fault(c, f->action);
        } else {
            ep->armed_stream = i;
        }
        break;
    }
}

static void
client_free(struct client *c)
{
    qmp_stream_reset(&c->in);
    json_decref(c->queue);
    json_decref(c->held);
    free(c->out);
    free(c);
}

static void
client_close(struct client *c)
{
    struct endpoint *ep = c->ep;
    struct ev_loop *loop = ep->srv->loop;

    ev_io_stop(loop, &c->rio);
    ev_io_stop(loop, &c->wio);
    ev_timer_stop(loop, &c->late);
    close(c->fd);
    ep->client = NULL;
    client_free(c);
    /* the next client waiting in the backlog gets its greeting now */
    if (!ep->dead && ep->listen_fd >= 0) {
        ev_io_start(loop, &ep->lio);
    }
    if (ep->dead && ep->srv->alive == 0) {
        ev_break(loop, EVBREAK_ALL);
    }
}

static void
greet(struct client *c)
{
    struct endpoint *ep = c->ep;
    json_t *g = fq_monitor_greeting(&ep->vm);

    send_json(c, g);
    json_decref(g);
    c->greeted = true;
    if (ep->armed_stream >= 0) {
        enum fq_action a = ep->faults.list[ep->armed_stream].action;

        ep->armed_stream = -1;
        apply_stream_fault(c, a);
    }
}

/* Runs the requests that queued up while a reply was held back. */
static void
drain_queue(struct client *c)
{
    struct endpoint *ep = c->ep;

    while (ep->client == c && !c->holding && !c->closing &&
           json_array_size(c->queue) > 0) {
        json_t *req = json_incref(json_array_get(c->queue, 0));

        json_array_remove(c->queue, 0);
        process_request(c, req, true);
        json_decref(req);
    }
}

static void
late_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct client *c = w->data;
    struct endpoint *ep = c->ep;
    json_t *req = c->held;

    (void)loop;
    (void)revents;
    c->holding = false;
    c->held = NULL;
    if (req == NULL) {
        greet(c);
    } else {
        process_request(c, req, false);
        json_decref(req);
    }
    if (ep->client == c) {
        drain_queue(c);
    }
}

static void
hold(struct client *c, json_t *req, double seconds)
{
    c->holding = true;
    c->held = req ? json_incref(req) : NULL;
    ev_timer_set(&c->late, seconds, 0);
    ev_timer_start(c->ep->srv->loop, &c->late);
}

/* Runs one request with its faults: the heart of the monitor. */
static void
process_request(struct client *c, json_t *req, bool faults)
{
    struct endpoint *ep = c->ep;
    const char *name = fq_monitor_command_name(req);
    const struct fq_fault *f = NULL;
    json_t *rsp = NULL;
    int i = -1;

    sync_model(ep);
    flush_events(ep);
    if (faults && name != NULL) {
        i = fq_faults_command(&ep->faults, name, rel_now(ep->srv));
    }
    if (faults && i < 0 && ep->armed_reply >= 0) {
        i = ep->armed_reply;
        ep->armed_reply = -1;
    }
    if (i >= 0) {
        f = &ep->faults.list[i];
        switch (f->action) {
        case FQ_ACT_LATE:
            hold(c, req, f->seconds);
            return;
        case FQ_ACT_HANGUP:
            client_hangup(c);
            process_due(ep);
            return;
        case FQ_ACT_DIE:
            endpoint_die(ep, true);
            return;
        case FQ_ACT_ERROR: {
            struct fq_error e;

            snprintf(e.cls, sizeof(e.cls), "%s", f->cls);
            snprintf(e.desc, sizeof(e.desc), "%s", f->desc);
            rsp = fq_monitor_error(req, &e);
            break;
        }
        default:
            break;
        }
    }
    if (rsp == NULL) {
        rsp = fq_monitor_request(&ep->vm, &c->session, req);
    }
    /* events the command caused go out before its reply, as in QEMU */
    flush_events(ep);
    if (f != NULL && f->action == FQ_ACT_GARBAGE_JSON) {
        send_garbage(c);
    } else if (f != NULL && f->action == FQ_ACT_BAD_UTF8) {
        send_bad_utf8(c);
    } else {
        if (f != NULL && f->action == FQ_ACT_HANGUP_MID) {
            c->cut_next = true;
        }
        send_json(c, rsp);
    }
    json_decref(rsp);
    if (ep->vm.quit) {
        static const struct fq_event shutdown = {.type = FQ_EVENT_STOP};
        json_t *ev = fq_monitor_event(&shutdown, ev_now(ep->srv->loop));

        json_object_set_new(ev, "event", json_string("SHUTDOWN"));
        json_object_set_new(
            ev, "data",
            json_pack("{s:b, s:s}", "guest", 0, "reason", "host-qmp-quit"));
        send_json(c, ev);
        json_decref(ev);
        endpoint_die(ep, false);
        return;
    }
    process_due(ep);
}

static void
handle_message(struct client *c, json_t *req)
{
    if (c->holding || !c->greeted) {
        json_array_append(c->queue, req);
        return;
    }
    process_request(c, req, true);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = w->data;
    struct endpoint *ep = c->ep;
    char buf[65536];
    ssize_t n;

    (void)loop;
    (void)revents;
    n = recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0 || qmp_stream_feed(&c->in, buf, (size_t)n) < 0) {
        client_close(c);
        return;
    }
    for (;;) {
        char errbuf[200];
        json_t *msg = NULL;
        int rc = qmp_stream_next(&c->in, &msg, errbuf, sizeof(errbuf));

        if (rc == 0) {
            break;
        }
        if (rc < 0) {
            struct fq_error e = {"GenericError", ""};
            json_t *rsp;

            snprintf(e.desc, sizeof(e.desc), "JSON parse error, %s", errbuf);
            rsp = fq_monitor_error(NULL, &e);
            send_json(c, rsp);
            json_decref(rsp);
            /* QEMU's parser starts afresh after an error */
            qmp_stream_reset(&c->in);
            break;
        }
        handle_message(c, msg);
        json_decref(msg);
        if (ep->client != c || c->closing) {
            break;
        }
    }
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = w->data;
    ssize_t n;

    (void)revents;
    while (c->out_len > 0) {
        n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }
            client_close(c);
            return;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    ev_io_stop(loop, &c->wio);
    if (c->closing) {
        client_close(c);
    }
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct endpoint *ep = w->data;
    struct client *c;
    int fd;
    int i;

    (void)revents;
    fd = accept4(ep->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->queue = json_array()) == NULL) {
        free(c);
        close(fd);
        return;
    }
    c->ep = ep;
    c->fd = fd;
    qmp_stream_init(&c->in, 0);
    ev_io_init(&c->rio, read_cb, fd, EV_READ);
    ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
    ev_timer_init(&c->late, late_cb, 0, 0);
    c->rio.data = c;
    c->wio.data = c;
    c->late.data = c;
    ep->client = c;
    /* one client at a time: later ones wait in the backlog, ungreeted */
    ev_io_stop(loop, &ep->lio);
    ev_io_start(loop, &c->rio);

    sync_model(ep);
    i = fq_faults_connect(&ep->faults, rel_now(ep->srv));
    if (i >= 0) {
        const struct fq_fault *f = &ep->faults.list[i];

        switch (f->action) {
        case FQ_ACT_HANGUP:
            client_close(c);
            return;
        case FQ_ACT_LATE:
            hold(c, NULL, f->seconds);
            return;
        case FQ_ACT_HANGUP_MID:
            c->cut_next = true;
            break;
        case FQ_ACT_GARBAGE_JSON:
            send_garbage(c);
            c->greeted = true;
            return;
        case FQ_ACT_BAD_UTF8:
            send_bad_utf8(c);
            c->greeted = true;
            return;
        case FQ_ACT_ERROR:
            /* a greeting cannot be refused: the first command is */
            ep->armed_reply = i;
            break;
        default:
            break;
        }
    }
    greet(c);
    process_due(ep);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct fq_server *srv = w->data;
    size_t i;

    (void)loop;
    (void)revents;
    for (i = 0; i < srv->n; i++) {
        struct endpoint *ep = &srv->eps[i];

        if (ep->dead) {
            continue;
        }
        sync_model(ep);
        flush_events(ep);
        process_due(ep);
    }
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static int
endpoint_init(struct fq_server *srv, struct endpoint *ep,
              const struct fq_scenario *sc, const struct fq_vm_spec *spec,
              struct fq_error *err)
{
    struct fq_model_config cfg;

    ep->srv = srv;
    ep->listen_fd = -1;
    ep->armed_reply = -1;
    ep->armed_stream = -1;
    ep->unstall_at = -1;
    if (fq_scenario_vm_config(sc, spec, &cfg, err) < 0 ||
        fq_vm_init(&ep->vm, spec->name, &cfg, &sc->version, err) < 0) {
        return -1;
    }
    ep->vm_ready = true;
    if (fq_faults_init(&ep->faults, sc->faults, sc->n_faults, spec->name) < 0) {
        fq_error_set(err, "GenericError", "out of memory");
        return -1;
    }
    ep->listen_fd = fq_listen(spec->addr, ep->addr, sizeof(ep->addr), err);
    if (ep->listen_fd < 0) {
        char msg[sizeof(err->desc)];

        snprintf(msg, sizeof(msg), "%s", err->desc);
        fq_error_set(err, "GenericError", "VM '%s': %s", spec->name, msg);
        return -1;
    }
    if (strncmp(ep->addr, "unix:", 5) == 0) {
        snprintf(ep->path, sizeof(ep->path), "%s", ep->addr + 5);
    }
    ev_io_init(&ep->lio, accept_cb, ep->listen_fd, EV_READ);
    ep->lio.data = ep;
    ev_io_start(srv->loop, &ep->lio);
    return 0;
}

struct fq_server *
fq_server_new(const struct fq_scenario *sc, struct fq_error *err)
{
    struct fq_server *srv = calloc(1, sizeof(*srv));
    size_t i;

    if (srv == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
        return NULL;
    }
    srv->loop = ev_loop_new(EVFLAG_AUTO);
    srv->eps = calloc(sc->n_vms, sizeof(*srv->eps));
    if (srv->loop == NULL || srv->eps == NULL) {
        fq_error_set(err, "GenericError", "cannot set up the event loop");
        fq_server_free(srv);
        return NULL;
    }
    srv->scale = sc->time_scale;
    srv->start = ev_now(srv->loop);
    for (i = 0; i < sc->n_vms; i++) {
        srv->n++;
        srv->eps[i].synced = srv->start;
        if (endpoint_init(srv, &srv->eps[i], sc, &sc->vms[i], err) < 0) {
            fq_server_free(srv);
            return NULL;
        }
    }
    srv->alive = srv->n;
    ev_timer_init(&srv->tick, tick_cb, sc->tick_ms / 1000, sc->tick_ms / 1000);
    srv->tick.data = srv;
    ev_timer_start(srv->loop, &srv->tick);
    ev_signal_init(&srv->sigint, signal_cb, SIGINT);
    ev_signal_init(&srv->sigterm, signal_cb, SIGTERM);
    ev_signal_start(srv->loop, &srv->sigint);
    ev_signal_start(srv->loop, &srv->sigterm);
    return srv;
}

/* Prints each VM's address, then "ready", for whoever started us. */
static void
announce(const struct fq_server *srv)
{
    size_t i;

    for (i = 0; i < srv->n; i++) {
        printf("%s %s\n", srv->eps[i].vm.name, srv->eps[i].addr);
    }
    printf("ready\n");
    fflush(stdout);
}

int
fq_server_run(struct fq_server *srv)
{
    announce(srv);
    ev_run(srv->loop, 0);
    return srv->exit_code;
}

void
fq_server_free(struct fq_server *srv)
{
    size_t i;

    if (srv == NULL) {
        return;
    }
    for (i = 0; i < srv->n; i++) {
        struct endpoint *ep = &srv->eps[i];

        if (ep->client != NULL) {
            ep->dead = true;
            client_close(ep->client);
        }
        if (ep->listen_fd >= 0) {
            ev_io_stop(srv->loop, &ep->lio);
            close(ep->listen_fd);
        }
        if (ep->path[0] != '\0' && !(ep->dead && srv->exit_code != 0)) {
            unlink(ep->path);
        }
        fq_faults_fini(&ep->faults);
        if (ep->vm_ready) {
            fq_vm_fini(&ep->vm);
        }
    }
    if (srv->loop != NULL) {
        ev_loop_destroy(srv->loop);
    }
    free(srv->eps);
    free(srv);
}
