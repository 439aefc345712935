/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for qmp/client against an in-process scripted QMP peer on a temp UNIX
 * socket. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp/qmp.h"
#include "qmp/stream.h"

/*
 * The peer runs in the same libev loop as the client, step by step:
 * send bytes (optionally in small pieces, one piece a loop turn), expect a
 * command, pause, or hang up.  "$N" in sent text stands for the id of the
 * N-th command the peer received.  The peer records what went wrong in
 * the fixture; the test thread asserts after the loop ends.
 */

#define GREETING                                                               \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "        \
    "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, "                   \
    "\"capabilities\": [\"oob\"]}}\r\n"
#define NEGOTIATE                                                              \
    {P_EXPECT, "qmp_capabilities", 0, 0},                                      \
    {                                                                          \
        P_SEND, "{\"return\": {}, \"id\": $0}\r\n", 0, 0                       \
    }

enum peer_op {
    P_END = 0,
    P_SEND,       /* text; chunk bytes a turn (0: all at once) */
    P_EXPECT,     /* a command named text */
    P_PAUSE,      /* seconds in delay */
    P_CLOSE,      /* hang up */
    P_WAIT_CLOSE, /* wait until the client hangs up */
};

struct peer_step {
    enum peer_op op;
    const char *text;
    size_t chunk;
    double delay;
};

struct fixture {
    struct ev_loop *loop;
    char dir[64];
    char path[100];
    char address[160];
    int listen_fd;
    int fd;
    ev_io accept_w, read_w;
    ev_timer step_timer, deadline;
    const struct peer_step *script;
    size_t step;
    size_t sent_off; /* progress in a chunked send */
    struct qmp_stream in;
    json_t *ids[32]; /* ids of received commands */
    size_t n_ids;
    size_t max_outstanding; /* received, not yet answered (approx) */
    size_t outstanding;
    char peer_error[256];
    bool peer_done;
    bool peer_saw_close;
    /* the client's side */
    struct qmp_client *client;
    int ready;
    int closed;
    struct qmp_error closed_err;
    int events;
    char event_name[64];
    double event_ts;
    bool event_before_reply;
    int replies;
    bool stop_when_peer_done;
    bool free_in_reply;
};

struct call {
    struct fixture *fx;
    int replied;
    int freed;
    bool ok;
    json_t *ret;
    struct qmp_error err;
    int order;
};

static int reply_counter;

static void peer_run(struct fixture *fx);

static void
peer_fail(struct fixture *fx, const char *fmt, ...)
{
    va_list ap;

    if (fx->peer_error[0] != '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(fx->peer_error, sizeof(fx->peer_error), fmt, ap);
    va_end(ap);
    ev_break(fx->loop, EVBREAK_ALL);
}

/* Expands $N into the id of the N-th received command. */
static char *
peer_expand(struct fixture *fx, const char *text)
{
    size_t cap = strlen(text) + 256, len = 0;
    char *out = malloc(cap);
    const char *p;

    for (p = text; *p != '\0'; p++) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            size_t n = (size_t)(p[1] - '0');
            char *id = n < fx->n_ids ? json_dumps(fx->ids[n], JSON_ENCODE_ANY)
                                     : strdup("null");

            len += (size_t)snprintf(out + len, cap - len, "%s", id);
            free(id);
            p++;
            if (fx->outstanding > 0) {
                fx->outstanding--;
            }
        } else {
            out[len++] = *p;
        }
    }
    out[len] = '\0';
    return out;
}

static void
peer_write_all(struct fixture *fx, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fx->fd, data, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            peer_fail(fx, "peer send: %s", strerror(errno));
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void
peer_next_turn(struct fixture *fx, double delay)
{
    ev_timer_set(&fx->step_timer, delay, 0.0);
    ev_timer_start(fx->loop, &fx->step_timer);
}

static void
peer_step_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    peer_run(w->data);
}

/* Tries to complete the current EXPECT from buffered input. */
/*
 * What a command is called in scripts: its name; "oob:NAME" when sent
 * out of band; "qmp_capabilities+oob" when it enables out-of-band.
 */
