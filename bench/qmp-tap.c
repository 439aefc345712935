/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/qmp-tap: a QMP relay that times a client's reactions to events. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>

/*
 * qmp-tap -o OUT.json --count N --listen DIR --target DIR
 *
 * For each of vm1..vmN, listens on LISTEN/vmI.sock and relays every byte,
 * both ways and unchanged, to TARGET/vmI.sock (a fake-qemu --count N
 * --qmp-dir TARGET).  On the way it reads the lines: each MIGRATION or
 * MIGRATION_PASS event from the server is noted with QEMU's timestamp
 * (when the state changed) and the time the tap passed it on; the next
 * query-migrate from the client is the client's reaction.  On SIGTERM or
 * SIGINT it writes to OUT.json the delays, in ms:
 *   emit:     state change -> event passed on (the server's own lag)
 *   reaction: event passed on -> the client's query-migrate arrived
 *   total:    state change -> the client's query-migrate arrived
 * for all such events and for MIGRATION "completed" alone.  Prints
 * "ready" once every socket listens.
 */

#define LINE_MAX_BYTES 65536

struct dir_buf {
    char *data;
    size_t len, cap;
};

struct side {
    int fd;
    ev_io rio, wio;
    struct dir_buf out;   /* bytes waiting to be written to this side */
    struct dir_buf line;  /* a partial line read from this side */
    struct pair *pair;
    bool is_server;
};

struct pair {
    struct tap *tap;
    int index;
    int listen_fd;
    ev_io lio;
    struct side client, server;
    bool open;
    bool pending;          /* an event waits for the client's reaction */
    bool pending_done;     /* it was MIGRATION completed */
    double pending_state;  /* its timestamp: when the state changed */
    double pending_fwd;    /* when the tap passed it on */
    bool pending_inflight; /* a query-migrate was out when it came */
    bool qm_out;           /* a query-migrate awaits its reply */
    json_int_t qm_id;      /* its id */
};

struct series {
    double *v;
    size_t n, cap;
};

struct tap {
    struct ev_loop *loop;
    struct pair *pairs;
    int n;
    char target[4096];
    struct series emit, reaction, total, done_reaction, done_total;
    size_t events, unanswered, connections;
    size_t by_reply; /* completions learnt from a reply already asked for */
    ev_signal sigint_w, sigterm_w;
};

