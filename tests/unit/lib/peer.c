/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tests/unit/lib/peer: a QMP monitor in the test's own libev loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/lib/peer.h"

static void
peer_send(struct peer *p, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    size_t len, off = 0;

    json_decref(msg);
    if (text == NULL || p->fd < 0) {
        free(text);
        return;
    }
    len = strlen(text);
    text[len] = '\n';
    while (off <= len) {
        ssize_t n = send(p->fd, text + off, len + 1 - off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    free(text);
}

static void
peer_log(struct peer *p, const char *command, json_t *args)
{
    char *a = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *line = NULL;

    if (p->n_log < PEER_MAX_LOG &&
        asprintf(&line, "%s %s", command, a ? a : "{}") >= 0) {
        p->log[p->n_log++] = line;
    }
    free(a);
}

static void
peer_handle(struct peer *p, json_t *msg)
{
    const char *command = json_string_value(json_object_get(msg, "execute"));
    json_t *args = json_object_get(msg, "arguments");
    json_t *id = json_object_get(msg, "id");
    const char *error = NULL;
    json_t *ret, *reply;

    if (command == NULL) {
        return;
    }
    peer_log(p, command, args);
    if (strcmp(command, "qmp_capabilities") == 0) {
        ret = json_object();
    } else {
        ret = p->answer(p, command, args, &error);
    }
    if (error != NULL) {
        reply = json_pack("{s:{s:s, s:s}}", "error", "class", "GenericError",
                          "desc", error);
    } else {
        reply = json_pack("{s:o}", "return", ret ? ret : json_object());
    }
    if (id != NULL) {
        json_object_set(reply, "id", id);
    }
    peer_send(p, reply);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct peer *p = w->data;
    char buf[65536], why[256];
    json_t *msg;
    ssize_t n;

    (void)revents;
    n = read(p->fd, buf, sizeof(buf));
    if (n <= 0) {
        ev_io_stop(loop, w);
        close(p->fd);
        p->fd = -1;
        qmp_stream_reset(&p->in);
        qmp_stream_init(&p->in, 0);
        return;
    }
    qmp_stream_feed(&p->in, buf, (size_t)n);
    while (qmp_stream_next(&p->in, &msg, why, sizeof(why)) == 1) {
        peer_handle(p, msg);
        json_decref(msg);
    }
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct peer *p = w->data;
    int fd = accept(p->listen_fd, NULL, NULL);

    (void)revents;
    if (fd < 0) {
        return;
    }
    if (p->fd >= 0) {
        close(fd); /* one client at a time, as QEMU's monitor */
        return;
    }
    p->fd = fd;
    ev_io_init(&p->read_w, read_cb, fd, EV_READ);
    p->read_w.data = p;
    ev_io_start(loop, &p->read_w);
    peer_send(p,
              json_pack("{s:{s:{s:{s:i, s:i, s:i}, s:s}, s:[]}}", "QMP",
                        "version", "qemu", "major", p->major, "minor", p->minor,
                        "micro", 0, "package", "peer", "capabilities"));
}

int
peer_start(struct peer *p, struct ev_loop *loop, const char *dir,
           const char *name, peer_answer_fn *answer, void *opaque)
{
    struct sockaddr_un sa;

    memset(p, 0, sizeof(*p));
    p->loop = loop;
    p->answer = answer;
    p->opaque = opaque;
    p->major = 7;
    p->minor = 2;
    p->fd = -1;
    qmp_stream_init(&p->in, 0);
    snprintf(p->path, sizeof(p->path), "%s/%s.qmp", dir, name);
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
    if (bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(p->listen_fd, 4) < 0) {
        close(p->listen_fd);
        return -1;
    }
    ev_io_init(&p->accept_w, accept_cb, p->listen_fd, EV_READ);
    p->accept_w.data = p;
    ev_io_start(loop, &p->accept_w);
    return 0;
}

void
peer_stop(struct peer *p)
{
    size_t i;

    ev_io_stop(p->loop, &p->accept_w);
    if (p->fd >= 0) {
        ev_io_stop(p->loop, &p->read_w);
        close(p->fd);
        p->fd = -1;
    }
    close(p->listen_fd);
    unlink(p->path);
    qmp_stream_reset(&p->in);
    for (i = 0; i < p->n_log; i++) {
        free(p->log[i]);
    }
    p->n_log = 0;
}

void
peer_event(struct peer *p, const char *name, json_t *data)
{
    json_t *ev = json_pack("{s:s, s:{s:i, s:i}}", "event", name, "timestamp",
                           "seconds", 0, "microseconds", 0);

    if (data != NULL) {
        json_object_set_new(ev, "data", data);
    }
    peer_send(p, ev);
}

size_t
peer_count(const struct peer *p, const char *command)
{
    size_t i, n = 0, len = strlen(command);

    for (i = 0; i < p->n_log; i++) {
        if (strncmp(p->log[i], command, len) == 0 && p->log[i][len] == ' ') {
            n++;
        }
    }
    return n;
}

int
peer_find(const struct peer *p, const char *prefix, size_t from)
{
    size_t i;

    for (i = from; i < p->n_log; i++) {
        if (strncmp(p->log[i], prefix, strlen(prefix)) == 0) {
            return (int)i;
        }
    }
    return -1;
}