static const char *
expect_name(json_t *msg, char *buf, size_t size)
{
    const char *oob = json_string_value(json_object_get(msg, "exec-oob"));
    const char *name = json_string_value(json_object_get(msg, "execute"));
    json_t *enable =
        json_object_get(json_object_get(msg, "arguments"), "enable");

    if (oob != NULL) {
        snprintf(buf, size, "oob:%s", oob);
    } else if (name != NULL && strcmp(name, "qmp_capabilities") == 0 &&
               json_array_size(enable) == 1 &&
               strcmp(json_string_value(json_array_get(enable, 0)) ?: "",
                      "oob") == 0) {
        snprintf(buf, size, "qmp_capabilities+oob");
    } else {
        snprintf(buf, size, "%s", name ? name : "");
    }
    return buf;
}

static bool
peer_try_expect(struct fixture *fx)
{
    const struct peer_step *st = &fx->script[fx->step];
    char err[256], name[96];
    json_t *msg;
    int rc = qmp_stream_next(&fx->in, &msg, err, sizeof(err));

    if (rc < 0) {
        peer_fail(fx, "peer got bad input: %s", err);
        return false;
    }
    if (rc == 0) {
        return false;
    }
    if (strcmp(expect_name(msg, name, sizeof(name)), st->text) != 0) {
        peer_fail(fx, "peer expected '%s', got another command", st->text);
        json_decref(msg);
        return false;
    }
    if (fx->n_ids < 32) {
        fx->ids[fx->n_ids++] = json_incref(json_object_get(msg, "id"));
    }
    fx->outstanding++;
    if (fx->outstanding > fx->max_outstanding) {
        fx->max_outstanding = fx->outstanding;
    }
    json_decref(msg);
    fx->step++;
    return true;
}

static void
peer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fixture *fx = w->data;
    char buf[4096];
    ssize_t n;

    (void)loop;
    (void)revents;
    n = recv(fx->fd, buf, sizeof(buf), 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        fx->peer_saw_close = true;
        ev_io_stop(fx->loop, &fx->read_w);
        if (fx->script[fx->step].op == P_WAIT_CLOSE) {
            fx->step++;
            peer_run(fx);
        }
        return;
    }
    qmp_stream_feed(&fx->in, buf, (size_t)n);
    if (fx->script[fx->step].op == P_EXPECT && peer_try_expect(fx)) {
        peer_run(fx);
    }
}

static void
peer_run(struct fixture *fx)
{
    for (;;) {
        const struct peer_step *st = &fx->script[fx->step];

        switch (st->op) {
        case P_END:
            fx->peer_done = true;
            if (fx->stop_when_peer_done) {
                ev_break(fx->loop, EVBREAK_ALL);
            }
            return;
        case P_SEND: {
            char *text = peer_expand(fx, st->text);
            size_t len = strlen(text);

            if (st->chunk == 0) {
                peer_write_all(fx, text, len);
                fx->step++;
                free(text);
                break;
            }
            /* one piece a turn, so the client reads them apart */
            {
                size_t piece = len - fx->sent_off < st->chunk
                                   ? len - fx->sent_off
                                   : st->chunk;

                peer_write_all(fx, text + fx->sent_off, piece);
                fx->sent_off += piece;
                if (fx->sent_off >= len) {
                    fx->sent_off = 0;
                    fx->step++;
                }
                free(text);
                peer_next_turn(fx, 0.001);
                return;
            }
        }
        case P_EXPECT:
            if (!peer_try_expect(fx)) {
                return; /* wait for input */
            }
            break;
        case P_PAUSE:
            fx->step++;
            peer_next_turn(fx, st->delay);
            return;
        case P_CLOSE:
            ev_io_stop(fx->loop, &fx->read_w);
            close(fx->fd);
            fx->fd = -1;
            fx->step++;
            break;
        case P_WAIT_CLOSE:
            if (fx->peer_saw_close) {
                fx->step++;
                break;
            }
            return;
        }
    }
}