static double
wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
series_add(struct series *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *v = realloc(s->v, cap * sizeof(*v));

        if (v == NULL) {
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static int
buf_append(struct dir_buf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *d;

        while (cap < b->len + n) {
            cap *= 2;
        }
        d = realloc(b->data, cap);
        if (d == NULL) {
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static void pair_close(struct pair *p);

/* Writes what is queued for this side; the write watcher only when needed. */
static void
side_flush(struct side *s)
{
    struct ev_loop *loop = s->pair->tap->loop;

    while (s->out.len > 0) {
        ssize_t n = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                ev_io_start(loop, &s->wio);
                return;
            }
            pair_close(s->pair);
            return;
        }
        memmove(s->out.data, s->out.data + n, s->out.len - (size_t)n);
        s->out.len -= (size_t)n;
    }
    ev_io_stop(loop, &s->wio);
}

/* The client learnt the new state at now: one reaction. */
static void
record(struct pair *p, double now)
{
    struct tap *tap = p->tap;

    series_add(&tap->reaction, (now - p->pending_fwd) * 1000);
    series_add(&tap->total, (now - p->pending_state) * 1000);
    if (p->pending_done) {
        series_add(&tap->done_reaction, (now - p->pending_fwd) * 1000);
        series_add(&tap->done_total, (now - p->pending_state) * 1000);
        tap->by_reply += p->pending_inflight;
    }
    p->pending = false;
}

/* A line from the server: an event to note? */
static void
server_line(struct pair *p, const char *line, size_t len, double fwd)
{
    struct tap *tap = p->tap;
    json_t *msg, *ts, *data;
    const char *name, *status = NULL;
    json_error_t jerr;
    double state;

    if (p->qm_out && memmem(line, len, "\"return\"", 8) != NULL) {
        msg = json_loadb(line, len, 0, &jerr);
        if (msg != NULL &&
            json_integer_value(json_object_get(msg, "id")) == p->qm_id) {
            p->qm_out = false;
            if (p->pending && p->pending_inflight) {
                /* that reply, computed after the event, told the client */
                record(p, fwd);
            }
        }
        json_decref(msg);
        return;
    }
    if (memmem(line, len, "\"event\"", 7) == NULL ||
        memmem(line, len, "MIGRATION", 9) == NULL) {
        return;
    }
    msg = json_loadb(line, len, 0, &jerr);
    if (msg == NULL) {
        return;
    }
    name = json_string_value(json_object_get(msg, "event"));
    ts = json_object_get(msg, "timestamp");
    data = json_object_get(msg, "data");
    if (name != NULL && (strcmp(name, "MIGRATION") == 0 ||
                         strcmp(name, "MIGRATION_PASS") == 0)) {
        state = (double)json_integer_value(json_object_get(ts, "seconds")) +
                (double)json_integer_value(
                    json_object_get(ts, "microseconds")) /
                    1e6;
        status = json_string_value(json_object_get(data, "status"));
        tap->events++;
        series_add(&tap->emit, (fwd - state) * 1000);
        if (!p->pending) {
            p->pending = true;
            p->pending_done = false;
            p->pending_state = state;
            p->pending_fwd = fwd;
            p->pending_inflight = p->qm_out;
        }
        if (status != NULL && strcmp(status, "completed") == 0) {
            /* the completion is what matters most: time it on its own */
            p->pending_done = true;
            p->pending_state = state;
            p->pending_fwd = fwd;
            p->pending_inflight = p->qm_out;
        }
    }
    json_decref(msg);
}

/*
 * A line from the client: the reaction, if it asks query-migrate.  A
 * query-migrate that was already out when the event came gets a reply
 * computed after the state changed (QEMU sends the event first): that
 * reply, passed on, is the reaction instead, if it comes first.
 */
static void
client_line(struct pair *p, const char *line, size_t len, double now)
{
    json_error_t jerr;
    json_t *msg;

    if (memmem(line, len, "\"query-migrate\"", 15) == NULL) {
        return;
    }
    msg = json_loadb(line, len, 0, &jerr);
    if (msg != NULL) {
        p->qm_out = true;
        p->qm_id = json_integer_value(json_object_get(msg, "id"));
        json_decref(msg);
    }
    if (p->pending) {
        record(p, now);
    }
}

/* Relays what came in on from to the other side, then reads its lines. */
static void
side_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct side *from = w->data;
    struct pair *p = from->pair;
    struct side *to = from->is_server ? &p->client : &p->server;
    char buf[65536];
    ssize_t n;
    double t;
    size_t start = 0, i;

    (void)loop;
    (void)revents;
    n = recv(from->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        pair_close(p);
        return;
    }
    t = wall();
    if (buf_append(&to->out, buf, (size_t)n) < 0) {
        pair_close(p);
        return;
    }
    side_flush(to);
    if (!p->open) {
        return;
    }
    t = from->is_server ? wall() : t;
    for (i = 0; i < (size_t)n; i++) {
        if (buf[i] != '\n') {
            continue;
        }
        if (buf_append(&from->line, buf + start, i - start) == 0) {
            if (from->is_server) {
                server_line(p, from->line.data, from->line.len, t);
            } else {
                client_line(p, from->line.data, from->line.len, t);
            }
        }
        from->line.len = 0;
        start = i + 1;
    }
    if (start < (size_t)n && from->line.len < LINE_MAX_BYTES) {
        (void)buf_append(&from->line, buf + start, (size_t)n - start);
    }
}

static void
side_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    side_flush(w->data);
}

static void
side_init(struct side *s, struct pair *p, int fd, bool is_server)
{
    s->fd = fd;
    s->pair = p;
    s->is_server = is_server;
    s->out.len = 0;
    s->line.len = 0;
    ev_io_init(&s->rio, side_read_cb, fd, EV_READ);
    ev_io_init(&s->wio, side_write_cb, fd, EV_WRITE);
    s->rio.data = s;
    s->wio.data = s;
}

static void
pair_close(struct pair *p)
{
    struct ev_loop *loop = p->tap->loop;

    if (!p->open) {
        return;
    }
    p->open = false;
    if (p->pending) {
        p->tap->unanswered++;
        p->pending = false;
    }
    ev_io_stop(loop, &p->client.rio);
    ev_io_stop(loop, &p->client.wio);
    ev_io_stop(loop, &p->server.rio);
    ev_io_stop(loop, &p->server.wio);
    close(p->client.fd);
    close(p->server.fd);
    /* the next client may come */
    ev_io_start(loop, &p->lio);
}

static int
set_path(struct sockaddr_un *sa, const char *path)
{
    size_t len = strlen(path);

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (len >= sizeof(sa->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa->sun_path, path, len + 1);
    return 0;
}

static int
unix_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    if (set_path(&sa, path) < 0) {
        close(fd);
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct pair *p = w->data;
    char path[4200];
    int cfd, sfd;

    (void)revents;
    cfd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
        return;
    }
    snprintf(path, sizeof(path), "%s/vm%d.sock", p->tap->target,
             p->index + 1);
    sfd = unix_connect(path);
    if (sfd < 0) {
        fprintf(stderr, "qmp-tap: %s: %s\n", path, strerror(errno));
        close(cfd);
        return;
    }
    p->tap->connections++;
    side_init(&p->client, p, cfd, false);
    side_init(&p->server, p, sfd, true);
    p->open = true;
    p->pending = false;
    p->qm_out = false;
    /* one client at a time, as QEMU: the next one waits in the backlog */
    ev_io_stop(loop, &p->lio);
    ev_io_start(loop, &p->client.rio);
    ev_io_start(loop, &p->server.rio);
}

