/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's server over real sockets, faults included. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp/stream.h"
#include "tests/fake-qemu/fake.h"

#define MAX_VMS 32

struct server {
    pid_t pid;
    int out; /* the child's stdout */
    char names[MAX_VMS][FQ_NAME_MAX];
    char addrs[MAX_VMS][FQ_ADDR_MAX + 64];
    size_t n;
};

struct conn {
    int fd;
    struct qmp_stream s;
    char raw[65536]; /* every byte received, for framing */
    size_t raw_len;
    bool eof;
    bool error; /* the stream saw a protocol error */
};

static char dir[64];
/* The server child of the running test, killed if the test fails. */
static pid_t live_pid;

static double
now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Runs the server in a child, as main.c would; waits for "ready". */
static void
server_start(struct server *srv, ...)
{
    char *argv[40] = {"fake-qemu"};
    int argc = 1;
    int pipefd[2];
    char buf[8192];
    size_t len = 0;
    double deadline = now() + 5;
    va_list ap;
    char *a;
    char *line;

    va_start(ap, srv);
    while ((a = va_arg(ap, char *)) != NULL && argc < 39) {
        argv[argc++] = a;
    }
    va_end(ap);
    memset(srv, 0, sizeof(*srv));
    assert_int_equal(pipe(pipefd), 0);
    srv->pid = fork();
    assert_true(srv->pid >= 0);
    if (srv->pid == 0) {
        struct fq_scenario sc;
        struct fq_server *s;
        struct fq_error err;
        int rc;

        /* never outlive the test, whatever happens to it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        signal(SIGPIPE, SIG_IGN);
        fq_scenario_init(&sc);
        if (fq_scenario_parse_args(&sc, argc, argv, &err) < 0 ||
            fq_scenario_finish(&sc, &err) < 0 ||
            (s = fq_server_new(&sc, &err)) == NULL) {
            fprintf(stderr, "fake-qemu: %s\n", err.desc);
            _exit(2);
        }
        fq_scenario_fini(&sc);
        rc = fq_server_run(s);
        fq_server_free(s);
        _exit(rc);
    }
    close(pipefd[1]);
    live_pid = srv->pid;
    srv->out = pipefd[0];
    buf[0] = '\0';
    while (strstr(buf, "ready\n") == NULL) {
        struct pollfd p = {.fd = srv->out, .events = POLLIN};
        ssize_t n;

        assert_true(now() < deadline);
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        n = read(srv->out, buf + len, sizeof(buf) - len - 1);
        assert_true(n > 0);
        len += (size_t)n;
        buf[len] = '\0';
    }
    for (line = strtok(buf, "\n"); line != NULL && srv->n < MAX_VMS;
         line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');

        if (sp == NULL) {
            continue;
        }
        *sp = '\0';
        snprintf(srv->names[srv->n], sizeof(srv->names[0]), "%s", line);
        snprintf(srv->addrs[srv->n], sizeof(srv->addrs[0]), "%s", sp + 1);
        srv->n++;
    }
}

/* SIGTERM unless it already ended; returns the exit status. */
static int
server_stop(struct server *srv)
{
    int status = 0;
    double deadline = now() + 5;

    kill(srv->pid, SIGTERM);
    while (waitpid(srv->pid, &status, WNOHANG) == 0) {
        assert_true(now() < deadline);
        usleep(10000);
    }
    close(srv->out);
    live_pid = 0;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int
server_wait(struct server *srv)
{
    int status = 0;
    double deadline = now() + 5;

    while (waitpid(srv->pid, &status, WNOHANG) == 0) {
        assert_true(now() < deadline);
        usleep(10000);
    }
    close(srv->out);
    live_pid = 0;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int
dial(const char *addr)
{
    int fd;

    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};

        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
            close(fd);
            return -1;
        }
        return fd;
    } else {
        struct sockaddr_in in = {.sin_family = AF_INET};
        unsigned port = 0;

        assert_int_equal(sscanf(addr, "tcp:127.0.0.1:%u", &port), 1);
        in.sin_port = htons((uint16_t)port);
        in.sin_addr.s_addr = htonl(0x7f000001);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
            close(fd);
            return -1;
        }
        return fd;
    }
}

