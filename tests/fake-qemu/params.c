/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: migration parameters per QEMU version, checked as QEMU does. */
#include "tests/fake-qemu/fake.h"

#include <string.h>

enum ptype {
    PT_U8,
    PT_U32,
    PT_U64, /* uint64 and size: QEMU's visitor treats them alike */
    PT_BOOL,
    PT_STR, /* StrOrNull in migrate-set-parameters */
    PT_ENUM
};

/* MigrationParameters in schema order; versions as major * 100 + minor. */
static const struct param_def {
    const char *name;
    enum ptype type;
    json_int_t dflt;    /* integers and booleans */
    const char *sdflt;  /* strings and enums */
    const char *values; /* enums: allowed values, space separated */
    int since;
    int until; /* removed in; 0 for never */
} param_defs[] = {
    {"announce-initial", PT_U64, 50, NULL, NULL, 0, 0},
    {"announce-max", PT_U64, 550, NULL, NULL, 0, 0},
    {"announce-rounds", PT_U64, 5, NULL, NULL, 0, 0},
    {"announce-step", PT_U64, 100, NULL, NULL, 0, 0},
    {"compress-level", PT_U8, 1, NULL, NULL, 0, 901},
    {"compress-threads", PT_U8, 8, NULL, NULL, 0, 901},
    {"compress-wait-thread", PT_BOOL, 1, NULL, NULL, 0, 901},
    {"decompress-threads", PT_U8, 2, NULL, NULL, 0, 901},
    {"throttle-trigger-threshold", PT_U8, 50, NULL, NULL, 0, 0},
    {"cpu-throttle-initial", PT_U8, 20, NULL, NULL, 0, 0},
    {"cpu-throttle-increment", PT_U8, 10, NULL, NULL, 0, 0},
    {"cpu-throttle-tailslow", PT_BOOL, 0, NULL, NULL, 0, 0},
    {"tls-creds", PT_STR, 0, "", NULL, 0, 0},
    {"tls-hostname", PT_STR, 0, "", NULL, 0, 0},
    {"tls-authz", PT_STR, 0, "", NULL, 0, 0},
    {"max-bandwidth", PT_U64, 134217728, NULL, NULL, 0, 0},
    {"avail-switchover-bandwidth", PT_U64, 0, NULL, NULL, 802, 0},
    {"downtime-limit", PT_U64, 300, NULL, NULL, 0, 0},
    {"x-checkpoint-delay", PT_U32, 20000, NULL, NULL, 0, 0},
    {"block-incremental", PT_BOOL, 0, NULL, NULL, 0, 901},
    {"multifd-channels", PT_U8, 2, NULL, NULL, 0, 0},
    {"xbzrle-cache-size", PT_U64, 67108864, NULL, NULL, 0, 0},
    {"max-postcopy-bandwidth", PT_U64, 0, NULL, NULL, 0, 0},
    {"max-cpu-throttle", PT_U8, 99, NULL, NULL, 0, 0},
    {"multifd-compression", PT_ENUM, 0, "none", "none zlib zstd", 0, 0},
    {"multifd-zlib-level", PT_U8, 1, NULL, NULL, 0, 0},
    {"multifd-qatzip-level", PT_U8, 1, NULL, NULL, 902, 0},
    {"multifd-zstd-level", PT_U8, 1, NULL, NULL, 0, 0},
    {"x-vcpu-dirty-limit-period", PT_U64, 1000, NULL, NULL, 801, 0},
    {"vcpu-dirty-limit", PT_U64, 1, NULL, NULL, 801, 0},
    {"mode", PT_ENUM, 0, "normal", "normal cpr-reboot", 802, 1000},
    {"mode", PT_ENUM, 0, "normal", "normal cpr-reboot cpr-transfer", 1000, 0},
    {"zero-page-detection", PT_ENUM, 0, "multifd", "none legacy multifd", 900,
     0},
    {"direct-io", PT_BOOL, 0, NULL, NULL, 901, 0},
};

#define N_PARAMS (sizeof(param_defs) / sizeof(param_defs[0]))

static bool
present(const struct param_def *d, const struct fq_version *v)
{
    int ver = v->major * 100 + v->minor;

    return ver >= d->since && (d->until == 0 || ver < d->until);
}

