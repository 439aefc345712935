/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: what QEMU 9.0 to 10.0 answer unlike 7.2, beyond the tables. */
#include "tests/fake-qemu/fake.h"

#include <stdio.h>
#include <string.h>

/*
 * The member `name` of `o` (at `path`, like QEMU's "channels[0].addr"),
 * which must be a string; NULL with QEMU's visitor message otherwise.
 */
static const char *
member_str(const json_t *o, const char *path, const char *name,
           struct fq_error *err)
{
    const json_t *v = json_object_get(o, name);

    if (v == NULL) {
        fq_error_set(err, "GenericError", "Parameter '%s.%s' is missing", path,
                     name);
        return NULL;
    }
    if (!json_is_string(v)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for '%s.%s', expected: string",
                     path, name);
        return NULL;
    }
    return json_string_value(v);
}

/* One enum member: its value must be one of `values` (space separated). */
static const char *
member_enum(const json_t *o, const char *path, const char *name,
            const char *const *values, struct fq_error *err)
{
    const char *s = member_str(o, path, name, err);
    size_t i;

    if (s == NULL) {
        return NULL;
    }
    for (i = 0; values[i] != NULL; i++) {
        if (strcmp(s, values[i]) == 0) {
            return s;
        }
    }
    /* QEMU names an enum member without its path here */
    fq_error_set(err, "GenericError",
                 "Parameter '%s' does not accept value '%s'", name, s);
    return NULL;
}

/*
 * MigrationAddress: transport socket (inet, unix, vsock, fd), exec, rdma
 * or file, with the members each needs.
 */
static int
address_check(const json_t *addr, const char *path, struct fq_error *err)
{
    static const char *const transports[] = {"socket", "exec", "rdma", "file",
                                             NULL};
    static const char *const types[] = {"inet", "unix", "vsock", "fd", NULL};
    const char *t;
    const char *type;

    if (!json_is_object(addr)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for '%s', expected: object", path);
        return -1;
    }
    t = member_enum(addr, path, "transport", transports, err);
    if (t == NULL) {
        return -1;
    }
    if (strcmp(t, "exec") == 0) {
        if (json_object_get(addr, "args") == NULL) {
            fq_error_set(err, "GenericError", "Parameter '%s.args' is missing",
                         path);
            return -1;
        }
        return 0;
    }
    if (strcmp(t, "file") == 0) {
        return member_str(addr, path, "filename", err) != NULL ? 0 : -1;
    }
    if (strcmp(t, "rdma") == 0) {
        return member_str(addr, path, "host", err) != NULL &&
                       member_str(addr, path, "port", err) != NULL
                   ? 0
                   : -1;
    }
    type = member_enum(addr, path, "type", types, err);
    if (type == NULL) {
        return -1;
    }
    if (strcmp(type, "unix") == 0) {
        return member_str(addr, path, "path", err) != NULL ? 0 : -1;
    }
    if (strcmp(type, "fd") == 0) {
        return member_str(addr, path, "str", err) != NULL ? 0 : -1;
    }
    /* inet and vsock */
    return member_str(addr, path, strcmp(type, "inet") == 0 ? "host" : "cid",
                      err) != NULL &&
                   member_str(addr, path, "port", err) != NULL
               ? 0
               : -1;
}

int
fq_channels_check(const json_t *uri, const json_t *channels,
                  struct fq_error *err)
{
    static const char *const kinds[] = {"main", "cpr", NULL};
    size_t mains = 0;
    size_t i;

    if (channels != NULL && !json_is_array(channels)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for 'channels', expected: array");
        return -1;
    }
    /* an empty list is no list to QEMU */
    if ((uri == NULL) == (channels == NULL || json_array_size(channels) == 0)) {
        fq_error_set(err, "GenericError",
                     "need either 'uri' or 'channels' argument");
        return -1;
    }
    for (i = 0; channels != NULL && i < json_array_size(channels); i++) {
        const json_t *c = json_array_get(channels, i);
        char path[64];
        char apath[80];
        const char *kind;

        snprintf(path, sizeof(path), "channels[%zu]", i);
        if (!json_is_object(c)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for '%s', expected: object",
                         path);
            return -1;
        }
        kind = member_enum(c, path, "channel-type", kinds, err);
        if (kind == NULL) {
            return -1;
        }
        if (json_object_get(c, "addr") == NULL) {
            fq_error_set(err, "GenericError", "Parameter '%s.addr' is missing",
                         path);
            return -1;
        }
        snprintf(apath, sizeof(apath), "%s.addr", path);
        if (address_check(json_object_get(c, "addr"), apath, err) < 0) {
            return -1;
        }
        mains += strcmp(kind, "main") == 0;
    }
    if (channels != NULL && mains > 1) {
        fq_error_set(err, "GenericError",
                     "Channel list has more than one main entry");
        return -1;
    }
    if (channels != NULL && mains == 0) {
        /* QEMU 10.0.2 crashed here (SIGSEGV); the fake refuses instead */
        fq_error_set(err, "GenericError", "Channel list has no main entry");
        return -1;
    }
    return 0;
}

bool
fq_uri_scheme_known(const struct fq_version *v, const char *uri)
{
    static const char *const schemes[] = {
        "tcp:", "unix:", "vsock:", "rdma:", "exec:", "fd:", "file:",
    };
    /* file: came with the channels rework; the fake has both from 9.1 */
    size_t n = sizeof(schemes) / sizeof(schemes[0]) -
               (fq_version_at_least(v, 9, 1) ? 0 : 1);
    size_t i;

    for (i = 0; i < n; i++) {
        if (strncmp(uri, schemes[i], strlen(schemes[i])) == 0) {
            return true;
        }
    }
    return false;
}

bool
fq_status_has_singlestep(const struct fq_version *v)
{
    /* deprecated in 8.1, removed with -singlestep for 9.0 */
    return !fq_version_at_least(v, 9, 0);
}
