/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/client: one QMP connection: connect, greet, negotiate, commands, events.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/internal.h"
#include "qmp/stream.h"

#define QMP_MAX_IN_FLIGHT_LIMIT 8 /* the QMP spec's queue length */
#define QMP_READ_CHUNK 65536

enum client_state {
    CLIENT_IDLE = 0,    /* not connected */
    CLIENT_TUNNEL,      /* ssh is setting up the forward (ssh://) */
    CLIENT_CONNECTING,  /* socket connect under way */
    CLIENT_GREETING,    /* connected, waiting for the greeting */
    CLIENT_NEGOTIATING, /* qmp_capabilities sent */
    CLIENT_READY,
};

enum command_state {
    COMMAND_QUEUED = 0, /* not yet written */
    COMMAND_SENT,       /* written, reply awaited */
    COMMAND_ABANDONED,  /* timed out; the reply is still owed by QEMU */
};

struct qmp_command {
    struct qmp_command *prev, *next;
    struct qmp_client *client;
    enum command_state state;
    long long id;
    char name[64];
    char *text; /* the serialised command, until written */
    size_t text_len;
    bool internal; /* qmp_capabilities, ours */
    bool oob;      /* out of band: past the queue and the in-flight cap */
    qmp_reply_fn *reply;
    void *opaque;
    qmp_free_fn *free_fn;
    ev_timer timer;
};

struct command_list {
    struct qmp_command *head, *tail;
    size_t count;
};

struct qmp_client {
    struct ev_loop *loop;
    struct qmp_options opts;
    struct qmp_handlers handlers;
    enum client_state state;
    int fd;
    char address[512];
    struct qmp_tunnel *tunnel; /* ssh://: the ssh process, else NULL */
    char **ssh_options;        /* copied from the options */
    ev_io read_watcher;
    ev_io write_watcher;
    ev_timer phase_timer; /* connect, then greeting, deadline */
    struct qmp_stream stream;
    struct qmp_greeting greeting;
    bool have_greeting;
    bool oob_enabled; /* out-of-band execution negotiated */
    long long next_id;
    struct command_list queued; /* not yet written, in order */
    struct command_list sent;   /* written: SENT or ABANDONED */
    size_t in_flight;           /* SENT + ABANDONED */
    char *out;                  /* bytes to write */
    size_t out_len, out_off, out_cap;
    int depth; /* callbacks running from this client */
    bool free_requested;
    unsigned generation; /* bumped by every close */
};

static void client_fail(struct qmp_client *c, const struct qmp_error *why,
                        bool notify);
static void client_flush(struct qmp_client *c);

void
qmp_options_init(struct qmp_options *opts)
{
    opts->connect_timeout = 5.0;
    opts->greeting_timeout = 3.0;
    opts->command_timeout = 30.0;
    opts->max_message = QMP_STREAM_DEFAULT_MAX;
    opts->max_in_flight = 4;
    opts->oob = false;
    opts->ssh_options = NULL;
    opts->n_ssh_options = 0;
}

static void
list_append(struct command_list *l, struct qmp_command *cmd)
{
    cmd->next = NULL;
    cmd->prev = l->tail;
    if (l->tail != NULL) {
        l->tail->next = cmd;
    } else {
        l->head = cmd;
    }
    l->tail = cmd;
    l->count++;
}

static void
list_prepend(struct command_list *l, struct qmp_command *cmd)
{
    cmd->prev = NULL;
    cmd->next = l->head;
    if (l->head != NULL) {
        l->head->prev = cmd;
    } else {
        l->tail = cmd;
    }
    l->head = cmd;
    l->count++;
}

static void
list_remove(struct command_list *l, struct qmp_command *cmd)
{
    if (cmd->prev != NULL) {
        cmd->prev->next = cmd->next;
    } else {
        l->head = cmd->next;
    }
    if (cmd->next != NULL) {
        cmd->next->prev = cmd->prev;
    } else {
        l->tail = cmd->prev;
    }
    cmd->prev = cmd->next = NULL;
    l->count--;
}