static json_t *
default_json(const struct param_def *d)
{
    switch (d->type) {
    case PT_BOOL:
        return json_boolean(d->dflt);
    case PT_STR:
    case PT_ENUM:
        return json_string(d->sdflt);
    case PT_U8:
    case PT_U32:
    case PT_U64:
        break;
    }
    return json_integer(d->dflt);
}

json_t *
fq_params_defaults(const struct fq_version *v)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o != NULL && i < N_PARAMS; i++) {
        if (present(&param_defs[i], v) &&
            json_object_set_new(o, param_defs[i].name,
                                default_json(&param_defs[i])) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static bool
enum_ok(const char *values, const char *s)
{
    size_t n = strlen(s);
    const char *p = values;

    while (n > 0 && (p = strstr(p, s)) != NULL) {
        if ((p == values || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            return true;
        }
        p += n;
    }
    return false;
}

/* The visitor: one member's type, as qobject-input-visitor.c reports. */
static int
check_type(const struct param_def *d, const json_t *val, json_t **out,
           struct fq_error *err)
{
    json_int_t x;

    switch (d->type) {
    case PT_BOOL:
        if (!json_is_boolean(val)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for "
                         "'%s', expected: boolean",
                         d->name);
            return -1;
        }
        *out = json_boolean(json_is_true(val));
        return 0;
    case PT_STR:
        if (json_is_null(val)) {
            *out = json_string("");
            return 0;
        }
        if (!json_is_string(val)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for "
                         "'%s', expected: string",
                         d->name);
            return -1;
        }
        *out = json_string(json_string_value(val));
        return 0;
    case PT_ENUM:
        if (!json_is_string(val)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for "
                         "'%s', expected: string",
                         d->name);
            return -1;
        }
        if (!enum_ok(d->values, json_string_value(val))) {
            fq_error_set(err, "GenericError",
                         "Parameter '%s' does not accept value '%s'", d->name,
                         json_string_value(val));
            return -1;
        }
        *out = json_string(json_string_value(val));
        return 0;
    case PT_U8:
    case PT_U32:
    case PT_U64:
        break;
    }
    if (!json_is_integer(val)) {
        fq_error_set(err, "GenericError", "Parameter '%s' expects uint64",
                     d->name);
        return -1;
    }
    x = json_integer_value(val);
    /* a negative number passes as a huge uint64, then fails a range */
    if (d->type == PT_U8 && (x < 0 || x > 255)) {
        fq_error_set(err, "GenericError", "Parameter '%s' expects uint8_t",
                     d->name);
        return -1;
    }
    if (d->type == PT_U32 && (x < 0 || x > 4294967295LL)) {
        fq_error_set(err, "GenericError", "Parameter '%s' expects uint32_t",
                     d->name);
        return -1;
    }
    *out = json_integer(x);
    return 0;
}