static void
peer_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fixture *fx = w->data;

    (void)revents;
    fx->fd = accept4(fx->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fx->fd < 0) {
        peer_fail(fx, "accept: %s", strerror(errno));
        return;
    }
    ev_io_stop(loop, w);
    ev_io_init(&fx->read_w, peer_read_cb, fx->fd, EV_READ);
    fx->read_w.data = fx;
    ev_io_start(loop, &fx->read_w);
    peer_run(fx);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct fixture *fx = w->data;

    (void)revents;
    snprintf(fx->peer_error, sizeof(fx->peer_error),
             "test deadline passed at step %zu", fx->step);
    ev_break(loop, EVBREAK_ALL);
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct sockaddr_un sun;

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/qmigrate-test-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/qmp.sock", fx->dir);
    snprintf(fx->address, sizeof(fx->address), "unix:%s", fx->path);
    fx->listen_fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fx->path);
    assert_int_equal(bind(fx->listen_fd, (struct sockaddr *)&sun, sizeof(sun)),
                     0);
    assert_int_equal(listen(fx->listen_fd, 4), 0);
    fx->fd = -1;
    fx->loop = ev_loop_new(EVFLAG_AUTO);
    ev_io_init(&fx->accept_w, peer_accept_cb, fx->listen_fd, EV_READ);
    fx->accept_w.data = fx;
    ev_io_start(fx->loop, &fx->accept_w);
    ev_init(&fx->step_timer, peer_step_timer_cb);
    fx->step_timer.data = fx;
    ev_timer_init(&fx->deadline, deadline_cb, 10.0, 0.0);
    fx->deadline.data = fx;
    ev_timer_start(fx->loop, &fx->deadline);
    qmp_stream_init(&fx->in, 0);
    reply_counter = 0;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    qmp_client_free(fx->client);
    ev_io_stop(fx->loop, &fx->accept_w);
    ev_io_stop(fx->loop, &fx->read_w);
    ev_timer_stop(fx->loop, &fx->step_timer);
    ev_timer_stop(fx->loop, &fx->deadline);
    if (fx->fd >= 0) {
        close(fx->fd);
    }
    close(fx->listen_fd);
    unlink(fx->path);
    rmdir(fx->dir);
    for (i = 0; i < fx->n_ids; i++) {
        json_decref(fx->ids[i]);
    }
    qmp_stream_reset(&fx->in);
    ev_loop_destroy(fx->loop);
    free(fx);
    return 0;
}

/* --- the client's handlers ------------------------------------------- */

static void
on_ready(struct qmp_client *c, void *opaque)
{
    struct fixture *fx = opaque;

    (void)c;
    fx->ready++;
}

static void
on_event(struct qmp_client *c, const char *name, json_t *data, double ts,
         void *opaque)
{
    struct fixture *fx = opaque;

    (void)c;
    (void)data;
    fx->events++;
    snprintf(fx->event_name, sizeof(fx->event_name), "%s", name);
    fx->event_ts = ts;
    if (fx->replies == 0) {
        fx->event_before_reply = true;
    }
}

static void
on_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    struct fixture *fx = opaque;

    (void)c;
    fx->closed++;
    fx->closed_err = *why;
    ev_break(fx->loop, EVBREAK_ALL);
}

static void
on_reply(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
         void *opaque)
{
    struct call *call = opaque;

    call->replied++;
    call->order = ++reply_counter;
    call->fx->replies++;
    if (err != NULL) {
        call->ok = false;
        call->err = *err;
    } else {
        call->ok = true;
        call->ret = json_incref(ret);
    }
    if (call->fx->free_in_reply) {
        qmp_client_free(c);
        call->fx->client = NULL;
    }
}

static void
on_free(void *opaque)
{
    struct call *call = opaque;

    call->freed++;
}

static void
client_start(struct fixture *fx, const struct peer_step *script,
             const struct qmp_options *opts)
{
    struct qmp_handlers h = {on_ready, on_event, on_closed, fx};
    struct qmp_error err;

    fx->script = script;
    fx->client = qmp_client_new(fx->loop, opts, &h);
    assert_non_null(fx->client);
    assert_int_equal(qmp_client_connect(fx->client, fx->address, &err), 0);
}

static void
call_init(struct call *call, struct fixture *fx)
{
    memset(call, 0, sizeof(*call));
    call->fx = fx;
}

static void
execute(struct fixture *fx, struct call *call, const char *cmd)
{
    struct qmp_error err;

    call_init(call, fx);
    assert_int_equal(qmp_client_execute(fx->client, cmd, NULL, on_reply, call,
                                        on_free, &err),
                     0);
}

/* Runs the loop until every call replied (or the deadline). */
static void
run_until_replied(struct fixture *fx, struct call *calls, size_t n)
{
    for (;;) {
        size_t i, done = 0;

        for (i = 0; i < n; i++) {
            done += calls[i].replied > 0;
        }
        if (done == n || fx->peer_error[0] != '\0') {
            return;
        }
        ev_run(fx->loop, EVRUN_ONCE);
    }
}