/* Runs the reply callback (once) and forgets it. */
static void
command_reply(struct qmp_command *cmd, json_t *ret, const struct qmp_error *err)
{
    qmp_reply_fn *reply = cmd->reply;

    cmd->reply = NULL;
    if (reply != NULL) {
        reply(cmd->client, ret, err, cmd->opaque);
    }
}

static void
command_destroy(struct qmp_command *cmd)
{
    ev_timer_stop(cmd->client->loop, &cmd->timer);
    if (cmd->free_fn != NULL) {
        cmd->free_fn(cmd->opaque);
    }
    free(cmd->text);
    free(cmd);
}

static void
client_free_ssh_options(struct qmp_client *c)
{
    size_t i;

    for (i = 0; c->ssh_options != NULL && i < c->opts.n_ssh_options; i++) {
        free(c->ssh_options[i]);
    }
    free(c->ssh_options);
    c->ssh_options = NULL;
    c->opts.ssh_options = NULL;
    c->opts.n_ssh_options = 0;
}

/* The options' strings become the client's own; -1 when out of memory. */
static int
client_copy_ssh_options(struct qmp_client *c)
{
    size_t i, n = c->opts.n_ssh_options;

    c->opts.n_ssh_options = 0;
    if (n == 0 || c->opts.ssh_options == NULL) {
        c->opts.ssh_options = NULL;
        return 0;
    }
    c->ssh_options = calloc(n, sizeof(*c->ssh_options));
    if (c->ssh_options == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        c->ssh_options[i] = strdup(c->opts.ssh_options[i]);
        if (c->ssh_options[i] == NULL) {
            c->opts.n_ssh_options = i;
            return -1;
        }
    }
    c->opts.n_ssh_options = n;
    c->opts.ssh_options = (const char *const *)c->ssh_options;
    return 0;
}

/* Frees the client once no callback of ours is on the stack. */
static void
client_release(struct qmp_client *c)
{
    if (--c->depth > 0 || !c->free_requested) {
        return;
    }
    qmp_stream_reset(&c->stream);
    free(c->out);
    client_free_ssh_options(c);
    free(c);
}

static void
client_hold(struct qmp_client *c)
{
    c->depth++;
}

/* A command's deadline passed. */
static void
command_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct qmp_command *cmd = w->data;
    struct qmp_client *c = cmd->client;
    unsigned generation = c->generation;
    bool internal = cmd->internal;
    qmp_free_fn *free_fn;
    void *opaque;
    struct qmp_error err;

    (void)loop;
    (void)revents;
    client_hold(c);
    qmp_error_set(&err, QMP_ERROR_TIMEOUT, ETIMEDOUT,
                  "QMP command '%s' got no reply from %s within %.1f s",
                  cmd->name, c->address, c->opts.command_timeout);
    if (cmd->state == COMMAND_QUEUED) {
        list_remove(&c->queued, cmd);
        command_reply(cmd, NULL, &err);
        command_destroy(cmd);
        goto out;
    }
    /*
     * Keep its slot: QEMU runs commands in order and still owes the
     * reply.  The caller is done with it, so its free runs now.
     */
    cmd->state = COMMAND_ABANDONED;
    free_fn = cmd->free_fn;
    opaque = cmd->opaque;
    cmd->free_fn = NULL;
    command_reply(cmd, NULL, &err); /* may close us and destroy cmd */
    if (free_fn != NULL) {
        free_fn(opaque);
    }
    if (internal && generation == c->generation && !c->free_requested &&
        c->state == CLIENT_NEGOTIATING) {
        qmp_error_set(&err, QMP_ERROR_PROTOCOL, ETIMEDOUT,
                      "%s did not answer qmp_capabilities within %.1f s",
                      c->address, c->opts.command_timeout);
        client_fail(c, &err, true);
    }
out:
    client_release(c);
}

