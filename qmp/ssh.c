/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/ssh: ssh:// monitor addresses, the ssh command line, ssh's words. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "qmp/internal.h"

#define SSH_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

bool
qmp_ssh_is_url(const char *text)
{
    return text != NULL && strncmp(text, QMP_SSH_SCHEME, 6) == 0;
}

static bool
has_control(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return true;
        }
    }
    return false;
}

/* user@ part of the authority: letters, digits, and . _ - only. */
static int
ssh_parse_user(const char *text, const char *user, size_t len,
               struct qmp_ssh_url *url, struct qmp_error *err)
{
    size_t i;

    if (len == 0 || len >= sizeof(url->user) || user[0] == '-') {
        goto bad;
    }
    for (i = 0; i < len; i++) {
        char ch = user[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-')) {
            goto bad;
        }
    }
    memcpy(url->user, user, len);
    url->user[len] = '\0';
    return 0;
bad:
    qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                  "monitor address '%s': the user '%.*s' is not a user name",
                  text, (int)len, user);
    return -1;
}

/* host[:port] or [v6]:port. */
static int
ssh_parse_host(const char *text, const char *host, size_t len,
               struct qmp_ssh_url *url, struct qmp_error *err)
{
    const char *port = NULL, *end = host + len;
    size_t hlen;

    if (len > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', len);

        if (close == NULL || (close + 1 < end && close[1] != ':')) {
            goto bad;
        }
        port = close + 1 < end ? close + 2 : NULL;
        host++;
        hlen = (size_t)(close - host);
    } else {
        const char *colon = memchr(host, ':', len);

        hlen = colon != NULL ? (size_t)(colon - host) : len;
        port = colon != NULL ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof(url->host) || host[0] == '-' ||
        memchr(host, '@', hlen) != NULL || memchr(host, ' ', hlen) != NULL) {
        goto bad;
    }
    memcpy(url->host, host, hlen);
    url->host[hlen] = '\0';
    url->port = 0;
    if (port != NULL) {
        long v = 0;
        const char *p;

        for (p = port; p < end; p++) {
            if (*p < '0' || *p > '9' || v > 65535) {
                v = -1;
                break;
            }
            v = v * 10 + (*p - '0');
        }
        if (p == port || v < 1 || v > 65535) {
            qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                          "monitor address '%s': port '%.*s' is not 1..65535",
                          text, (int)(end - port), port);
            return -1;
        }
        url->port = (int)v;
    }
    return 0;
bad:
    qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                  "monitor address '%s': bad host '%.*s'", text, (int)len,
                  host);
    return -1;
}

int
qmp_ssh_parse(const char *text, struct qmp_ssh_url *url, struct qmp_error *err)
{
    const char *auth, *slash, *at;
    size_t plen;

    memset(url, 0, sizeof(*url));
    if (!qmp_ssh_is_url(text)) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s' does not start with ssh://",
                      text ? text : "");
        return -1;
    }
    if (has_control(text, strlen(text))) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address has a control character");
        return -1;
    }
    auth = text + 6;
    slash = strchr(auth, '/');
    if (slash == NULL || slash[1] == '\0') {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s': expected "
                      "ssh://[USER@]HOST[:PORT]/PATH/TO/MONITOR",
                      text);
        return -1;
    }
    at = memchr(auth, '@', (size_t)(slash - auth));
    if (at != NULL) {
        if (ssh_parse_user(text, auth, (size_t)(at - auth), url, err) < 0) {
            return -1;
        }
        auth = at + 1;
    }
    if (ssh_parse_host(text, auth, (size_t)(slash - auth), url, err) < 0) {
        return -1;
    }
    /* ssh's -L splits on ':', and the far sshd connects to sun_path */
    plen = strlen(slash);
    if (strchr(slash, ':') != NULL) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s': the path has a ':', which ssh's "
                      "-L cannot carry",
                      text);
        return -1;
    }
    if (plen > SSH_PATH_MAX) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, ENAMETOOLONG,
                      "monitor address '%s': the path is longer than %zu "
                      "bytes",
                      text, SSH_PATH_MAX);
        return -1;
    }
    memcpy(url->path, slash, plen + 1);
    return 0;
}

int
qmp_ssh_option_check(const char *opt, struct qmp_error *err)
{
    size_t key = strspn(opt, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    if (key == 0 || (opt[key] != '=' && opt[key] != ' ') ||
        opt[key + 1] == '\0' || has_control(opt, strlen(opt))) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "ssh option '%.200s' is not KEY=VALUE (an ssh_config "
                      "option, such as IdentityFile=/path/key)",
                      opt);
        return -1;
    }
    return 0;
}

void
qmp_ssh_argv_free(char **argv)
{
    size_t i;

    if (argv == NULL) {
        return;
    }
    for (i = 0; argv[i] != NULL; i++) {
        free(argv[i]);
    }
    free(argv);
}

