/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: listening sockets, UNIX or TCP on loopback only. */
#include "tests/fake-qemu/fake.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
fail_errno(struct fq_error *err, const char *what, const char *addr, int fd)
{
    fq_error_set(err, "GenericError", "%s %s: %s", what, addr, strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

static int
listen_unix(const char *path, char *actual, size_t actual_len,
            struct fq_error *err)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    if (strlen(path) == 0 || strlen(path) >= sizeof(sun.sun_path)) {
        fq_error_set(err, "GenericError",
                     "socket path '%s' is empty or "
                     "longer than %zu bytes",
                     path, sizeof(sun.sun_path) - 1);
        return -1;
    }
    /* QEMU replaces a stale socket; it never removes other files */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            fq_error_set(err, "GenericError",
                         "%s exists and is not a "
                         "socket",
                         path);
            return -1;
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail_errno(err, "socket for", path, -1);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        return fail_errno(err, "cannot bind", path, fd);
    }
    if (listen(fd, 16) < 0) {
        return fail_errno(err, "cannot listen on", path, fd);
    }
    snprintf(actual, actual_len, "unix:%s", path);
    return fd;
}

static bool
loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

static int
listen_tcp(const char *hostport, char *actual, size_t actual_len,
           struct fq_error *err)
{
    struct addrinfo hints = {0};
    struct addrinfo *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char host[FQ_ADDR_MAX];
    char numeric[INET6_ADDRSTRLEN];
    const char *colon = strrchr(hostport, ':');
    const char *port;
    int one = 1;
    int fd = -1;
    int rc;

    if (colon == NULL || colon == hostport || colon[1] == '\0') {
        fq_error_set(err, "GenericError", "'tcp:%s' is not tcp:HOST:PORT",
                     hostport);
        return -1;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    port = colon + 1;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fq_error_set(err, "GenericError", "tcp:%s: %s", hostport,
                     gai_strerror(rc));
        return -1;
    }
    if (!loopback(res->ai_addr)) {
        fq_error_set(err, "GenericError",
                     "tcp:%s: fake-qemu listens on "
                     "loopback addresses only",
                     hostport);
        goto fail;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0) {
        fail_errno(err, "socket for", hostport, -1);
        goto fail;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 16) < 0) {
        fail_errno(err, "cannot listen on", hostport, fd);
        fd = -1;
        goto fail;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
        fail_errno(err, "getsockname on", hostport, fd);
        fd = -1;
        goto fail;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, numeric, sizeof(numeric));
        snprintf(actual, actual_len, "tcp:[%s]:%u", numeric,
                 ntohs(in6->sin6_port));
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &in->sin_addr, numeric, sizeof(numeric));
        snprintf(actual, actual_len, "tcp:%s:%u", numeric, ntohs(in->sin_port));
    }
    freeaddrinfo(res);
    return fd;
fail:
    freeaddrinfo(res);
    return -1;
}

int
fq_listen(const char *addr, char *actual, size_t actual_len,
          struct fq_error *err)
{
    if (strncmp(addr, "unix:", 5) == 0) {
        return listen_unix(addr + 5, actual, actual_len, err);
    }
    if (strncmp(addr, "tcp:", 4) == 0) {
        return listen_tcp(addr + 4, actual, actual_len, err);
    }
    if (strchr(addr, ':') == NULL) {
        return listen_unix(addr, actual, actual_len, err);
    }
    fq_error_set(err, "GenericError",
                 "'%s' is not unix:PATH, tcp:HOST:PORT "
                 "or a path",
                 addr);
    return -1;
}