/* Stops the watchers and closes the socket; pending commands stay. */
static void
client_close_socket(struct qmp_client *c)
{
    ev_io_stop(c->loop, &c->read_watcher);
    ev_io_stop(c->loop, &c->write_watcher);
    ev_timer_stop(c->loop, &c->phase_timer);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    qmp_tunnel_stop(c->tunnel);
    c->tunnel = NULL;
    c->state = CLIENT_IDLE;
    c->out_len = c->out_off = 0;
    qmp_stream_reset(&c->stream);
}

/* Fails every command in list l with err. */
static void
client_fail_list(struct command_list *l, const struct qmp_error *err)
{
    struct qmp_command *cmd;

    while ((cmd = l->head) != NULL) {
        list_remove(l, cmd);
        command_reply(cmd, NULL, err);
        command_destroy(cmd);
    }
}

/*
 * Ends the connection: every pending command fails with why, exactly once,
 * then (if notify) the closed handler runs.  The lists are taken first, so
 * a callback that reconnects starts afresh.
 */
static void
client_fail(struct qmp_client *c, const struct qmp_error *why, bool notify)
{
    struct command_list sent = c->sent, queued = c->queued;
    unsigned generation;

    if (c->state == CLIENT_IDLE && sent.count == 0 && queued.count == 0) {
        return;
    }
    client_hold(c);
    client_close_socket(c);
    memset(&c->sent, 0, sizeof(c->sent));
    memset(&c->queued, 0, sizeof(c->queued));
    c->in_flight = 0;
    generation = ++c->generation;
    client_fail_list(&sent, why);
    client_fail_list(&queued, why);
    /* A reply callback may have reconnected or freed us. */
    if (notify && c->handlers.closed != NULL && !c->free_requested &&
        generation == c->generation && c->state == CLIENT_IDLE) {
        c->handlers.closed(c, why, c->handlers.opaque);
    }
    client_release(c);
}