static int argv_push(char **argv, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
argv_push(char **argv, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vasprintf(&argv[*n], fmt, ap);
    va_end(ap);
    if (rc < 0) {
        argv[*n] = NULL;
        return -1;
    }
    (*n)++;
    return 0;
}

/*
 * ssh -o BatchMode=yes -o ExitOnForwardFailure=yes -o ControlMaster=no
 *     -o ControlPath=none [-o OPT ...] -o ConnectTimeout=N -a -x -T -N
 *     [-p PORT] [-l USER] -L LOCAL:REMOTE -- HOST
 * ssh takes the first value it is given for an option: ours that keep
 * it non-interactive and in the foreground come first, the operator's
 * next, then defaults the operator may override.
 */
char **
qmp_ssh_argv(const struct qmp_ssh_url *url, const char *local_socket,
             const char *const *options, size_t n_options,
             double connect_timeout, struct qmp_error *err)
{
    static const char *const fixed[] = {
        "BatchMode=yes",
        "ExitOnForwardFailure=yes",
        "ControlMaster=no",
        "ControlPath=none",
    };
    size_t max = 1 + 2 * (sizeof(fixed) / sizeof(fixed[0])) + 2 * n_options +
                 2 + 4 + 2 + 2 + 2 + 2 + 1;
    char **argv = calloc(max, sizeof(*argv));
    size_t n = 0, i;
    long timeout = (long)(connect_timeout + 0.999);

    if (argv == NULL) {
        goto nomem;
    }
    if (strchr(local_socket, ':') != NULL) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "the local socket path '%s' has a ':' (set TMPDIR to a "
                      "directory without one)",
                      local_socket);
        goto fail;
    }
    if (argv_push(argv, &n, "ssh") < 0) {
        goto nomem;
    }
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (argv_push(argv, &n, "-o") < 0 ||
            argv_push(argv, &n, "%s", fixed[i]) < 0) {
            goto nomem;
        }
    }
    for (i = 0; i < n_options; i++) {
        if (qmp_ssh_option_check(options[i], err) < 0) {
            goto fail;
        }
        if (argv_push(argv, &n, "-o") < 0 ||
            argv_push(argv, &n, "%s", options[i]) < 0) {
            goto nomem;
        }
    }
    if (timeout < 1) {
        timeout = 1;
    }
    if (argv_push(argv, &n, "-o") < 0 ||
        argv_push(argv, &n, "ConnectTimeout=%ld", timeout) < 0 ||
        argv_push(argv, &n, "-a") < 0 || argv_push(argv, &n, "-x") < 0 ||
        argv_push(argv, &n, "-T") < 0 || argv_push(argv, &n, "-N") < 0) {
        goto nomem;
    }
    if (url->port > 0 && (argv_push(argv, &n, "-p") < 0 ||
                          argv_push(argv, &n, "%d", url->port) < 0)) {
        goto nomem;
    }
    if (url->user[0] != '\0' && (argv_push(argv, &n, "-l") < 0 ||
                                 argv_push(argv, &n, "%s", url->user) < 0)) {
        goto nomem;
    }
    if (argv_push(argv, &n, "-L") < 0 ||
        argv_push(argv, &n, "%s:%s", local_socket, url->path) < 0 ||
        argv_push(argv, &n, "--") < 0 ||
        argv_push(argv, &n, "%s", url->host) < 0) {
        goto nomem;
    }
    return argv;
nomem:
    qmp_error_set(err, QMP_ERROR_NOMEM, ENOMEM,
                  "out of memory building the ssh command line");
fail:
    qmp_ssh_argv_free(argv);
    return NULL;
}

/*
 * ssh's own words, most telling first.  OpenSSH prints these on stderr,
 * in this form, since long before 7.0 (and still in 9.x).
 */
static const struct {
    const char *said;
    const char *cause;
} ssh_causes[] = {
    {"has changed and you have requested strict checking", "host key changed"},
    {"REMOTE HOST IDENTIFICATION HAS CHANGED", "host key changed"},
    {"host key is known for", "host key unknown"},
    {"Host key verification failed", "host key unknown"},
    {"Permission denied", "authentication refused"},
    {"open failed", "no such socket"},
    {"Connection refused", "connection refused"},
    {"Could not resolve hostname", "unknown host"},
    {"No route to host", "no route to host"},
    {"timed out", "connection timed out"},
    {"Connection closed by", "connection closed by the remote host"},
    {"Connection reset", "connection reset"},
};

/* The line of said around at (or the last line, at NULL), into buf. */
static void
ssh_line(const char *said, const char *at, char *buf, size_t size)
{
    const char *start, *end;

    if (at == NULL) {
        at = said + strlen(said);
        while (at > said && (at[-1] == '\n' || at[-1] == '\r')) {
            at--;
        }
        if (at > said) {
            at--;
        }
    }
    start = at;
    while (start > said && start[-1] != '\n') {
        start--;
    }
    end = at;
    while (*end != '\0' && *end != '\n' && *end != '\r') {
        end++;
    }
    snprintf(buf, size, "%.*s", (int)(end - start), start);
}

const char *
qmp_ssh_explain(const char *said, char *line, size_t size)
{
    const char *at;
    size_t i;

    if (size > 0) {
        line[0] = '\0';
    }
    if (said == NULL || said[0] == '\0' || size == 0) {
        return NULL;
    }
    for (i = 0; i < sizeof(ssh_causes) / sizeof(ssh_causes[0]); i++) {
        at = strstr(said, ssh_causes[i].said);
        if (at != NULL) {
            ssh_line(said, at, line, size);
            return ssh_causes[i].cause;
        }
    }
    ssh_line(said, NULL, line, size);
    return NULL;
}
