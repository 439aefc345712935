/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp-cmd: a plain QMP client for tests: run commands, print their return
 * values. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmp/qmp.h"

/*
 * qmp-cmd [--timeout S] [--hold S] MONITOR [COMMAND [JSON-ARGS]]...
 *
 * Runs each COMMAND in turn (arguments as a JSON object, or "-" for
 * none) and prints each return value as one JSON line.  Exit 0 when all
 * succeed, 1 when QEMU refused one (its class and text on stderr), 4 when
 * the monitor could not be used.  --hold keeps the connection open for S
 * seconds after the commands (to make the monitor busy for others).
 */

struct state {
    struct ev_loop *loop;
    struct qmp_client *client;
    char **argv;
    int argc;
    int next;
    int rc;
    double hold;
    ev_timer hold_timer;
};

static void run_next(struct state *st);

static void
hold_done(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void
finish(struct state *st, int rc)
{
    st->rc = rc;
    if (rc == 0 && st->hold > 0) {
        ev_timer_init(&st->hold_timer, hold_done, st->hold, 0.0);
        ev_timer_start(st->loop, &st->hold_timer);
        return;
    }
    ev_break(st->loop, EVBREAK_ALL);
}

static void
on_reply(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
         void *opaque)
{
    struct state *st = opaque;
    char *text;

    (void)c;
    if (err != NULL) {
        fprintf(stderr, "qmp-cmd: %s%s%s\n", err->qmp_class,
                err->qmp_class[0] ? ": " : "", err->message);
        finish(st, err->kind == QMP_ERROR_COMMAND ? 1 : 4);
        return;
    }
    text = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", text ? text : "null");
    fflush(stdout);
    free(text);
    run_next(st);
}

static void
run_next(struct state *st)
{
    struct qmp_error err;
    json_t *args = NULL;
    const char *cmd;

    if (st->next >= st->argc) {
        finish(st, 0);
        return;
    }
    cmd = st->argv[st->next++];
    if (st->next < st->argc && st->argv[st->next][0] == '{') {
        json_error_t jerr;

        args = json_loads(st->argv[st->next], 0, &jerr);
        if (args == NULL) {
            fprintf(stderr, "qmp-cmd: arguments of %s: %s\n", cmd, jerr.text);
            finish(st, 2);
            return;
        }
        st->next++;
    } else if (st->next < st->argc && strcmp(st->argv[st->next], "-") == 0) {
        st->next++;
    }
    if (qmp_client_execute(st->client, cmd, args, on_reply, st, NULL, &err) <
        0) {
        fprintf(stderr, "qmp-cmd: %s\n", err.message);
        finish(st, 4);
    }
}

static void
on_ready(struct qmp_client *c, void *opaque)
{
    (void)c;
    run_next(opaque);
}

static void
on_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    struct state *st = opaque;

    (void)c;
    fprintf(stderr, "qmp-cmd: %s\n", why->message);
    finish(st, 4);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"timeout", required_argument, NULL, 't'},
        {"hold", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    struct qmp_options qo;
    struct qmp_handlers h = {on_ready, NULL, on_closed, NULL};
    struct state st;
    struct qmp_error err;
    int c;

    memset(&st, 0, sizeof(st));
    qmp_options_init(&qo);
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            qo.command_timeout = atof(optarg);
            qo.greeting_timeout = atof(optarg);
            break;
        case 'H':
            st.hold = atof(optarg);
            break;
        default:
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: qmp-cmd [--timeout S] [--hold S] MONITOR "
                        "[COMMAND [JSON-ARGS]]...\n");
        return 2;
    }
    st.loop = ev_default_loop(0);
    st.argv = argv;
    st.argc = argc;
    st.next = optind + 1;
    h.opaque = &st;
    st.client = qmp_client_new(st.loop, &qo, &h);
    if (qmp_client_connect(st.client, argv[optind], &err) < 0) {
        fprintf(stderr, "qmp-cmd: %s\n", err.message);
        qmp_client_free(st.client);
        return 4;
    }
    ev_run(st.loop, 0);
    qmp_client_free(st.client);
    ev_loop_destroy(st.loop);
    return st.rc;
}