static int
client_out_append(struct qmp_client *c, const char *data, size_t len)
{
    if (c->out_off > 0 && c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        char *out;

        while (cap < c->out_len + len) {
            cap *= 2;
        }
        out = realloc(c->out, cap);
        if (out == NULL) {
            return -1;
        }
        c->out = out;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

/* Moves queued commands onto the wire while slots are free. */
static void
client_flush(struct qmp_client *c)
{
    struct qmp_command *cmd;
    struct qmp_error err;

    if (c->state != CLIENT_READY && c->state != CLIENT_NEGOTIATING) {
        return;
    }
    while ((cmd = c->queued.head) != NULL &&
           (c->in_flight < c->opts.max_in_flight || cmd->oob) &&
           (c->state == CLIENT_READY || cmd->internal)) {
        if (client_out_append(c, cmd->text, cmd->text_len) < 0) {
            qmp_error_set(&err, QMP_ERROR_NOMEM, ENOMEM,
                          "out of memory queueing '%s' for %s", cmd->name,
                          c->address);
            client_fail(c, &err, true);
            return;
        }
        list_remove(&c->queued, cmd);
        free(cmd->text);
        cmd->text = NULL;
        cmd->state = COMMAND_SENT;
        list_append(&c->sent, cmd);
        c->in_flight++;
    }
    if (c->out_off < c->out_len) {
        ev_io_start(c->loop, &c->write_watcher);
    }
}

static void
client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct qmp_client *c = w->data;
    struct qmp_error err;

    (void)loop;
    (void)revents;
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }
            client_hold(c);
            qmp_error_set(&err, QMP_ERROR_CLOSED, errno,
                          "writing to monitor %s failed: %s", c->address,
                          strerror(errno));
            client_fail(c, &err, true);
            client_release(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    ev_io_stop(c->loop, &c->write_watcher);
}

static struct qmp_command *
client_find_sent(struct qmp_client *c, long long id)
{
    struct qmp_command *cmd;

    for (cmd = c->sent.head; cmd != NULL; cmd = cmd->next) {
        if (cmd->id == id) {
            return cmd;
        }
    }
    return NULL;
}

static void
negotiated_cb(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
              void *opaque)
{
    struct qmp_error perr;

    (void)ret;
    if (err != NULL) {
        if (err->kind == QMP_ERROR_COMMAND) {
            qmp_error_set(&perr, QMP_ERROR_PROTOCOL, 0, "%s refused %s",
                          c->address, err->message);
            client_fail(c, &perr, true);
        }
        return;
    }
    c->oob_enabled = opaque != NULL; /* enable: ["oob"] was asked */
    c->state = CLIENT_READY;
    if (c->handlers.ready != NULL) {
        c->handlers.ready(c, c->handlers.opaque);
    }
    if (!c->free_requested && c->state == CLIENT_READY) {
        client_flush(c);
    }
}

/* How a command is queued. */
enum submit_kind {
    SUBMIT_IN_BAND = 0,
    SUBMIT_INTERNAL, /* ours (qmp_capabilities): first, before ready */
    SUBMIT_OOB,      /* exec-oob when enabled: first, past the cap */
};

/* Queues a command; internal and out-of-band ones go first. */
static int
client_submit(struct qmp_client *c, const char *command, json_t *arguments,
              enum submit_kind kind, qmp_reply_fn *reply, void *opaque,
              qmp_free_fn *free_fn, struct qmp_error *err)
{
    bool internal = kind == SUBMIT_INTERNAL;
    struct qmp_command *cmd = NULL;
    json_t *msg = NULL;
    char *text = NULL;

    cmd = calloc(1, sizeof(*cmd));
    msg = json_object();
    if (cmd == NULL || msg == NULL) {
        goto nomem;
    }
    cmd->client = c;
    cmd->id = ++c->next_id;
    snprintf(cmd->name, sizeof(cmd->name), "%s", command);
    cmd->internal = internal;
    cmd->oob = kind == SUBMIT_OOB && c->oob_enabled;
    cmd->reply = reply;
    cmd->opaque = opaque;
    cmd->free_fn = free_fn;
    if (json_object_set_new(msg, cmd->oob ? "exec-oob" : "execute",
                            json_string(command)) < 0 ||
        (arguments != NULL &&
         json_object_set(msg, "arguments", arguments) < 0) ||
        json_object_set_new(msg, "id", json_integer(cmd->id)) < 0) {
        goto nomem;
    }
    text = json_dumps(msg, JSON_COMPACT);
    if (text == NULL) {
        goto nomem;
    }
    cmd->text_len = strlen(text) + 2;
    cmd->text = realloc(text, cmd->text_len + 1);
    if (cmd->text == NULL) {
        free(text);
        goto nomem;
    }
    memcpy(cmd->text + cmd->text_len - 2, "\r\n", 3);
    json_decref(msg);
    json_decref(arguments);
    ev_timer_init(&cmd->timer, command_timeout_cb, c->opts.command_timeout,
                  0.0);
    cmd->timer.data = cmd;
    ev_timer_start(c->loop, &cmd->timer);
    if (internal || cmd->oob) {
        list_prepend(&c->queued, cmd);
    } else {
        list_append(&c->queued, cmd);
    }
    client_flush(c);
    return 0;

nomem:
    qmp_error_set(err, QMP_ERROR_NOMEM, ENOMEM,
                  "out of memory building QMP command '%s'", command);
    json_decref(msg);
    json_decref(arguments);
    free(cmd);
    if (free_fn != NULL) {
        free_fn(opaque);
    }
    return -1;
}

static int
greeting_parse(struct qmp_client *c, json_t *qmp, struct qmp_error *err)
{
    json_t *version, *qemu, *caps, *value;
    size_t i;

    if (!json_is_object(qmp)) {
        qmp_error_set(err, QMP_ERROR_PROTOCOL, 0,
                      "%s sent a greeting whose 'QMP' is not an object",
                      c->address);
        return -1;
    }
    memset(&c->greeting, 0, sizeof(c->greeting));
    version = json_object_get(qmp, "version");
    qemu = json_object_get(version, "qemu");
    c->greeting.major = (int)json_integer_value(json_object_get(qemu, "major"));
    c->greeting.minor = (int)json_integer_value(json_object_get(qemu, "minor"));
    c->greeting.micro = (int)json_integer_value(json_object_get(qemu, "micro"));
    value = json_object_get(version, "package");
    if (json_is_string(value)) {
        snprintf(c->greeting.package, sizeof(c->greeting.package), "%s",
                 json_string_value(value));
    }
    caps = json_object_get(qmp, "capabilities");
    json_array_foreach (caps, i, value) {
        if (json_is_string(value) &&
            strcmp(json_string_value(value), "oob") == 0) {
            c->greeting.oob = true;
        }
    }
    c->have_greeting = true;
    return 0;
}

static void
client_reply_error(struct qmp_client *c, struct qmp_command *cmd, json_t *error)
{
    struct qmp_error err;
    json_t *cls = json_object_get(error, "class");
    json_t *desc = json_object_get(error, "desc");

    qmp_error_set(&err, QMP_ERROR_COMMAND, 0, "%s: %s", cmd->name,
                  json_is_string(desc) ? json_string_value(desc)
                                       : "(no description)");
    snprintf(err.qmp_class, sizeof(err.qmp_class), "%s",
             json_is_string(cls) ? json_string_value(cls) : "GenericError");
    (void)c;
    command_reply(cmd, NULL, &err);
}

/* Handles one message; returns -1 when the connection must end. */
static int
client_dispatch(struct qmp_client *c, json_t *msg, struct qmp_error *err)
{
    json_t *value, *id, *error;
    struct qmp_command *cmd;

    if (c->state == CLIENT_GREETING) {
        value = json_object_get(msg, "QMP");
        if (value == NULL) {
            qmp_error_set(err, QMP_ERROR_PROTOCOL, 0,
                          "%s did not start with a QMP greeting", c->address);
            return -1;
        }
        if (greeting_parse(c, value, err) < 0) {
            return -1;
        }
        ev_timer_stop(c->loop, &c->phase_timer);
        c->state = CLIENT_NEGOTIATING;
        if (c->opts.oob && c->greeting.oob) {
            /* negotiated_cb's opaque says out-of-band was asked for */
            return client_submit(c, "qmp_capabilities",
                                 json_pack("{s:[s]}", "enable", "oob"),
                                 SUBMIT_INTERNAL, negotiated_cb, c, NULL, err);
        }
        return client_submit(c, "qmp_capabilities", NULL, SUBMIT_INTERNAL,
                             negotiated_cb, NULL, NULL, err);
    }
    value = json_object_get(msg, "event");
    if (value != NULL) {
        json_t *ts = json_object_get(msg, "timestamp");
        double stamp =
            (double)json_integer_value(json_object_get(ts, "seconds")) +
            (double)json_integer_value(json_object_get(ts, "microseconds")) /
                1e6;

        if (!json_is_string(value)) {
            qmp_error_set(err, QMP_ERROR_PROTOCOL, 0,
                          "%s sent an event whose name is not a string",
                          c->address);
            return -1;
        }
        if (c->handlers.event != NULL) {
            c->handlers.event(c, json_string_value(value),
                              json_object_get(msg, "data"), stamp,
                              c->handlers.opaque);
        }
        return 0;
    }
    id = json_object_get(msg, "id");
    error = json_object_get(msg, "error");
    value = json_object_get(msg, "return");
    if (value == NULL && error == NULL) {
        return 0; /* unknown message kind: ignored, as the spec asks */
    }
    if (id == NULL) {
        /* We always send ids: QEMU could not parse what we sent. */
        json_t *desc = json_object_get(error, "desc");

        qmp_error_set(err, QMP_ERROR_PROTOCOL, 0,
                      "%s answered without an id: %s", c->address,
                      json_is_string(desc) ? json_string_value(desc)
                                           : "(no description)");
        return -1;
    }
    if (!json_is_integer(id)) {
        return 0; /* not one of ours */
    }
    cmd = client_find_sent(c, json_integer_value(id));
    if (cmd == NULL) {
        return 0; /* not one of ours: dropped, as the spec asks */
    }
    list_remove(&c->sent, cmd);
    c->in_flight--;
    if (error != NULL) {
        client_reply_error(c, cmd, error);
    } else {
        command_reply(cmd, value, NULL);
    }
    command_destroy(cmd);
    if (!c->free_requested && c->state == CLIENT_READY) {
        client_flush(c); /* a slot is free */
    }
    return 0;
}

static void
client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct qmp_client *c = w->data;
    char buf[QMP_READ_CHUNK];
    struct qmp_error err;
    unsigned generation = c->generation;
    ssize_t n;

    (void)loop;
    (void)revents;
    client_hold(c);
    n = recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == ECONNRESET) {
        /* it closed with commands of ours unread: closed all the same */
        n = 0;
    }
    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            qmp_error_set(&err, QMP_ERROR_CLOSED, errno,
                          "reading from monitor %s failed: %s", c->address,
                          strerror(errno));
            client_fail(c, &err, true);
        }
        goto out;
    }
    if (n == 0) {
        char line[300];
        const char *cause = NULL;

        if (c->tunnel != NULL) {
            cause = qmp_tunnel_explain(c->tunnel, line, sizeof(line));
        }
        if (c->state == CLIENT_GREETING && cause != NULL) {
            /* ssh could not open the channel to the far socket */
            qmp_error_set(&err, QMP_ERROR_CONNECT, ECONNREFUSED,
                          "cannot connect to monitor %s: %s (ssh said: %s)",
                          c->address, cause, line);
        } else if (c->tunnel != NULL && line[0] != '\0') {
            qmp_error_set(&err, QMP_ERROR_CLOSED, 0,
                          "monitor %s closed the connection (ssh said: %s)",
                          c->address, line);
        } else if (c->state == CLIENT_GREETING) {
            qmp_error_set(&err, QMP_ERROR_CLOSED, 0,
                          "monitor %s closed the connection before its "
                          "greeting",
                          c->address);
        } else if (qmp_stream_pending(&c->stream)) {
            qmp_error_set(&err, QMP_ERROR_CLOSED, 0,
                          "monitor %s closed the connection in the middle "
                          "of a message",
                          c->address);
        } else {
            qmp_error_set(&err, QMP_ERROR_CLOSED, 0,
                          "monitor %s closed the connection", c->address);
        }
        client_fail(c, &err, true);
        goto out;
    }
    if (qmp_stream_feed(&c->stream, buf, (size_t)n) < 0) {
        qmp_error_set(&err, QMP_ERROR_NOMEM, ENOMEM,
                      "out of memory reading from %s", c->address);
        client_fail(c, &err, true);
        goto out;
    }
    for (;;) {
        char why[256];
        json_t *msg = NULL;
        int rc = qmp_stream_next(&c->stream, &msg, why, sizeof(why));

        if (rc == 0) {
            break;
        }
        if (rc < 0) {
            qmp_error_set(&err, QMP_ERROR_PROTOCOL, 0,
                          "monitor %s sent something that is not QMP: %s",
                          c->address, why);
            client_fail(c, &err, true);
            break;
        }
        rc = client_dispatch(c, msg, &err);
        json_decref(msg);
        if (c->free_requested || generation != c->generation) {
            break; /* a callback closed or freed us */
        }
        if (rc < 0) {
            client_fail(c, &err, true);
            break;
        }
    }