static int
unix_listen(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        return -1;
    }
    if (set_path(&sa, path) < 0) {
        close(fd);
        return -1;
    }
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 16) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static json_t *
series_json(struct series *s)
{
    size_t k95;

    if (s->n == 0) {
        return json_pack("{s:i}", "n", 0);
    }
    qsort(s->v, s->n, sizeof(double), cmp_double);
    k95 = (size_t)ceil(0.95 * (double)s->n);
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)s->n,
                     "median_ms", s->v[(s->n + 1) / 2 - 1], "p95_ms",
                     s->v[(k95 ? k95 : 1) - 1], "p99_ms",
                     s->v[(size_t)ceil(0.99 * (double)s->n) - 1], "max_ms",
                     s->v[s->n - 1]);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
    const char *out = NULL, *listen_dir = NULL, *target = NULL;
    struct tap tap;
    struct rlimit rl;
    json_t *res;
    int a, i;

    memset(&tap, 0, sizeof(tap));
    for (a = 1; a + 1 < argc; a += 2) {
        if (strcmp(argv[a], "-o") == 0) {
            out = argv[a + 1];
        } else if (strcmp(argv[a], "--count") == 0) {
            tap.n = atoi(argv[a + 1]);
        } else if (strcmp(argv[a], "--listen") == 0) {
            listen_dir = argv[a + 1];
        } else if (strcmp(argv[a], "--target") == 0) {
            target = argv[a + 1];
        } else {
            break;
        }
    }
    if (a != argc || out == NULL || listen_dir == NULL || target == NULL ||
        tap.n < 1) {
        fprintf(stderr, "usage: qmp-tap -o OUT.json --count N --listen DIR "
                        "--target DIR\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(tap.target, sizeof(tap.target), "%s", target);
    tap.loop = ev_default_loop(EVFLAG_AUTO);
    tap.pairs = calloc((size_t)tap.n, sizeof(*tap.pairs));
    if (tap.pairs == NULL) {
        fprintf(stderr, "qmp-tap: out of memory\n");
        return 1;
    }
    for (i = 0; i < tap.n; i++) {
        struct pair *p = &tap.pairs[i];
        char path[4200];

        p->tap = &tap;
        p->index = i;
        snprintf(path, sizeof(path), "%s/vm%d.sock", listen_dir, i + 1);
        p->listen_fd = unix_listen(path);
        if (p->listen_fd < 0) {
            fprintf(stderr, "qmp-tap: %s: %s\n", path, strerror(errno));
            return 1;
        }
        ev_io_init(&p->lio, accept_cb, p->listen_fd, EV_READ);
        p->lio.data = p;
        ev_io_start(tap.loop, &p->lio);
    }
    ev_signal_init(&tap.sigint_w, signal_cb, SIGINT);
    ev_signal_init(&tap.sigterm_w, signal_cb, SIGTERM);
    ev_signal_start(tap.loop, &tap.sigint_w);
    ev_signal_start(tap.loop, &tap.sigterm_w);
    printf("ready\n");
    fflush(stdout);
    ev_run(tap.loop, 0);
    for (i = 0; i < tap.n; i++) {
        pair_close(&tap.pairs[i]);
    }
    res = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}",
                    "connections", (json_int_t)tap.connections,
                    "completed_by_reply", (json_int_t)tap.by_reply, "events",
                    (json_int_t)tap.events, "unanswered",
                    (json_int_t)tap.unanswered, "emit", series_json(&tap.emit),
                    "reaction", series_json(&tap.reaction), "total",
                    series_json(&tap.total), "completed_reaction",
                    series_json(&tap.done_reaction), "completed_total",
                    series_json(&tap.done_total));
    if (json_dump_file(res, out, JSON_COMPACT) < 0) {
        fprintf(stderr, "qmp-tap: cannot write %s\n", out);
        return 1;
    }
    json_decref(res);
    for (i = 0; i < tap.n; i++) {
        char path[4200];

        snprintf(path, sizeof(path), "%s/vm%d.sock", listen_dir, i + 1);
        unlink(path);
        free(tap.pairs[i].client.out.data);
        free(tap.pairs[i].client.line.data);
        free(tap.pairs[i].server.out.data);
        free(tap.pairs[i].server.line.data);
    }
    free(tap.pairs);
    ev_loop_destroy(tap.loop);
    return 0;
}
