/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: command arguments checked with QEMU's visitor messages. */
#include "tests/fake-qemu/fake.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
fq_error_set(struct fq_error *err, const char *cls, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    snprintf(err->cls, sizeof(err->cls), "%s", cls);
    va_start(ap, fmt);
    vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
    va_end(ap);
}

static const char *
type_name(enum fq_arg_type t)
{
    switch (t) {
    case FQ_ARG_STR:
        return "string";
    case FQ_ARG_BOOL:
        return "boolean";
    case FQ_ARG_ANY:
        break;
    }
    return "any";
}

static bool
type_ok(const json_t *v, enum fq_arg_type t)
{
    switch (t) {
    case FQ_ARG_STR:
        return json_is_string(v);
    case FQ_ARG_BOOL:
        return json_is_boolean(v);
    case FQ_ARG_ANY:
        break;
    }
    return true;
}

/*
 * QEMU's input visitor walks the members in schema order (missing or
 * mistyped ones fail there), then complains about any member left over.
 */
int
fq_args_check(const json_t *args, const struct fq_arg *spec, size_t n,
              struct fq_error *err)
{
    const char *key;
    json_t *value;
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *v = args ? json_object_get(args, spec[i].name) : NULL;

        if (v == NULL) {
            if (spec[i].required) {
                fq_error_set(err, "GenericError", "Parameter '%s' is missing",
                             spec[i].name);
                return -1;
            }
            continue;
        }
        if (!type_ok(v, spec[i].type)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for '%s', expected: %s",
                         spec[i].name, type_name(spec[i].type));
            return -1;
        }
    }
    if (args == NULL) {
        return 0;
    }
    json_object_foreach ((json_t *)args, key, value) {
        bool known = false;

        for (i = 0; i < n; i++) {
            if (strcmp(spec[i].name, key) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            fq_error_set(err, "GenericError", "Parameter '%s' is unexpected",
                         key);
            return -1;
        }
    }
    return 0;
}
