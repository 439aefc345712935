/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: calc-dirty-rate and query-dirty-rate, as each version takes them.
 */
#include "tests/fake-qemu/fake.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * QEMU 7.2 (qapi/migration.json, migration/dirtyrate.c): calc-time in
 * seconds, 1..60; 8.2 adds calc-time-unit ("second", "millisecond") to
 * both commands and allows 50 ms..60 s; query-dirty-rate's reply then
 * carries calc-time-unit too.  The visitor checks members in schema
 * order, then complains about the rest; the command checks the rest in
 * its own order (tests/unit/test_fake_dirtyrate.c has the transcript).
 */

enum mtype { MT_INT, MT_ENUM };

struct member {
    const char *name;
    enum mtype type;
    bool required;
    const char *values; /* MT_ENUM: allowed, space separated */
    int since;          /* major * 100 + minor */
};

static const struct member calc_members[] = {
    {"calc-time", MT_INT, true, NULL, 0},
    {"calc-time-unit", MT_ENUM, false, "second millisecond", 802},
    {"sample-pages", MT_INT, false, NULL, 0},
    {"mode", MT_ENUM, false, "page-sampling dirty-ring dirty-bitmap", 0},
};

static const struct member query_members[] = {
    {"calc-time-unit", MT_ENUM, false, "second millisecond", 802},
};

static int
version_of(const struct fq_version *v)
{
    return v->major * 100 + v->minor;
}

static bool
enum_has(const char *values, const char *v)
{
    size_t n = strlen(v);
    const char *p = values;

    while ((p = strstr(p, v)) != NULL) {
        if ((p == values || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return true;
        }
        p += n;
    }
    return false;
}

/* QEMU's input visitor over a command's members. */
static int
visit(const json_t *args, const struct member *m, size_t n,
      const struct fq_version *ver, struct fq_error *err)
{
    const char *key;
    json_t *value;
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *v;

        if (version_of(ver) < m[i].since) {
            continue;
        }
        v = args != NULL ? json_object_get(args, m[i].name) : NULL;
        if (v == NULL) {
            if (m[i].required) {
                fq_error_set(err, "GenericError", "Parameter '%s' is missing",
                             m[i].name);
                return -1;
            }
            continue;
        }
        if (m[i].type == MT_INT && !json_is_integer(v)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for '%s', expected: integer",
                         m[i].name);
            return -1;
        }
        if (m[i].type == MT_ENUM && !json_is_string(v)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for '%s', expected: string",
                         m[i].name);
            return -1;
        }
        if (m[i].type == MT_ENUM &&
            !enum_has(m[i].values, json_string_value(v))) {
            fq_error_set(err, "GenericError",
                         "Parameter '%s' does not accept value '%s'", m[i].name,
                         json_string_value(v));
            return -1;
        }
    }
    if (args == NULL) {
        return 0;
    }
    json_object_foreach ((json_t *)args, key, value) {
        bool known = false;

        for (i = 0; i < n; i++) {
            known = known || (version_of(ver) >= m[i].since &&
                              strcmp(m[i].name, key) == 0);
        }
        if (!known) {
            fq_error_set(err, "GenericError", "Parameter '%s' is unexpected",
                         key);
            return -1;
        }
    }
    return 0;
}

static bool
millisecond(const json_t *args)
{
    const char *u = json_string_value(json_object_get(args, "calc-time-unit"));

    return u != NULL && strcmp(u, "millisecond") == 0;
}

json_t *
fq_cmd_calc_dirty_rate(struct fq_vm *vm, const json_t *args,
                       struct fq_error *err)
{
    bool v82 = fq_version_at_least(&vm->version, 8, 2);
    struct fq_dirty_args a;
    struct fq_dirty_info info;
    json_int_t t;
    const char *mode;