out:
    client_release(c);
}

/* The connect or greeting deadline passed. */
static void
client_phase_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct qmp_client *c = w->data;
    struct qmp_error err;

    (void)loop;
    (void)revents;
    if (c->state == CLIENT_CONNECTING) {
        qmp_error_set(&err, QMP_ERROR_CONNECT, ETIMEDOUT,
                      "connecting to monitor %s timed out after %.1f s",
                      c->address, c->opts.connect_timeout);
    } else {
        qmp_error_set(&err, QMP_ERROR_BUSY, ETIMEDOUT,
                      "monitor %s is busy: it accepted the connection but "
                      "sent no greeting within %.1f s (QEMU serves one "
                      "monitor client at a time)",
                      c->address, c->opts.greeting_timeout);
    }
    client_fail(c, &err, true);
}

static void
client_await_greeting(struct qmp_client *c)
{
    c->state = CLIENT_GREETING;
    ev_io_init(&c->read_watcher, client_read_cb, c->fd, EV_READ);
    c->read_watcher.data = c;
    ev_io_start(c->loop, &c->read_watcher);
    ev_io_init(&c->write_watcher, client_write_cb, c->fd, EV_WRITE);
    c->write_watcher.data = c;
    ev_timer_stop(c->loop, &c->phase_timer);
    ev_timer_set(&c->phase_timer, c->opts.greeting_timeout, 0.0);
    ev_timer_start(c->loop, &c->phase_timer);
}