static void
call_done(struct call *call)
{
    json_decref(call->ret);
    call->ret = NULL;
}

static void
assert_peer_ok(struct fixture *fx)
{
    if (fx->peer_error[0] != '\0') {
        print_error("peer: %s\n", fx->peer_error);
        fail();
    }
}

/* --- tests --------------------------------------------------------------- */

static void
test_greeting_negotiation_and_reply(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND,
         "{\"return\": {\"status\": \"running\", \"running\": true}, "
         "\"id\": $1}\r\n",
         0, 0},
        {P_END, NULL, 0, 0},
    };
    const struct qmp_greeting *g;
    struct call call;

    client_start(fx, script, NULL);
    execute(fx, &call, "query-status");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_int_equal(fx->ready, 1);
    assert_true(call.ok);
    assert_string_equal(json_string_value(json_object_get(call.ret, "status")),
                        "running");
    assert_int_equal(call.replied, 1);
    assert_int_equal(call.freed, 1);
    g = qmp_client_greeting(fx->client);
    assert_non_null(g);
    assert_int_equal(g->major, 7);
    assert_int_equal(g->minor, 2);
    assert_int_equal(g->micro, 22);
    assert_true(g->oob);
    assert_string_equal(g->package, "Debian 1:7.2+dfsg-7");
    assert_true(qmp_client_is_ready(fx->client));
    assert_int_equal(qmp_client_pending(fx->client), 0);
    call_done(&call);
}

static void
test_byte_at_a_time(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 1, 0},
        {P_EXPECT, "qmp_capabilities", 0, 0},
        {P_SEND, "{\"return\": {}, \"id\": $0}\r\n", 1, 0},
        {P_EXPECT, "query-version", 0, 0},
        {P_SEND, "{\"return\": {\"qemu\": {\"major\": 7}}, \"id\": $1}\r\n", 1,
         0},
        {P_END, NULL, 0, 0},
    };
    struct call call;

    client_start(fx, script, NULL);
    execute(fx, &call, "query-version");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_true(call.ok);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(call.ret, "qemu"), "major")),
                     7);
    call_done(&call);
}

static void
test_many_messages_in_one_read_event_first(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-migrate", 0, 0},
        /* an event, then the reply, in one write, LF only */
        {P_SEND,
         "{\"event\": \"MIGRATION_PASS\", \"data\": {\"pass\": 3}, "
         "\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": "
         "250000}}\n{\"return\": {\"status\": \"active\"}, \"id\": $1}\n",
         0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call call;

    client_start(fx, script, NULL);
    execute(fx, &call, "query-migrate");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_true(call.ok);
    assert_int_equal(fx->events, 1);
    assert_string_equal(fx->event_name, "MIGRATION_PASS");
    assert_true(fx->event_before_reply);
    assert_float_equal(fx->event_ts, 1700000000.25, 1e-6);
    call_done(&call);
}

static void
test_pretty_printed_monitor(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND,
         "{\n    \"QMP\": {\n        \"version\": {},\n"
         "        \"capabilities\": []\n    }\n}\n",
         7, 0},
        {P_EXPECT, "qmp_capabilities", 0, 0},
        {P_SEND, "{\n    \"return\": {\n    },\n    \"id\": $0\n}\n", 0, 0},
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND,
         "{\n    \"return\": {\n        \"status\": \"paused\"\n"
         "    },\n    \"id\": $1\n}\n",
         5, 0},
        {P_END, NULL, 0, 0},
    };
    struct call call;

    client_start(fx, script, NULL);
    execute(fx, &call, "query-status");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_true(call.ok);
    assert_false(qmp_client_greeting(fx->client)->oob);
    call_done(&call);
}