static json_int_t
get_int(const json_t *o, const char *name, json_int_t dflt)
{
    json_t *v = json_object_get(o, name);

    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool
out_of(const json_t *o, const char *name, json_int_t lo, json_int_t hi)
{
    json_t *v = json_object_get(o, name);
    json_int_t x;

    if (!json_is_integer(v)) {
        return false;
    }
    x = json_integer_value(v);
    return x < lo || x > hi;
}

/* migrate_params_check() on the merged set, in QEMU's order. */
static int
range_check(const json_t *p, struct fq_error *err)
{
    static const struct range {
        const char *name;
        const char *qemu_name;
        json_int_t lo;
        json_int_t hi;
        const char *expects;
    } ranges[] = {
        {"compress-level", "compress_level", 0, 9, "a value between 0 and 9"},
        {"compress-threads", "compress_threads", 1, 255,
         "a value between 1 and 255"},
        {"decompress-threads", "decompress_threads", 1, 255,
         "a value between 1 and 255"},
        {"throttle-trigger-threshold", "throttle_trigger_threshold", 1, 100,
         "an integer in the range of 1 to 100"},
        {"cpu-throttle-initial", "cpu_throttle_initial", 1, 99,
         "an integer in the range of 1 to 99"},
        {"cpu-throttle-increment", "cpu_throttle_increment", 1, 99,
         "an integer in the range of 1 to 99"},
        {"downtime-limit", "downtime_limit", 0, 2000000,
         "an integer in the range of 0 to (2000 * 1000) ms"},
        {"multifd-channels", "multifd_channels", 1, 255,
         "a value between 1 and 255"},
        {"multifd-zlib-level", "multifd_zlib_level", 0, 9,
         "a value between 0 and 9"},
        {"multifd-qatzip-level", "multifd_qatzip_level", 1, 9,
         "a value between 1 and 9"},
        {"multifd-zstd-level", "multifd_zstd_level", 0, 20,
         "a value between 0 and 20"},
    };
    json_int_t xbz = get_int(p, "xbzrle-cache-size", 67108864);
    json_int_t initial = get_int(p, "cpu-throttle-initial", 20);
    size_t i;

    for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (out_of(p, ranges[i].name, ranges[i].lo, ranges[i].hi)) {
            fq_error_set(err, "GenericError", "Parameter '%s' expects %s",
                         ranges[i].qemu_name, ranges[i].expects);
            return -1;
        }
    }
    if (xbz < 4096 || (xbz & (xbz - 1)) != 0) {
        fq_error_set(err, "GenericError",
                     "Parameter 'xbzrle_cache_size' "
                     "expects a power of two no less than the target page "
                     "size");
        return -1;
    }
    if (out_of(p, "max-cpu-throttle", initial, 99)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'max_cpu_throttle' "
                     "expects an integer in the range of cpu_throttle_initial "
                     "to 99");
        return -1;
    }
    if (out_of(p, "announce-initial", 0, 100000)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'announce_initial' "
                     "expects a value between 0 and 100000");
        return -1;
    }
    if (out_of(p, "announce-max", 0, 100000)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'announce_max' "
                     "expects a value between 0 and 100000");
        return -1;
    }
    if (out_of(p, "announce-rounds", 0, 1000)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'announce_rounds' "
                     "expects a value between 0 and 1000");
        return -1;
    }
    if (out_of(p, "announce-step", 1, 10000)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'announce_step' "
                     "expects a value between 0 and 10000");
        return -1;
    }
    return 0;
}

static uint64_t
get_u64(const json_t *o, const char *name)
{
    json_int_t x = get_int(o, name, 0);

    return x < 0 ? 0 : (uint64_t)x;
}

int
fq_params_set(json_t *current, const json_t *args, const struct fq_version *v,
              struct fq_params *mp, struct fq_error *err)
{
    json_t *merged = json_deep_copy(current);
    const char *key;
    json_t *val;
    size_t i;
    int rc = -1;

    if (merged == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
        return -1;
    }
    for (i = 0; i < N_PARAMS; i++) {
        const struct param_def *d = &param_defs[i];
        json_t *out = NULL;

        val = args ? json_object_get(args, d->name) : NULL;
        if (val == NULL || !present(d, v)) {
            continue;
        }
        if (check_type(d, val, &out, err) < 0) {
            goto out;
        }
        json_object_set_new(merged, d->name, out);
    }
    if (args != NULL) {
        json_object_foreach ((json_t *)args, key, val) {
            if (json_object_get(merged, key) == NULL) {
                fq_error_set(err, "GenericError",
                             "Parameter '%s' is unexpected", key);
                goto out;
            }
        }
    }
    if (range_check(merged, err) < 0) {
        goto out;
    }
    json_object_update(current, merged);
    mp->downtime_limit = get_u64(current, "downtime-limit");
    mp->max_bandwidth = get_u64(current, "max-bandwidth");
    mp->max_postcopy_bandwidth = get_u64(current, "max-postcopy-bandwidth");
    mp->avail_switchover_bandwidth =
        get_u64(current, "avail-switchover-bandwidth");
    mp->cpu_throttle_initial =
        (int)get_int(current, "cpu-throttle-initial", 20);
    mp->cpu_throttle_increment =
        (int)get_int(current, "cpu-throttle-increment", 10);
    mp->max_cpu_throttle = (int)get_int(current, "max-cpu-throttle", 99);
    mp->throttle_trigger_threshold =
        (int)get_int(current, "throttle-trigger-threshold", 50);
    mp->cpu_throttle_tailslow =
        json_is_true(json_object_get(current, "cpu-throttle-tailslow"));
    mp->multifd_channels = (int)get_int(current, "multifd-channels", 2);
    mp->vcpu_dirty_limit = get_u64(current, "vcpu-dirty-limit");
    rc = 0;
out:
    json_decref(merged);
    return rc;
}