/* The socket became writable: the TCP connect finished one way or other. */
static void
client_connected_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct qmp_client *c = w->data;
    struct qmp_error err;
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    (void)revents;
    ev_io_stop(loop, w);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        soerr = errno;
    }
    if (soerr != 0) {
        qmp_error_set(&err, QMP_ERROR_CONNECT, soerr,
                      "cannot connect to monitor %s: %s", c->address,
                      strerror(soerr));
        client_fail(c, &err, true);
        return;
    }
    client_await_greeting(c);
}

struct qmp_client *
qmp_client_new(struct ev_loop *loop, const struct qmp_options *opts,
               const struct qmp_handlers *handlers)
{
    struct qmp_client *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->loop = loop;
    if (opts != NULL) {
        c->opts = *opts;
    } else {
        qmp_options_init(&c->opts);
    }
    if (c->opts.max_in_flight == 0) {
        c->opts.max_in_flight = 1;
    }
    if (c->opts.max_in_flight > QMP_MAX_IN_FLIGHT_LIMIT) {
        c->opts.max_in_flight = QMP_MAX_IN_FLIGHT_LIMIT;
    }
    if (handlers != NULL) {
        c->handlers = *handlers;
    }
    if (client_copy_ssh_options(c) < 0) {
        client_free_ssh_options(c);
        free(c);
        return NULL;
    }
    c->fd = -1;
    qmp_stream_init(&c->stream, c->opts.max_message);
    ev_init(&c->phase_timer, client_phase_timeout_cb);
    c->phase_timer.data = c;
    ev_io_init(&c->read_watcher, client_read_cb, -1, EV_READ);
    ev_io_init(&c->write_watcher, client_write_cb, -1, EV_WRITE);
    return c;
}

