/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp: what the client's files share and nobody else sees. */
#ifndef QMIGRATE_QMP_INTERNAL_H
#define QMIGRATE_QMP_INTERNAL_H

#include <sys/socket.h>

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

#endif /* QMIGRATE_QMP_INTERNAL_H */