static void
test_ids_out_of_order(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "first", 0, 0},
        {P_EXPECT, "second", 0, 0},
        {P_SEND, "{\"return\": 2, \"id\": $2}\r\n", 0, 0},
        {P_SEND, "{\"return\": 1, \"id\": $1}\r\n", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call calls[2];

    client_start(fx, script, NULL);
    execute(fx, &calls[0], "first");
    execute(fx, &calls[1], "second");
    run_until_replied(fx, calls, 2);
    assert_peer_ok(fx);
    assert_true(calls[0].ok && calls[1].ok);
    assert_int_equal(json_integer_value(calls[0].ret), 1);
    assert_int_equal(json_integer_value(calls[1].ret), 2);
    assert_int_equal(calls[1].order, 1); /* answered first */
    assert_int_equal(calls[0].order, 2);
    call_done(&calls[0]);
    call_done(&calls[1]);
}

static void
test_qmp_error_reply(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "migrate-start-postcopy", 0, 0},
        {P_SEND,
         "{\"id\": $1, \"error\": {\"class\": \"GenericError\", \"desc\": "
         "\"Enable postcopy with migrate_set_capability before the start "
         "of migration\"}}\r\n",
         0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call call;

    client_start(fx, script, NULL);
    execute(fx, &call, "migrate-start-postcopy");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_false(call.ok);
    assert_int_equal(call.err.kind, QMP_ERROR_COMMAND);
    assert_string_equal(call.err.qmp_class, "GenericError");
    assert_non_null(strstr(call.err.message, "migrate-start-postcopy"));
    assert_non_null(strstr(call.err.message, "Enable postcopy"));
    assert_int_equal(call.freed, 1);
    /* the connection stays usable */
    assert_true(qmp_client_is_ready(fx->client));
}

static void
test_command_timeout_then_late_reply(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "slow", 0, 0},
        {P_PAUSE, NULL, 0, 0.35},
        {P_SEND, "{\"return\": {}, \"id\": $1}\r\n", 0, 0},
        {P_EXPECT, "fast", 0, 0},
        {P_SEND, "{\"return\": 5, \"id\": $2}\r\n", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct qmp_options opts;
    struct call calls[2];

    qmp_options_init(&opts);
    opts.command_timeout = 0.3;
    client_start(fx, script, &opts);
    execute(fx, &calls[0], "slow");
    run_until_replied(fx, calls, 1);
    assert_false(calls[0].ok);
    assert_int_equal(calls[0].err.kind, QMP_ERROR_TIMEOUT);
    assert_non_null(strstr(calls[0].err.message, "'slow'"));
    assert_int_equal(calls[0].freed, 1);
    /* the late reply is swallowed; the next command works */
    execute(fx, &calls[1], "fast");
    run_until_replied(fx, &calls[1], 1);
    assert_peer_ok(fx);
    assert_true(calls[1].ok);
    assert_int_equal(json_integer_value(calls[1].ret), 5);
    assert_int_equal(calls[0].replied, 1);
    assert_int_equal(calls[0].freed, 1);
    assert_int_equal(qmp_client_pending(fx->client), 0);
    call_done(&calls[1]);
}

static void
test_no_greeting_is_busy(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct qmp_options opts;
    struct call call;

    qmp_options_init(&opts);
    opts.greeting_timeout = 0.2;
    client_start(fx, script, &opts);
    execute(fx, &call, "query-status");
    ev_run(fx->loop, 0);
    assert_int_equal(fx->closed, 1);
    assert_int_equal(fx->closed_err.kind, QMP_ERROR_BUSY);
    assert_non_null(strstr(fx->closed_err.message, "busy"));
    assert_non_null(strstr(fx->closed_err.message, fx->path));
    assert_int_equal(call.replied, 1);
    assert_int_equal(call.err.kind, QMP_ERROR_BUSY);
    assert_int_equal(call.freed, 1);
    assert_int_equal(fx->ready, 0);
}

static void
test_hangup_mid_message_fails_pending_once(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "a", 0, 0},
        {P_EXPECT, "b", 0, 0},
        {P_SEND, "{\"return\": {\"status\": \"act", 0, 0},
        {P_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call calls[3];

    client_start(fx, script, NULL);
    execute(fx, &calls[0], "a");
    execute(fx, &calls[1], "b");
    ev_run(fx->loop, 0);
    assert_peer_ok(fx);
    assert_int_equal(fx->closed, 1);
    assert_int_equal(fx->closed_err.kind, QMP_ERROR_CLOSED);
    assert_non_null(strstr(fx->closed_err.message, "middle of a message"));
    assert_int_equal(calls[0].replied, 1);
    assert_int_equal(calls[1].replied, 1);
    assert_int_equal(calls[0].freed, 1);
    assert_int_equal(calls[1].freed, 1);
    assert_int_equal(calls[0].err.kind, QMP_ERROR_CLOSED);
    /* after the end, a new command is refused at once, and freed */
    {
        struct qmp_error err;

        call_init(&calls[2], fx);
        assert_int_equal(qmp_client_execute(fx->client, "c", NULL, on_reply,
                                            &calls[2], on_free, &err),
                         -1);
        assert_int_equal(err.kind, QMP_ERROR_STATE);
        assert_int_equal(calls[2].replied, 0);
        assert_int_equal(calls[2].freed, 1);
    }
    assert_int_equal(fx->closed, 1);
}

