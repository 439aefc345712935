/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/util: parsing numbers, flags, URIs and files, with messages that name the
 * option. */
#ifndef QMIGRATE_CLI_UTIL_H
#define QMIGRATE_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0, or -1 with "--NAME: ..." in err. */
int util_parse_u64(const char *name, const char *text, uint64_t min,
                   uint64_t max, uint64_t *out, char *err, size_t errlen);
int util_parse_double(const char *name, const char *text, double min,
                      double max, double *out, char *err, size_t errlen);
/* true/false, yes/no, on/off, 1/0. */
int util_parse_bool(const char *name, const char *text, bool *out, char *err,
                    size_t errlen);
/*
 * A migration URI qmigrate hands to QEMU: tcp:HOST:PORT, unix:PATH,
 * rdma:HOST:PORT or file:PATH.  exec: is refused (it runs a shell).
 */
int util_check_uri(const char *uri, char *err, size_t errlen);
/*
 * Is this monitor address plain QMP over TCP to somewhere other than
 * loopback (127.0.0.0/8, ::1, localhost)?  Names are not resolved: any
 * other name counts as exposed.
 */
bool util_monitor_exposed(const char *address);
/* Says so on stderr, loudly, when it is; what names the VM ("" for none). */
void util_warn_exposed_monitor(const char *what, const char *address);
/*
 * The destination host a migration URI names, as written: HOST of
 * tcp:HOST:PORT or rdma:HOST:PORT (without []), "local" for unix: and
 * file: (this machine).  Into buf; no name is resolved.
 */
const char *util_uri_host(const char *uri, char *buf, size_t size);
/* The whole file, NUL-terminated, at most max bytes; NULL with err. */
char *util_read_file(const char *path, size_t max, char *err, size_t errlen);
/* "12.3 MiB" into buf. */
const char *util_format_bytes(uint64_t bytes, char *buf, size_t size);

#endif /* QMIGRATE_CLI_UTIL_H */