static void
conn_open(struct conn *c, const char *addr)
{
    memset(c, 0, sizeof(*c));
    c->fd = dial(addr);
    assert_true(c->fd >= 0);
    qmp_stream_init(&c->s, 0);
}

static void
conn_close(struct conn *c)
{
    close(c->fd);
    qmp_stream_reset(&c->s);
}

/* The next message within timeout seconds, or NULL (eof/error/none). */
static json_t *
conn_next(struct conn *c, double timeout)
{
    double deadline = now() + timeout;
    char errbuf[200];

    for (;;) {
        json_t *msg = NULL;
        int rc = qmp_stream_next(&c->s, &msg, errbuf, sizeof(errbuf));
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        char buf[4096];
        ssize_t n;
        int ms = (int)((deadline - now()) * 1000);

        if (rc == 1) {
            return msg;
        }
        if (rc < 0) {
            c->error = true;
            return NULL;
        }
        if (c->eof || ms <= 0 || poll(&p, 1, ms) <= 0) {
            return NULL;
        }
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            c->eof = true;
            continue;
        }
        if (c->raw_len + (size_t)n <= sizeof(c->raw)) {
            memcpy(c->raw + c->raw_len, buf, (size_t)n);
            c->raw_len += (size_t)n;
        }
        assert_int_equal(qmp_stream_feed(&c->s, buf, (size_t)n), 0);
    }
}

static void
conn_send(struct conn *c, const char *text)
{
    assert_int_equal(send(c->fd, text, strlen(text), MSG_NOSIGNAL),
                     (ssize_t)strlen(text));
}

/* Sends a command; returns its reply, skipping (and counting) events. */
static json_t *
conn_cmd(struct conn *c, const char *text, size_t *events)
{
    json_t *msg;

    conn_send(c, text);
    while ((msg = conn_next(c, 5)) != NULL) {
        if (json_object_get(msg, "event") == NULL) {
            return msg;
        }
        if (events != NULL) {
            (*events)++;
        }
        json_decref(msg);
    }
    return NULL;
}

static void
greet(struct conn *c)
{
    json_t *g = conn_next(c, 5);
    json_t *r;

    assert_non_null(json_object_get(g, "QMP"));
    json_decref(g);
    r = conn_cmd(c, "{\"execute\": \"qmp_capabilities\"}", NULL);
    assert_non_null(json_object_get(r, "return"));
    json_decref(r);
}

static const char *
status_of(json_t *rsp)
{
    return json_string_value(
        json_object_get(json_object_get(rsp, "return"), "status"));
}