static void
expect_protocol_error(struct fixture *fx, const struct peer_step *script,
                      const struct qmp_options *opts, const char *needle)
{
    struct call call;

    client_start(fx, script, opts);
    execute(fx, &call, "query-status");
    ev_run(fx->loop, 0);
    assert_peer_ok(fx);
    assert_int_equal(fx->closed, 1);
    assert_int_equal(fx->closed_err.kind, QMP_ERROR_PROTOCOL);
    if (strstr(fx->closed_err.message, needle) == NULL) {
        fail_msg("'%s' does not mention '%s'", fx->closed_err.message, needle);
    }
    assert_int_equal(call.replied, 1);
    assert_int_equal(call.freed, 1);
    assert_int_equal(call.err.kind, QMP_ERROR_PROTOCOL);
}

static void
test_invalid_json_ends_connection(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND, "{\"return\": {\"status\": running}, \"id\": 2}\r\n", 0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "invalid JSON");
}

static void
test_invalid_utf8_ends_connection(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND, "{\"return\": {\"status\": \"r\xff\xfeing\"}, \"id\": 2}\r\n",
         0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "invalid UTF-8");
}

static void
test_oversized_message_ends_connection(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND,
         "{\"return\": \"0123456789012345678901234567890123456789012345678"
         "9012345678901234567890123456789012345678901234567890123456789\""
         "}\r\n",
         0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct qmp_options opts;

    qmp_options_init(&opts);
    opts.max_message = 100;
    expect_protocol_error(*state, script, &opts, "cap of 100 bytes");
}

static void
test_not_qmp_at_all(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "not QMP");
}

static void
test_object_but_no_greeting(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, "{\"jsonrpc\": \"2.0\"}\r\n", 0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "QMP greeting");
}

static void
test_capabilities_refused(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        {P_EXPECT, "qmp_capabilities", 0, 0},
        {P_SEND,
         "{\"id\": $0, \"error\": {\"class\": \"CommandNotFound\", "
         "\"desc\": \"nope\"}}\r\n",
         0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "refused qmp_capabilities");
}

static void
test_error_without_id(void **state)
{
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND,
         "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
         "error, expecting value\"}}\r\n",
         0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };

    expect_protocol_error(*state, script, NULL, "without an id");
}

static void
test_in_flight_cap(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "c", 0, 0},
        {P_EXPECT, "c", 0, 0},
        {P_PAUSE, NULL, 0, 0.05}, /* a third would arrive now if sent */
        {P_SEND, "{\"return\": 1, \"id\": $1}\r\n", 0, 0},
        {P_SEND, "{\"return\": 2, \"id\": $2}\r\n", 0, 0},
        {P_EXPECT, "c", 0, 0},
        {P_EXPECT, "c", 0, 0},
        {P_PAUSE, NULL, 0, 0.05},
        {P_SEND, "{\"return\": 3, \"id\": $3}\r\n", 0, 0},
        {P_SEND, "{\"return\": 4, \"id\": $4}\r\n", 0, 0},
        {P_EXPECT, "c", 0, 0},
        {P_SEND, "{\"return\": 5, \"id\": $5}\r\n", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct qmp_options opts;
    struct call calls[5];
    int i;

    qmp_options_init(&opts);
    opts.max_in_flight = 2;
    client_start(fx, script, &opts);
    for (i = 0; i < 5; i++) {
        execute(fx, &calls[i], "c");
    }
    assert_int_equal(qmp_client_pending(fx->client), 5);
    run_until_replied(fx, calls, 5);
    assert_peer_ok(fx);
    assert_int_equal(fx->max_outstanding, 2);
    for (i = 0; i < 5; i++) {
        assert_true(calls[i].ok);
        assert_int_equal(json_integer_value(calls[i].ret), i + 1);
        call_done(&calls[i]);
    }
}

