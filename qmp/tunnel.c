/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/tunnel: an ssh process forwarding a far monitor to a local socket. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmp/internal.h"

#define TUNNEL_POLL_S 0.02   /* how often to look for the socket */
#define TUNNEL_SAID_MAX 4096 /* what ssh said, the latest kept */
#define TUNNEL_TERM_WAIT_MS 1000

/*
 * Lifetimes: the tunnel calls ready or failed at most once, as the last
 * thing it does in a callback, so the owner may stop it from there.
 * qmp_tunnel_stop() ends ssh (SIGTERM, then SIGKILL if it lingers),
 * reaps it and removes the socket and its private directory.  If
 * qmigrate itself dies, PR_SET_PDEATHSIG ends ssh (the directory stays).
 */
struct qmp_tunnel {
    struct ev_loop *loop;
    char address[512];
    char host[256];
    char dir[PATH_MAX];
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    pid_t pid;
    bool exited; /* reaped, by us or by libev's SIGCHLD handler */
    int status;  /* when we reaped it; -1 otherwise */
    int err_fd;  /* ssh's stderr */
    ev_io err_watcher;
    ev_timer poll_timer;
    ev_timer deadline;
    double timeout;
    bool done; /* ready or failed was called */
    qmp_tunnel_ready_fn *ready;
    qmp_tunnel_failed_fn *failed;
    void *opaque;
    char said[TUNNEL_SAID_MAX];
    size_t said_len;
};

static void
tunnel_keep_said(struct qmp_tunnel *t, const char *buf, size_t n)
{
    if (n >= sizeof(t->said)) {
        buf += n - (sizeof(t->said) - 1);
        n = sizeof(t->said) - 1;
    }
    if (t->said_len + n >= sizeof(t->said)) {
        size_t drop = t->said_len + n - (sizeof(t->said) - 1);

        memmove(t->said, t->said + drop, t->said_len - drop);
        t->said_len -= drop;
    }
    memcpy(t->said + t->said_len, buf, n);
    t->said_len += n;
    t->said[t->said_len] = '\0';
}

/* Reads what ssh wrote; returns false once its stderr has closed. */
static bool
tunnel_drain(struct qmp_tunnel *t)
{
    char buf[1024];

    while (t->err_fd >= 0) {
        ssize_t n = read(t->err_fd, buf, sizeof(buf));

        if (n > 0) {
            tunnel_keep_said(t, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        ev_io_stop(t->loop, &t->err_watcher);
        close(t->err_fd);
        t->err_fd = -1;
    }
    return false;
}

/* Has ssh exited?  Reaps it if so (libev may have reaped it already). */
static bool
tunnel_reap(struct qmp_tunnel *t)
{
    int status;
    pid_t r;

    if (t->exited) {
        return true;
    }
    do {
        r = waitpid(t->pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == t->pid) {
        t->status = status;
        t->exited = true;
    } else if (r < 0) {
        t->exited = true; /* ECHILD: someone reaped it for us */
    }
    return t->exited;
}

static void
tunnel_stop_watchers(struct qmp_tunnel *t)
{
    ev_timer_stop(t->loop, &t->poll_timer);
    ev_timer_stop(t->loop, &t->deadline);
}

/* Reports the failure in ssh's words; the owner may free t in failed(). */
static void
tunnel_fail(struct qmp_tunnel *t, int errnum, const char *what)
{
    struct qmp_error err;
    char line[300], status[64] = "";
    const char *cause;

    tunnel_stop_watchers(t);
    tunnel_drain(t);
    cause = qmp_ssh_explain(t->said, line, sizeof(line));
    if (t->exited && t->status >= 0 && WIFEXITED(t->status)) {
        snprintf(status, sizeof(status), " (exit status %d)",
                 WEXITSTATUS(t->status));
    }
    if (cause != NULL) {
        qmp_error_set(&err, QMP_ERROR_CONNECT, errnum,
                      "cannot reach monitor %s: %s (ssh said: %s)", t->address,
                      cause, line);
    } else if (line[0] != '\0') {
        qmp_error_set(&err, QMP_ERROR_CONNECT, errnum,
                      "cannot reach monitor %s: %s%s (ssh said: %s)",
                      t->address, what, status, line);
    } else {
        qmp_error_set(&err, QMP_ERROR_CONNECT, errnum,
                      "cannot reach monitor %s: %s%s, without a word",
                      t->address, what, status);
    }
    t->done = true;
    t->failed(&err, t->opaque);
}

static void
tunnel_err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct qmp_tunnel *t = w->data;

    (void)loop;
    (void)revents;
    if (tunnel_drain(t) || t->done) {
        return;
    }
    /* stderr closed: ssh is gone, or going */
    tunnel_reap(t);
    tunnel_fail(t, ECONNREFUSED, "ssh exited");
}

/* Is the forward there?  Connects through it once ssh has bound it. */
static void
tunnel_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct qmp_tunnel *t = w->data;
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    (void)loop;
    (void)revents;
    if (tunnel_reap(t)) {
        tunnel_fail(t, ECONNREFUSED, "ssh exited");
        return;
    }
    if (stat(t->socket, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        return;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        tunnel_fail(t, errno, "cannot create a socket");
        return;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, t->socket, strlen(t->socket) + 1);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        close(fd);
        /* bound but not yet listening: the next tick */
        if (errno != ECONNREFUSED && errno != EAGAIN && errno != ENOENT) {
            tunnel_fail(t, errno, strerror(errno));
        }
        return;
    }
    tunnel_stop_watchers(t);
    t->done = true;
    t->said_len = 0; /* from now on, only what concerns the connection */
    t->said[0] = '\0';
    t->ready(fd, t->opaque);
}

static void
tunnel_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct qmp_tunnel *t = w->data;
    char what[128];

    (void)loop;
    (void)revents;
    snprintf(what, sizeof(what), "ssh set up no tunnel within %.1f s",
             t->timeout);
    tunnel_fail(t, ETIMEDOUT, what);
}