static void
test_session(void **unused)
{
    struct server srv;
    struct conn c;
    char addr[160];
    char path[128];
    json_t *r;
    json_t *msg;
    size_t events = 0;
    bool completed = false;
    double deadline;
    struct stat st;

    (void)unused;
    snprintf(path, sizeof(path), "%s/a.sock", dir);
    snprintf(addr, sizeof(addr), "unix:%s", path);
    server_start(&srv, "--qmp", addr, "--ram", "512M", "--working-set", "64M",
                 "--dirty-rate", "393000", "--zero-share", "0.87",
                 "--time-scale", "10", "--version", "8.2.1", NULL);
    assert_int_equal(srv.n, 1);
    assert_string_equal(srv.names[0], "vm");
    assert_string_equal(srv.addrs[0], addr);
    conn_open(&c, addr);
    msg = conn_next(&c, 5);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(
                json_object_get(json_object_get(msg, "QMP"), "version"),
                "qemu"),
            "major")),
        8);
    json_decref(msg);
    /* QEMU ends every message with CRLF */
    assert_true(c.raw_len > 2);
    assert_memory_equal(c.raw + c.raw_len - 2, "\r\n", 2);
    r = conn_cmd(&c, "{\"execute\": \"qmp_capabilities\", \"id\": [1]}", NULL);
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(r, "id"), 0)), 1);
    json_decref(r);
    json_decref(conn_cmd(&c,
                         "{\"execute\": \"migrate-set-capabilities\", "
                         "\"arguments\": {\"capabilities\": [{"
                         "\"capability\": \"events\", \"state\": "
                         "true}]}}",
                         NULL));
    json_decref(conn_cmd(&c,
                         "{\"execute\": \"migrate-set-parameters\", "
                         "\"arguments\": {\"max-bandwidth\": 104857600, "
                         "\"downtime-limit\": 2000}}",
                         NULL));
    /* the MIGRATION setup event comes before migrate's reply */
    r = conn_cmd(&c,
                 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": "
                 "\"tcp:127.0.0.1:1\"}}",
                 &events);
    assert_int_equal(events, 1);
    json_decref(r);
    /* 0.7 model seconds at a time scale of 10: done in ~0.1 s */
    deadline = now() + 3;
    while (!completed && now() < deadline) {
        msg = conn_next(&c, 0.5);
        if (msg == NULL) {
            continue;
        }
        if (json_object_get(msg, "timestamp") == NULL) {
            fail_msg("an event without a timestamp");
        }
        completed =
            json_is_object(json_object_get(msg, "data")) &&
            status_of(msg) == NULL &&
            json_string_value(json_object_get(json_object_get(msg, "data"),
                                              "status")) != NULL &&
            strcmp(json_string_value(
                       json_object_get(json_object_get(msg, "data"), "status")),
                   "completed") == 0;
        json_decref(msg);
    }
    assert_true(completed);
    r = conn_cmd(&c, "{\"execute\": \"query-migrate\"}", NULL);
    assert_string_equal(status_of(r), "completed");
    assert_true(
        json_is_object(json_object_get(json_object_get(r, "return"), "ram")));
    json_decref(r);
    conn_close(&c);
    assert_int_equal(server_stop(&srv), 0);
    /* a clean exit removes the socket */
    assert_int_equal(stat(path, &st), -1);
}

static void
test_one_client_at_a_time(void **unused)
{
    struct server srv;
    struct conn a;
    struct conn b;
    char addr[160];
    json_t *msg;

    (void)unused;
    snprintf(addr, sizeof(addr), "unix:%s/b.sock", dir);
    server_start(&srv, "--qmp", addr, NULL);
    conn_open(&a, addr);
    greet(&a);
    /* the second connect succeeds, but no greeting comes */
    conn_open(&b, addr);
    assert_null(conn_next(&b, 0.3));
    assert_false(b.eof);
    conn_close(&a);
    msg = conn_next(&b, 5);
    assert_non_null(json_object_get(msg, "QMP"));
    json_decref(msg);
    conn_close(&b);
    assert_int_equal(server_stop(&srv), 0);
}