/* The forward is up: fd reaches the far monitor. */
static void
client_tunnel_ready(int fd, void *opaque)
{
    struct qmp_client *c = opaque;

    c->fd = fd;
    c->have_greeting = false;
    qmp_stream_reset(&c->stream);
    client_await_greeting(c);
}

static void
client_tunnel_failed(const struct qmp_error *err, void *opaque)
{
    struct qmp_client *c = opaque;

    client_fail(c, err, true);
}

static int
client_connect_ssh(struct qmp_client *c, struct qmp_error *err)
{
    c->tunnel =
        qmp_tunnel_start(c->loop, c->address, c->opts.ssh_options,
                         c->opts.n_ssh_options, 2.0 * c->opts.connect_timeout,
                         client_tunnel_ready, client_tunnel_failed, c, err);
    if (c->tunnel == NULL) {
        return -1;
    }
    c->state = CLIENT_TUNNEL;
    return 0;
}

int
qmp_client_connect(struct qmp_client *c, const char *address,
                   struct qmp_error *err)
{
    struct qmp_address addr;
    int fd;

    if (c->state != CLIENT_IDLE) {
        qmp_error_set(err, QMP_ERROR_STATE, EISCONN, "already connected to %s",
                      c->address);
        return -1;
    }
    snprintf(c->address, sizeof(c->address), "%s", address ? address : "");
    if (qmp_ssh_is_url(address)) {
        return client_connect_ssh(c, err);
    }
    if (qmp_address_parse(address, &addr, err) < 0) {
        return -1;
    }
    fd = socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot create a socket for %s: %s", address,
                      strerror(errno));
        return -1;
    }
    c->fd = fd;
    c->have_greeting = false;
    qmp_stream_reset(&c->stream);
    if (connect(fd, (struct sockaddr *)&addr.addr, addr.addr_len) == 0) {
        client_await_greeting(c);
        return 0;
    }
    if (errno == EINPROGRESS) {
        c->state = CLIENT_CONNECTING;
        ev_io_init(&c->write_watcher, client_connected_cb, fd, EV_WRITE);
        c->write_watcher.data = c;
        ev_io_start(c->loop, &c->write_watcher);
        ev_timer_set(&c->phase_timer, c->opts.connect_timeout, 0.0);
        ev_timer_start(c->loop, &c->phase_timer);
        return 0;
    }
    if (errno == ENOENT) {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot connect to monitor %s: no such socket", address);
    } else {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot connect to monitor %s: %s", address,
                      strerror(errno));
    }
    close(fd);
    c->fd = -1;
    return -1;
}