/* In the child: a clean slate for ssh, then exec; never returns. */
static void __attribute__((noreturn))
tunnel_exec(char **argv, int err_fd, pid_t parent)
{
    static const int sigs[] = {SIGPIPE, SIGINT,  SIGTERM,
                               SIGHUP,  SIGCHLD, SIGQUIT};
    sigset_t none;
    size_t i;
    int null_fd;

    /* its own session: a ^C on the terminal is for qmigrate, which then
     * still needs the tunnel to cancel the migration */
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(127); /* qmigrate died before prctl */
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], SIG_DFL);
    }
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 ||
        dup2(err_fd, 2) < 0) {
        _exit(127);
    }
    closefrom(3);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int
tunnel_make_dir(struct qmp_tunnel *t, struct qmp_error *err)
{
    const char *tmp = getenv("TMPDIR");

    if (tmp == NULL || tmp[0] != '/') {
        tmp = "/tmp";
    }
    if (snprintf(t->dir, sizeof(t->dir), "%s/qmigrate-ssh.XXXXXX", tmp) >=
            (int)sizeof(t->dir) ||
        snprintf(t->socket, sizeof(t->socket), "%s/monitor.sock", t->dir) >=
            (int)sizeof(t->socket)) {
        qmp_error_set(err, QMP_ERROR_CONNECT, ENAMETOOLONG,
                      "TMPDIR '%s' is too long for a socket path under it "
                      "(the ssh tunnel to %s)",
                      tmp, t->address);
        t->dir[0] = '\0';
        return -1;
    }
    if (mkdtemp(t->dir) == NULL) {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot make a private directory for the ssh tunnel "
                      "to %s under %s: %s",
                      t->address, tmp, strerror(errno));
        t->dir[0] = '\0';
        return -1;
    }
    /* mkdtemp made it 0700; its name has the template's length, which
     * fitted above */
    memcpy(t->socket, t->dir, strlen(t->dir));
    return 0;
}