static void
test_reply_faults(void **unused)
{
    struct server srv;
    struct conn c;
    char addr[160];
    json_t *r;
    double t0;

    (void)unused;
    snprintf(addr, sizeof(addr), "unix:%s/c.sock", dir);
    server_start(&srv, "--qmp", addr, "--fault",
                 "on=query-status error GenericError:no status today",
                 "--fault", "on=query-migrate:2 late:400ms", "--fault",
                 "on=query-version hangup-mid-message", "--fault",
                 "on=connect:3 hangup", "--fault",
                 "on=query-commands garbage-json", "--fault",
                 "on=stop bad-utf8", "--fault", "on=cont hangup", NULL);
    conn_open(&c, addr);
    greet(&c);
    r = conn_cmd(&c, "{\"execute\": \"query-status\", \"id\": 1}", NULL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "error"), "desc")),
        "no status today");
    assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
    json_decref(r);
    /* fires once: the second query-status is answered */
    r = conn_cmd(&c, "{\"execute\": \"query-status\"}", NULL);
    assert_string_equal(status_of(r), "running");
    json_decref(r);
    json_decref(conn_cmd(&c, "{\"execute\": \"query-migrate\"}", NULL));

    /* late: the reply, and the next one behind it, wait 400 ms */
    t0 = now();
    conn_send(&c, "{\"execute\": \"query-migrate\", \"id\": \"slow\"}"
                  "{\"execute\": \"query-status\", \"id\": \"next\"}");
    r = conn_next(&c, 5);
    assert_true(now() - t0 > 0.35);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "slow");
    json_decref(r);
    r = conn_next(&c, 5);
    assert_string_equal(json_string_value(json_object_get(r, "id")), "next");
    json_decref(r);

    /* garbage instead of a reply: the client's parser must object */
    conn_send(&c, "{\"execute\": \"query-commands\"}");
    assert_null(conn_next(&c, 5));
    assert_true(c.error);
    conn_close(&c);

    /* invalid UTF-8 instead of a reply (stop still ran: STOP first) */
    conn_open(&c, addr);
    greet(&c);
    conn_send(&c, "{\"execute\": \"stop\"}");
    r = conn_next(&c, 5);
    assert_string_equal(json_string_value(json_object_get(r, "event")), "STOP");
    json_decref(r);
    assert_null(conn_next(&c, 5));
    assert_true(c.error);
    conn_close(&c);

    /* the third client is hung up on before its greeting */
    conn_open(&c, addr);
    assert_null(conn_next(&c, 5));
    assert_true(c.eof);
    assert_int_equal(c.raw_len, 0);
    conn_close(&c);

    /* half a reply, then EOF */
    conn_open(&c, addr);
    greet(&c);
    c.raw_len = 0;
    conn_send(&c, "{\"execute\": \"query-version\"}");
    assert_null(conn_next(&c, 5));
    assert_true(c.eof);
    assert_false(c.error);
    assert_true(c.raw_len > 10);
    assert_true(memchr(c.raw, '\n', c.raw_len) == NULL);
    assert_int_equal(qmp_stream_pending(&c.s), 1);
    conn_close(&c);

    /* hang up instead of replying; the next client is served */
    conn_open(&c, addr);
    greet(&c);
    c.raw_len = 0;
    conn_send(&c, "{\"execute\": \"cont\"}");
    assert_null(conn_next(&c, 5));
    assert_true(c.eof);
    assert_int_equal(c.raw_len, 0);
    conn_close(&c);
    conn_open(&c, addr);
    greet(&c);
    conn_close(&c);
    assert_int_equal(server_stop(&srv), 0);
}

static void
test_migration_faults(void **unused)
{
    struct server srv;
    struct conn c;
    char addr[160];
    char path[128];
    json_t *r;
    json_t *ram;
    struct stat st;

    (void)unused;
    snprintf(path, sizeof(path), "%s/d.sock", dir);
    snprintf(addr, sizeof(addr), "unix:%s", path);
    server_start(&srv, "--qmp", addr, "--fault", "on=migrate stall-bandwidth",
                 "--fault",
                 "on=query-migrate:2 fail-migration:Connection reset by peer",
                 "--fault", "on=query-block-jobs die", NULL);
    conn_open(&c, addr);
    greet(&c);
    json_decref(conn_cmd(&c,
                         "{\"execute\": \"migrate\", \"arguments\": "
                         "{\"uri\": \"tcp:127.0.0.1:1\"}}",
                         NULL));
    usleep(300000);
    /* stalled from the start: active, nothing sent */
    r = conn_cmd(&c, "{\"execute\": \"query-migrate\"}", NULL);
    assert_string_equal(status_of(r), "active");
    ram = json_object_get(json_object_get(r, "return"), "ram");
    assert_int_equal(json_integer_value(json_object_get(ram, "transferred")),
                     0);
    assert_true(json_integer_value(json_object_get(json_object_get(r, "return"),
                                                   "total-time")) >= 250);
    json_decref(r);
    /* fail-migration acts after this reply */
    r = conn_cmd(&c, "{\"execute\": \"query-migrate\"}", NULL);
    assert_string_equal(status_of(r), "active");
    json_decref(r);
    r = conn_cmd(&c, "{\"execute\": \"query-migrate\"}", NULL);
    assert_string_equal(status_of(r), "failed");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "return"), "error-desc")),
                        "Connection reset by peer");
    json_decref(r);
    /* die: the connection drops, the process exits 1, the socket stays */
    conn_send(&c, "{\"execute\": \"query-block-jobs\"}");
    assert_null(conn_next(&c, 5));
    assert_true(c.eof);
    conn_close(&c);
    assert_int_equal(server_wait(&srv), 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(dial(addr), -1);
    unlink(path);
}

