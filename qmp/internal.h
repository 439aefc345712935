/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp: what the client's files share and nobody else sees. */
#ifndef QMIGRATE_QMP_INTERNAL_H
#define QMIGRATE_QMP_INTERNAL_H

#include <sys/socket.h>
#include <sys/types.h>

#include "qmp/qmp.h"

/* address.c */
struct qmp_address {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int family; /* AF_UNIX, AF_INET or AF_INET6 */
};

/*
 * Parses "unix:PATH", "PATH" or "tcp:HOST:PORT" into a socket address.
 * HOST is numeric, [IPv6], or a name resolved here (which may block on
 * DNS; use numbers where that matters).
 */
int qmp_address_parse(const char *text, struct qmp_address *out,
                      struct qmp_error *err);

/* ssh.c */
#define QMP_SSH_SCHEME "ssh://"

/* ssh://[USER@]HOST[:PORT]/PATH, taken apart. */
struct qmp_ssh_url {
    char user[64];  /* "" when absent: ssh's default */
    char host[256]; /* a name or address, without [] */
    int port;       /* 0 when absent: ssh's default */
    char path[108]; /* the monitor's socket on HOST, absolute */
};

bool qmp_ssh_is_url(const char *text);
/* Fills url, or -1 with QMP_ERROR_ADDRESS naming what is wrong. */
int qmp_ssh_parse(const char *text, struct qmp_ssh_url *url,
                  struct qmp_error *err);
/*
 * The ssh command line that forwards url's socket to local_socket, as a
 * NULL-terminated array for execvp (no shell).  Owned by the caller:
 * qmp_ssh_argv_free().  NULL with err (a bad option, out of memory).
 */
char **qmp_ssh_argv(const struct qmp_ssh_url *url, const char *local_socket,
                    const char *const *options, size_t n_options,
                    double connect_timeout, struct qmp_error *err);
void qmp_ssh_argv_free(char **argv);
/*
 * What went wrong, in a few words ("host key unknown", "host key
 * changed", "authentication refused", "no such socket", "connection
 * refused", ...), from what ssh wrote on stderr; NULL when none fits.
 * line gets the line that says it (or the last one), for the operator.
 */
const char *qmp_ssh_explain(const char *said, char *line, size_t size);

/* tunnel.c */
struct qmp_tunnel;

/* fd is connected to the far monitor through ssh, and is the owner's. */
typedef void qmp_tunnel_ready_fn(int fd, void *opaque);
typedef void qmp_tunnel_failed_fn(const struct qmp_error *err, void *opaque);

/*
 * Starts ssh (fork and execvp, no shell) forwarding the monitor of an
 * ssh:// address to a socket in a private 0700 directory, then calls
 * ready once it can connect through it, or failed (QMP_ERROR_CONNECT, in
 * ssh's words) when ssh exits or timeout seconds pass.  Either is the
 * last thing the tunnel does in that callback: the owner may stop it
 * there.  NULL with err when it could not start at all.
 */
struct qmp_tunnel *qmp_tunnel_start(struct ev_loop *loop, const char *address,
                                    const char *const *options,
                                    size_t n_options, double timeout,
                                    qmp_tunnel_ready_fn *ready,
                                    qmp_tunnel_failed_fn *failed, void *opaque,
                                    struct qmp_error *err);
/* What ssh said since ready, explained as by qmp_ssh_explain(). */
const char *qmp_tunnel_explain(struct qmp_tunnel *t, char *line, size_t size);
const char *qmp_tunnel_socket(const struct qmp_tunnel *t);
pid_t qmp_tunnel_pid(const struct qmp_tunnel *t);
/* Ends ssh, reaps it, removes the socket and directory; frees t. */
void qmp_tunnel_stop(struct qmp_tunnel *t);

#endif /* QMIGRATE_QMP_INTERNAL_H */