/* The checks of both executes, then the queue. */
static int
client_execute(struct qmp_client *c, const char *command, json_t *arguments,
               enum submit_kind kind, qmp_reply_fn *reply, void *opaque,
               qmp_free_fn *free_fn, struct qmp_error *err)
{
    if (c->state == CLIENT_IDLE || c->free_requested) {
        qmp_error_set(err, QMP_ERROR_STATE, ENOTCONN,
                      "cannot send '%s': not connected to a monitor", command);
        json_decref(arguments);
        if (free_fn != NULL) {
            free_fn(opaque);
        }
        return -1;
    }
    if (arguments != NULL && !json_is_object(arguments)) {
        qmp_error_set(err, QMP_ERROR_STATE, EINVAL,
                      "arguments of '%s' must be a JSON object", command);
        json_decref(arguments);
        if (free_fn != NULL) {
            free_fn(opaque);
        }
        return -1;
    }
    return client_submit(c, command, arguments, kind, reply, opaque, free_fn,
                         err);
}

int
qmp_client_execute(struct qmp_client *c, const char *command, json_t *arguments,
                   qmp_reply_fn *reply, void *opaque, qmp_free_fn *free_fn,
                   struct qmp_error *err)
{
    return client_execute(c, command, arguments, SUBMIT_IN_BAND, reply, opaque,
                          free_fn, err);
}

int
qmp_client_execute_oob(struct qmp_client *c, const char *command,
                       json_t *arguments, qmp_reply_fn *reply, void *opaque,
                       qmp_free_fn *free_fn, struct qmp_error *err)
{
    return client_execute(c, command, arguments, SUBMIT_OOB, reply, opaque,
                          free_fn, err);
}

void
qmp_client_close(struct qmp_client *c)
{
    struct qmp_error err;

    qmp_error_set(&err, QMP_ERROR_CLOSED, 0,
                  "the connection to %s was closed by qmigrate", c->address);
    client_fail(c, &err, false);
}

void
qmp_client_free(struct qmp_client *c)
{
    if (c == NULL) {
        return;
    }
    client_hold(c);
    qmp_client_close(c);
    c->free_requested = true;
    client_release(c);
}

bool
qmp_client_is_ready(const struct qmp_client *c)
{
    return c->state == CLIENT_READY;
}

const struct qmp_greeting *
qmp_client_greeting(const struct qmp_client *c)
{
    return c->have_greeting ? &c->greeting : NULL;
}

const char *
qmp_client_address(const struct qmp_client *c)
{
    return c->address;
}

size_t
qmp_client_pending(const struct qmp_client *c)
{
    return c->queued.count + c->sent.count;
}