/*
 * Out of band: enabled at negotiation when asked for and offered; an
 * exec-oob goes out ahead of the queue and past the in-flight cap, and
 * its reply comes back before the in-band one QEMU is stuck on.
 */
static void
test_out_of_band(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        {P_EXPECT, "qmp_capabilities+oob", 0, 0},
        {P_SEND, "{\"return\": {}, \"id\": $0}\r\n", 0, 0},
        {P_EXPECT, "query-migrate", 0, 0},
        {P_EXPECT, "oob:migrate-pause", 0, 0},
        {P_SEND, "{\"return\": {}, \"id\": $2}\r\n", 0, 0},
        {P_SEND,
         "{\"return\": {\"status\": \"postcopy-paused\"}, \"id\": $1}\r\n", 0,
         0},
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND, "{\"return\": {}, \"id\": $3}\r\n", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct qmp_options opts;
    struct qmp_error err;
    struct call calls[3];

    qmp_options_init(&opts);
    opts.oob = true;
    opts.max_in_flight = 1;
    client_start(fx, script, &opts);
    while (fx->ready == 0 && fx->peer_error[0] == '\0') {
        ev_run(fx->loop, EVRUN_ONCE);
    }
    execute(fx, &calls[0], "query-migrate"); /* QEMU's main loop is stuck */
    execute(fx, &calls[1], "query-status");  /* queued behind it: the cap */
    call_init(&calls[2], fx);
    assert_int_equal(qmp_client_execute_oob(fx->client, "migrate-pause", NULL,
                                            on_reply, &calls[2], on_free, &err),
                     0);
    run_until_replied(fx, &calls[2], 1);
    assert_true(calls[2].ok);
    /* the script saw migrate-pause before it answered query-migrate */
    run_until_replied(fx, &calls[0], 1);
    assert_peer_ok(fx);
    assert_true(calls[0].ok);
    run_until_replied(fx, &calls[1], 1);
    assert_true(calls[1].ok);
    call_done(&calls[0]);
    call_done(&calls[1]);
    call_done(&calls[2]);
}

static void
test_free_inside_reply(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "a", 0, 0},
        {P_EXPECT, "b", 0, 0},
        /* both replies in one read: the second must not be delivered */
        {P_SEND,
         "{\"return\": 1, \"id\": $1}\r\n{\"return\": 2, \"id\": $2}"
         "\r\n",
         0, 0},
        {P_WAIT_CLOSE, NULL, 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call calls[2];

    fx->stop_when_peer_done = true;
    client_start(fx, script, NULL);
    execute(fx, &calls[0], "a");
    execute(fx, &calls[1], "b");
    fx->free_in_reply = true;
    ev_run(fx->loop, 0);
    assert_peer_ok(fx);
    assert_null(fx->client);
    assert_true(calls[0].ok);
    assert_int_equal(calls[1].replied, 1);
    assert_int_equal(calls[1].err.kind, QMP_ERROR_CLOSED);
    assert_int_equal(calls[0].freed, 1);
    assert_int_equal(calls[1].freed, 1);
    assert_int_equal(fx->closed, 0); /* closed by us: no handler */
    call_done(&calls[0]);
}

static void
test_free_with_pending(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "a", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct call calls[2];

    fx->stop_when_peer_done = true;
    client_start(fx, script, NULL);
    execute(fx, &calls[0], "a");
    execute(fx, &calls[1], "b");
    ev_run(fx->loop, 0);
    assert_peer_ok(fx);
    qmp_client_free(fx->client);
    fx->client = NULL;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(calls[i].replied, 1);
        assert_int_equal(calls[i].freed, 1);
        assert_int_equal(calls[i].err.kind, QMP_ERROR_CLOSED);
    }
    assert_int_equal(fx->closed, 0);
}

static void
test_missing_socket(void **state)
{
    struct fixture *fx = *state;
    struct qmp_client *c = qmp_client_new(fx->loop, NULL, NULL);
    struct qmp_error err;

    assert_int_equal(qmp_client_connect(c, "/nonexistent/qmp.sock", &err), -1);
    assert_int_equal(err.kind, QMP_ERROR_CONNECT);
    assert_int_equal(err.errnum, ENOENT);
    assert_non_null(strstr(err.message, "/nonexistent/qmp.sock"));
    assert_non_null(strstr(err.message, "no such socket"));
    qmp_client_free(c);
}

