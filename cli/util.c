/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/util: parsing numbers, flags, URIs and files, with messages that name the
 * option. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/util.h"

int
util_parse_u64(const char *name, const char *text, uint64_t min, uint64_t max,
               uint64_t *out, char *err, size_t errlen)
{
    unsigned long long v;
    char *end;

    errno = 0;
    if (text == NULL || text[0] == '\0' || text[0] == '-') {
        goto bad;
    }
    v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        goto bad;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "--%s: %s is out of range %llu..%llu", name, text,
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    snprintf(err, errlen, "--%s: '%s' is not a whole number", name,
             text ? text : "");
    return -1;
}

int
util_parse_double(const char *name, const char *text, double min, double max,
                  double *out, char *err, size_t errlen)
{
    double v;
    char *end;

    errno = 0;
    if (text == NULL || text[0] == '\0') {
        goto bad;
    }
    v = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v)) {
        goto bad;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "--%s: %s is out of range %g..%g", name, text,
                 min, max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    snprintf(err, errlen, "--%s: '%s' is not a number", name, text ? text : "");
    return -1;
}

int
util_parse_bool(const char *name, const char *text, bool *out, char *err,
                size_t errlen)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(err, errlen, "--%s: '%s' is not true or false", name, text);
    return -1;
}

static int
uri_check_host_port(const char *uri, const char *rest, char *err, size_t errlen)
{
    const char *colon = strrchr(rest, ':');
    const char *p;

    if (colon == NULL || colon == rest || colon[1] == '\0') {
        snprintf(err, errlen, "--to: '%s' needs HOST:PORT", uri);
        return -1;
    }
    for (p = colon + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "--to: '%s': port '%s' is not a number", uri,
                     colon + 1);
            return -1;
        }
    }
    if (atol(colon + 1) < 1 || atol(colon + 1) > 65535) {
        snprintf(err, errlen, "--to: '%s': port %s is not 1..65535", uri,
                 colon + 1);
        return -1;
    }
    return 0;
}

int
util_check_uri(const char *uri, char *err, size_t errlen)
{
    const char *p;

    for (p = uri; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "--to: the URI has a control character");
            return -1;
        }
    }
    if (strncmp(uri, "tcp:", 4) == 0) {
        return uri_check_host_port(uri, uri + 4, err, errlen);
    }
    if (strncmp(uri, "rdma:", 5) == 0) {
        return uri_check_host_port(uri, uri + 5, err, errlen);
    }
    if (strncmp(uri, "unix:", 5) == 0 || strncmp(uri, "file:", 5) == 0) {
        if (uri[5] == '\0') {
            snprintf(err, errlen, "--to: '%s' has an empty path", uri);
            return -1;
        }
        return 0;
    }
    if (strncmp(uri, "exec:", 5) == 0) {
        snprintf(err, errlen,
                 "--to: exec: URIs are refused (QEMU would run a shell); "
                 "use tcp:HOST:PORT or unix:PATH");
        return -1;
    }
    snprintf(err, errlen,
             "--to: '%s' is not tcp:HOST:PORT, unix:PATH, rdma:HOST:PORT "
             "or file:PATH",
             uri);
    return -1;
}

const char *
util_uri_host(const char *uri, char *buf, size_t size)
{
    const char *host = NULL, *end;

    if (strncmp(uri, "tcp:", 4) == 0) {
        host = uri + 4;
    } else if (strncmp(uri, "rdma:", 5) == 0) {
        host = uri + 5;
    }
    if (host == NULL) {
        snprintf(buf, size, "local");
        return buf;
    }
    end = strrchr(host, ':');
    if (end == NULL) {
        end = host + strlen(host);
    }
    if (host[0] == '[' && end > host + 1 && end[-1] == ']') {
        host++;
        end--;
    }
    snprintf(buf, size, "%.*s", (int)(end - host), host);
    return buf;
}

bool
util_monitor_exposed(const char *address)
{
    const char *host;

    if (strncmp(address, "tcp:", 4) != 0) {
        return false; /* a UNIX socket, or ssh:// */
    }
    host = address + 4;
    return !(strncmp(host, "127.", 4) == 0 ||
             strncmp(host, "localhost:", 10) == 0 ||
             strncmp(host, "[::1]:", 6) == 0);
}

void
util_warn_exposed_monitor(const char *what, const char *address)
{
    if (!util_monitor_exposed(address)) {
        return;
    }
    fprintf(stderr,
            "qmigrate: warning: %s%smonitor %s is QMP over plain TCP: anyone "
            "who reaches that port controls the guest (and QEMU, and the "
            "files it may open). Reach it with "
            "ssh://HOST/PATH/TO/MONITOR.qmp, or keep it a UNIX socket\n",
            what, what[0] ? ": " : "", address);
}

char *
util_read_file(const char *path, size_t max, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        goto fail;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            snprintf(err, errlen, "cannot read '%s': %s", path,
                     strerror(errno));
            goto fail;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len > max) {
            snprintf(err, errlen, "'%s' is larger than %zu bytes", path, max);
            goto fail;
        }
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "'%s' is not a text file: it has a NUL byte",
                 path);
        goto fail;
    }
    close(fd);
    return buf;
fail:
    free(buf);
    close(fd);
    return NULL;
}

const char *
util_format_bytes(uint64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;

    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0) {
        snprintf(buf, size, "%llu B", (unsigned long long)bytes);
    } else {
        snprintf(buf, size, "%.1f %s", v, units[u]);
    }
    return buf;
}