static void
test_timed_faults(void **unused)
{
    struct server srv;
    struct conn c;
    char addr[160];
    json_t *r;

    (void)unused;
    snprintf(addr, sizeof(addr), "unix:%s/e.sock", dir);
    server_start(&srv, "--qmp", addr, "--fault", "at=200ms hangup", "--fault",
                 "at=200ms error:DeviceNotActive:not now", NULL);
    /* nobody was connected at 200 ms: the next client gets the hangup */
    usleep(300000);
    conn_open(&c, addr);
    r = conn_next(&c, 5);
    assert_non_null(json_object_get(r, "QMP"));
    json_decref(r);
    assert_null(conn_next(&c, 5));
    assert_true(c.eof);
    conn_close(&c);
    /* and the error waited for the next command */
    conn_open(&c, addr);
    json_decref(conn_next(&c, 5));
    r = conn_cmd(&c, "{\"execute\": \"qmp_capabilities\"}", NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(r, "error"), "class")),
                        "DeviceNotActive");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "error"), "desc")),
        "not now");
    json_decref(r);
    /* once only */
    r = conn_cmd(&c, "{\"execute\": \"qmp_capabilities\"}", NULL);
    assert_non_null(json_object_get(r, "return"));
    json_decref(r);
    conn_close(&c);
    assert_int_equal(server_stop(&srv), 0);
}

static void
test_many_vms(void **unused)
{
    struct server srv;
    struct conn c;
    char qmpdir[128];
    char addr[160];
    json_t *r;
    size_t i;

    (void)unused;
    snprintf(qmpdir, sizeof(qmpdir), "%s", dir);
    server_start(&srv, "--count", "20", "--qmp-dir", qmpdir, "--vm",
                 "tcpvm:tcp:127.0.0.1:0", "--fault",
                 "vm=vm7 on=query-status error", NULL);
    assert_int_equal(srv.n, 21);
    assert_string_equal(srv.names[0], "tcpvm");
    assert_memory_equal(srv.addrs[0], "tcp:127.0.0.1:", 14);
    for (i = 0; i < srv.n; i++) {
        conn_open(&c, srv.addrs[i]);
        greet(&c);
        r = conn_cmd(&c, "{\"execute\": \"query-status\"}", NULL);
        if (strcmp(srv.names[i], "vm7") == 0) {
            assert_non_null(json_object_get(r, "error"));
        } else {
            assert_string_equal(status_of(r), "running");
        }
        json_decref(r);
        conn_close(&c);
    }
    snprintf(addr, sizeof(addr), "unix:%s/vm20.sock", qmpdir);
    assert_string_equal(srv.addrs[20], addr);
    /* quit ends one VM; the others keep serving */
    conn_open(&c, srv.addrs[1]);
    greet(&c);
    r = conn_cmd(&c, "{\"execute\": \"quit\"}", NULL);
    assert_non_null(json_object_get(r, "return"));
    json_decref(r);
    r = conn_next(&c, 5);
    assert_string_equal(json_string_value(json_object_get(r, "event")),
                        "SHUTDOWN");
    json_decref(r);
    conn_close(&c);
    conn_open(&c, srv.addrs[2]);
    greet(&c);
    conn_close(&c);
    assert_int_equal(server_stop(&srv), 0);
}

static int
setup(void **unused)
{
    (void)unused;
    snprintf(dir, sizeof(dir), "/tmp/test_fake_server.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

/* A failed assertion skips server_stop: the child goes here. */
static int
kill_live(void **unused)
{
    (void)unused;
    if (live_pid > 0) {
        kill(live_pid, SIGKILL);
        waitpid(live_pid, NULL, 0);
        live_pid = 0;
    }
    return 0;
}

static int
teardown(void **unused)
{
    char cmd[128];

    (void)unused;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_session, kill_live),
        cmocka_unit_test_teardown(test_one_client_at_a_time, kill_live),
        cmocka_unit_test_teardown(test_reply_faults, kill_live),
        cmocka_unit_test_teardown(test_migration_faults, kill_live),
        cmocka_unit_test_teardown(test_timed_faults, kill_live),
        cmocka_unit_test_teardown(test_many_vms, kill_live),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