static void
expect_bad_address(struct ev_loop *loop, const char *address,
                   const char *needle)
{
    struct qmp_client *c = qmp_client_new(loop, NULL, NULL);
    struct qmp_error err;

    assert_int_equal(qmp_client_connect(c, address, &err), -1);
    assert_int_equal(err.kind, QMP_ERROR_ADDRESS);
    if (strstr(err.message, needle) == NULL) {
        fail_msg("'%s' does not mention '%s'", err.message, needle);
    }
    qmp_client_free(c);
}

static void
test_bad_addresses(void **state)
{
    struct fixture *fx = *state;
    char longpath[300];

    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    expect_bad_address(fx->loop, "", "empty");
    expect_bad_address(fx->loop, "unix:", "empty socket path");
    expect_bad_address(fx->loop, "tcp:localhost", "tcp:HOST:PORT");
    expect_bad_address(fx->loop, "tcp:127.0.0.1:99999", "not 1..65535");
    expect_bad_address(fx->loop, "tcp:127.0.0.1:x", "not 1..65535");
    expect_bad_address(fx->loop, "tcp::4444", "bad host");
    expect_bad_address(fx->loop, "tcp:[::1:4444", "[IPV6]");
    expect_bad_address(fx->loop, longpath, "longer than");
}

/* TCP: a listener on loopback, a greeting, a command. */
static void
test_tcp_connect(void **state)
{
    struct fixture *fx = *state;
    static const struct peer_step script[] = {
        {P_SEND, GREETING, 0, 0},
        NEGOTIATE,
        {P_EXPECT, "query-status", 0, 0},
        {P_SEND, "{\"return\": {}, \"id\": $1}\r\n", 0, 0},
        {P_END, NULL, 0, 0},
    };
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct call call;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(tfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(tfd, 4), 0);
    assert_int_equal(getsockname(tfd, (struct sockaddr *)&sin, &len), 0);
    /* serve the script on the TCP listener instead of the UNIX one */
    ev_io_stop(fx->loop, &fx->accept_w);
    close(fx->listen_fd);
    fx->listen_fd = tfd;
    ev_io_set(&fx->accept_w, tfd, EV_READ);
    ev_io_start(fx->loop, &fx->accept_w);
    snprintf(fx->address, sizeof(fx->address), "tcp:127.0.0.1:%d",
             ntohs(sin.sin_port));
    client_start(fx, script, NULL);
    execute(fx, &call, "query-status");
    run_until_replied(fx, &call, 1);
    assert_peer_ok(fx);
    assert_true(call.ok);
    call_done(&call);
}

static void
test_tcp_refused(void **state)
{
    struct fixture *fx = *state;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int tfd = socket(AF_INET, SOCK_STREAM, 0);
    char address[64];
    struct qmp_handlers h = {on_ready, on_event, on_closed, fx};
    struct qmp_error err;
    int rc;

    /* a port that was just free: bind, read it back, close */
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(tfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(tfd, (struct sockaddr *)&sin, &len), 0);
    close(tfd);
    snprintf(address, sizeof(address), "tcp:127.0.0.1:%d", ntohs(sin.sin_port));
    fx->client = qmp_client_new(fx->loop, NULL, &h);
    rc = qmp_client_connect(fx->client, address, &err);
    if (rc == 0) {
        ev_run(fx->loop, 0);
        assert_int_equal(fx->closed, 1);
        err = fx->closed_err;
    }
    assert_int_equal(err.kind, QMP_ERROR_CONNECT);
    assert_int_equal(err.errnum, ECONNREFUSED);
    assert_non_null(strstr(err.message, address));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_greeting_negotiation_and_reply,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_many_messages_in_one_read_event_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pretty_printed_monitor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ids_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qmp_error_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_timeout_then_late_reply,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_greeting_is_busy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hangup_mid_message_fails_pending_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_json_ends_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_ends_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_message_ends_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_qmp_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_but_no_greeting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_capabilities_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_without_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_band, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_flight_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_with_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_refused, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