    if (visit(args, calc_members,
              sizeof(calc_members) / sizeof(calc_members[0]), &vm->version,
              err) < 0) {
        return NULL;
    }
    fq_model_query_dirty_rate(vm->model, &info);
    if (info.status == FQ_DIRTY_MEASURING) {
        fq_error_set(err, "GenericError",
                     "the dirty rate is already being measured.");
        return NULL;
    }
    t = json_integer_value(json_object_get(args, "calc-time"));
    if (!v82 && (t < 1 || t > 60)) {
        fq_error_set(err, "GenericError", "calc-time is out of range[1, 60].");
        return NULL;
    }
    if (v82) {
        /* QEMU multiplies by 1000 in int64: a huge value wraps */
        t = millisecond(args) ? t : (json_int_t)((uint64_t)t * 1000u);
        if (t < 50 || t > 60000) {
            fq_error_set(err, "GenericError",
                         "Calculation time is out of range [50ms, 60000ms].");
            return NULL;
        }
    } else {
        t *= 1000;
    }
    memset(&a, 0, sizeof(a));
    a.before_80 = !fq_version_at_least(&vm->version, 8, 0);
    a.calc_time_ms = (int64_t)t;
    a.has_sample_pages = json_object_get(args, "sample-pages") != NULL;
    if (a.has_sample_pages) {
        json_int_t sp =
            json_integer_value(json_object_get(args, "sample-pages"));

        /* out of range for uint64 reads as out of QEMU's range too */
        a.sample_pages = sp < 0 ? 0 : (uint64_t)sp;
    }
    mode = json_string_value(json_object_get(args, "mode"));
    a.mode = mode != NULL ? (enum fq_dirty_mode)fq_dirty_mode_from_name(mode)
                          : FQ_DIRTY_PAGE_SAMPLING;
    if (fq_model_calc_dirty_rate(vm->model, &a, err) < 0) {
        return NULL;
    }
    return json_object();
}

static int
add(json_t *o, const char *key, json_t *v)
{
    return v == NULL ? -1 : json_object_set_new(o, key, v);
}

json_t *
fq_cmd_query_dirty_rate(struct fq_vm *vm, const json_t *args,
                        struct fq_error *err)
{
    bool v82 = fq_version_at_least(&vm->version, 8, 2);
    bool ms = v82 && millisecond(args);
    struct fq_dirty_info info;
    json_t *o;
    int rc = 0;

    if (visit(args, query_members,
              sizeof(query_members) / sizeof(query_members[0]), &vm->version,
              err) < 0) {
        return NULL;
    }
    fq_model_query_dirty_rate(vm->model, &info);
    o = json_object();
    if (o == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
        return NULL;
    }
    /* DirtyRateInfo in schema order; the printer orders them as QEMU */
    if (info.has_dirty_rate) {
        rc |= add(o, "dirty-rate", json_integer(info.dirty_rate));
    }
    rc |= add(o, "status", json_string(fq_dirty_status_name(info.status)));
    rc |=
        add(o, "start-time", json_integer((json_int_t)floor(info.start_time)));
    rc |= add(o, "calc-time",
              json_integer(ms ? info.calc_time_ms : info.calc_time_ms / 1000));
    if (v82) {
        rc |= add(o, "calc-time-unit",
                  json_string(ms ? "millisecond" : "second"));
    }
    rc |= add(o, "sample-pages", json_integer((json_int_t)info.sample_pages));
    rc |= add(o, "mode", json_string(fq_dirty_mode_name(info.mode)));
    if (info.has_vcpu_dirty_rate) {
        rc |= add(o, "vcpu-dirty-rate",
                  json_pack("[{s:I, s:i}]", "dirty-rate",
                            (json_int_t)info.vcpu_dirty_rate, "id", 0));
    }
    if (rc != 0) {
        json_decref(o);
        fq_error_set(err, "GenericError", "out of memory");
        return NULL;
    }
    return o;
}

int
fq_dirtyrate_set_model(struct fq_model_config *c, const char *key,
                       const char *value, struct fq_error *err)
{
    char *end;
    double x;

    if (strcmp(key, "dirty-ring") == 0) {
        unsigned long long n = strtoull(value, &end, 10);

        if (*value == '\0' || *end != '\0' ||
            (n != 0 && (n < 1024 || n > 65536 || (n & (n - 1)) != 0))) {
            fq_error_set(err, "GenericError",
                         "--dirty-ring: '%s' is not 0 (none) or a power of "
                         "two in 1024..65536 (entries)",
                         value);
            return -1;
        }
        c->dirty_ring = n != 0;
        c->dirty_ring_size = n != 0 ? n : c->dirty_ring_size;
        return 1;
    }
    if (strcmp(key, "hash-rate") == 0) {
        if (fq_parse_rate(value, &x) < 0 || !(x > 0)) {
            fq_error_set(err, "GenericError",
                         "--hash-rate: '%s' is not a rate (like 650M)", value);
            return -1;
        }
        c->hash_rate = x;
        return 1;
    }
    if (strcmp(key, "seed") == 0) {
        unsigned long long n = strtoull(value, &end, 10);

        if (*value == '\0' || *end != '\0' || value[0] == '-') {
            fq_error_set(err, "GenericError",
                         "--seed: '%s' is not a whole number", value);
            return -1;
        }
        c->seed = n;
        return 1;
    }
    return 0;
}
