/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qmp/address: monitor addresses ("unix:PATH", "PATH", "tcp:HOST:PORT",
 * "ssh://..."). */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "qmp/internal.h"

static int
address_parse_unix(const char *path, struct qmp_address *out,
                   struct qmp_error *err)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;
    size_t len = strlen(path);

    if (len == 0) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address has an empty socket path");
        return -1;
    }
    if (len >= sizeof(sun->sun_path)) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, ENAMETOOLONG,
                      "monitor socket path '%s' is longer than %zu bytes", path,
                      sizeof(sun->sun_path) - 1);
        return -1;
    }
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len + 1);
    out->addr_len =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    out->family = AF_UNIX;
    return 0;
}

/* resolve false: the form only, out untouched. */
static int
address_parse_tcp(const char *spec, const char *text, struct qmp_address *out,
                  bool resolve, struct qmp_error *err)
{
    char host[256];
    const char *colon, *port;
    const char *h = spec;
    size_t hlen;
    char *end;
    long portnum;
    struct addrinfo hints, *res = NULL;
    int rc;

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (close == NULL || close[1] != ':') {
            qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                          "monitor address '%s': expected tcp:[IPV6]:PORT",
                          text);
            return -1;
        }
        h = spec + 1;
        hlen = (size_t)(close - h);
        port = close + 2;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL) {
            qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                          "monitor address '%s': expected tcp:HOST:PORT", text);
            return -1;
        }
        hlen = (size_t)(colon - spec);
        port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host)) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s': bad host", text);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    errno = 0;
    portnum = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || errno != 0 || portnum < 1 ||
        portnum > 65535) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s': port '%s' is not 1..65535", text,
                      port);
        return -1;
    }
    if (!resolve) {
        return 0;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || res == NULL) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s': cannot resolve '%s': %s", text,
                      host, gai_strerror(rc));
        if (res != NULL) {
            freeaddrinfo(res);
        }
        return -1;
    }
    memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
    out->addr_len = res->ai_addrlen;
    out->family = res->ai_family;
    freeaddrinfo(res);
    return 0;
}

int
qmp_address_parse(const char *text, struct qmp_address *out,
                  struct qmp_error *err)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || text[0] == '\0') {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0, "monitor address is empty");
        return -1;
    }
    if (strncmp(text, "unix:", 5) == 0) {
        return address_parse_unix(text + 5, out, err);
    }
    if (strncmp(text, "tcp:", 4) == 0) {
        return address_parse_tcp(text + 4, text, out, true, err);
    }
    if (qmp_ssh_is_url(text)) {
        qmp_error_set(err, QMP_ERROR_ADDRESS, 0,
                      "monitor address '%s' is reached through ssh, not "
                      "a socket of this host",
                      text);
        return -1;
    }
    return address_parse_unix(text, out, err);
}

int
qmp_address_check(const char *text, struct qmp_error *err)
{
    struct qmp_address addr;
    struct qmp_ssh_url url;

    if (text != NULL && strncmp(text, "tcp:", 4) == 0) {
        return address_parse_tcp(text + 4, text, &addr, false, err);
    }
    if (qmp_ssh_is_url(text)) {
        return qmp_ssh_parse(text, &url, err);
    }
    return qmp_address_parse(text, &addr, err);
}