struct qmp_tunnel *
qmp_tunnel_start(struct ev_loop *loop, const char *address,
                 const char *const *options, size_t n_options, double timeout,
                 qmp_tunnel_ready_fn *ready, qmp_tunnel_failed_fn *failed,
                 void *opaque, struct qmp_error *err)
{
    struct qmp_tunnel *t = calloc(1, sizeof(*t));
    struct qmp_ssh_url url;
    char **argv = NULL;
    int pipefd[2] = {-1, -1};
    pid_t parent = getpid();

    if (t == NULL) {
        qmp_error_set(err, QMP_ERROR_NOMEM, ENOMEM,
                      "out of memory starting ssh for %s", address);
        return NULL;
    }
    t->loop = loop;
    t->pid = -1;
    t->err_fd = -1;
    t->status = -1;
    t->timeout = timeout;
    t->ready = ready;
    t->failed = failed;
    t->opaque = opaque;
    snprintf(t->address, sizeof(t->address), "%s", address);
    if (qmp_ssh_parse(address, &url, err) < 0) {
        goto fail;
    }
    snprintf(t->host, sizeof(t->host), "%s", url.host);
    if (tunnel_make_dir(t, err) < 0) {
        goto fail;
    }
    argv = qmp_ssh_argv(&url, t->socket, options, n_options, timeout / 2, err);
    if (argv == NULL) {
        goto fail;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot make a pipe for ssh (%s): %s", address,
                      strerror(errno));
        goto fail;
    }
    t->pid = fork();
    if (t->pid < 0) {
        qmp_error_set(err, QMP_ERROR_CONNECT, errno,
                      "cannot start ssh for %s: %s", address, strerror(errno));
        goto fail;
    }
    if (t->pid == 0) {
        tunnel_exec(argv, pipefd[1], parent);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    qmp_ssh_argv_free(argv);
    argv = NULL;
    t->err_fd = pipefd[0];
    fcntl(t->err_fd, F_SETFL, fcntl(t->err_fd, F_GETFL) | O_NONBLOCK);
    ev_io_init(&t->err_watcher, tunnel_err_cb, t->err_fd, EV_READ);
    t->err_watcher.data = t;
    ev_io_start(loop, &t->err_watcher);
    ev_timer_init(&t->poll_timer, tunnel_poll_cb, TUNNEL_POLL_S, TUNNEL_POLL_S);
    t->poll_timer.data = t;
    ev_timer_start(loop, &t->poll_timer);
    ev_timer_init(&t->deadline, tunnel_deadline_cb, timeout, 0.0);
    t->deadline.data = t;
    ev_timer_start(loop, &t->deadline);
    return t;

fail:
    if (pipefd[0] >= 0) {
        close(pipefd[0]);
    }
    if (pipefd[1] >= 0) {
        close(pipefd[1]);
    }
    qmp_ssh_argv_free(argv);
    qmp_tunnel_stop(t);
    return NULL;
}

const char *
qmp_tunnel_explain(struct qmp_tunnel *t, char *line, size_t size)
{
    tunnel_drain(t);
    return qmp_ssh_explain(t->said, line, size);
}

const char *
qmp_tunnel_socket(const struct qmp_tunnel *t)
{
    return t->socket;
}

pid_t
qmp_tunnel_pid(const struct qmp_tunnel *t)
{
    return t->pid;
}

/* SIGTERM, a bounded wait, then SIGKILL: ssh must not outlive its use. */
static void
tunnel_kill(struct qmp_tunnel *t)
{
    struct timespec step = {0, 5000000L}; /* 5 ms */
    int waited = 0;

    if (t->pid <= 0 || tunnel_reap(t)) {
        return;
    }
    kill(t->pid, SIGTERM);
    while (!tunnel_reap(t)) {
        if (waited >= TUNNEL_TERM_WAIT_MS) {
            kill(t->pid, SIGKILL);
            while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR) {
            }
            t->exited = true;
            break;
        }
        nanosleep(&step, NULL);
        waited += 5;
    }
}

void
qmp_tunnel_stop(struct qmp_tunnel *t)
{
    if (t == NULL) {
        return;
    }
    tunnel_stop_watchers(t);
    if (t->err_fd >= 0) {
        ev_io_stop(t->loop, &t->err_watcher);
        close(t->err_fd);
        t->err_fd = -1;
    }
    tunnel_kill(t);
    if (t->dir[0] != '\0') {
        unlink(t->socket);
        rmdir(t->dir);
    }
    free(t);
}
