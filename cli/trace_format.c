/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/trace_format: a sample as a trace line's members, both ways, from one
 * table of fields. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/*
 * Every field a sample line carries.  Reading ignores fields it does not
 * know (a newer qmigrate's) and gives a missing optional field its default
 * (an older one's), so every trace ever written replays the same.  Only t
 * and status are required.  Add a field at the end, with the default that
 * an older trace must read as.
 */
enum trace_kind {
    TRACE_DOUBLE,  /* a number */
    TRACE_STATUS,  /* enum migration_status, by QEMU's name */
    TRACE_U64,     /* a non-negative integer */
    TRACE_I64,     /* an integer */
    TRACE_PERCENT, /* an int, 0..100 */
    TRACE_BOOL,
    TRACE_DIRTY_MODE, /* enum policy_dirty_mode, by QEMU's name */
};

struct trace_field {
    const char *name;
    enum trace_kind kind;
    size_t offset; /* in struct policy_sample */
    bool required;
    double value_if_absent;
};

#define FIELD(name, kind, member, required, absent)                            \
    {                                                                          \
        name, kind, offsetof(struct policy_sample, member), required, absent   \
    }

static const struct trace_field fields[] = {
    FIELD("t", TRACE_DOUBLE, t, true, 0),
    FIELD("status", TRACE_STATUS, status, true, 0),
    FIELD("ram_total", TRACE_U64, ram_total, false, 0),
    FIELD("ram_remaining", TRACE_U64, ram_remaining, false, 0),
    FIELD("ram_transferred", TRACE_U64, ram_transferred, false, 0),
    FIELD("ram_dirty_pages_rate", TRACE_U64, ram_dirty_pages_rate, false, 0),
    FIELD("ram_page_size", TRACE_U64, ram_page_size, false, 4096),
    FIELD("ram_dirty_sync_count", TRACE_U64, ram_dirty_sync_count, false, 0),
    FIELD("ram_mbps", TRACE_DOUBLE, ram_mbps, false, 0),
    FIELD("disk_total", TRACE_U64, disk_total, false, 0),
    FIELD("disk_remaining", TRACE_U64, disk_remaining, false, 0),
    FIELD("disk_transferred", TRACE_U64, disk_transferred, false, 0),
    FIELD("expected_downtime_ms", TRACE_I64, expected_downtime_ms, false, -1),
    FIELD("downtime_limit_ms", TRACE_U64, downtime_limit_ms, false, 0),
    FIELD("bandwidth_limit", TRACE_U64, bandwidth_limit, false, 0),
    FIELD("throttle_percent", TRACE_PERCENT, throttle_percent, false, 0),
    FIELD("pass_event", TRACE_BOOL, pass_event, false, 0),
    /* since 2: a dirty-rate measurement that ended since the last sample */
    FIELD("dirty_measured", TRACE_BOOL, dirty_measured, false, 0),
    FIELD("dirty_t_start", TRACE_DOUBLE, dirty.t_start, false, 0),
    FIELD("dirty_t_end", TRACE_DOUBLE, dirty.t_end, false, 0),
    FIELD("dirty_calc_time_ms", TRACE_U64, dirty.calc_time_ms, false, 0),
    FIELD("dirty_rate_mib", TRACE_I64, dirty.dirty_rate, false, 0),
    FIELD("dirty_sample_pages", TRACE_U64, dirty.sample_pages, false, 0),
    FIELD("dirty_mode", TRACE_DIRTY_MODE, dirty.mode, false, 0),
    /* since 2: the levers of QEMU 8.1+ (multifd, post-copy, dirty-limit) */
    FIELD("ram_multifd_bytes", TRACE_U64, ram_multifd_bytes, false, 0),
    FIELD("ram_postcopy_requests", TRACE_U64, ram_postcopy_requests, false, 0),
    FIELD("dirty_limit_mib_s", TRACE_U64, dirty_limit_mib_s, false, 0),
    FIELD("dirty_limit_throttle_us", TRACE_I64, dirty_limit_throttle_us, false,
          -1),
};

static const char *const dirty_modes[] = {
    [POLICY_DIRTY_PAGE_SAMPLING] = "page-sampling",
    [POLICY_DIRTY_RING] = "dirty-ring",
    [POLICY_DIRTY_BITMAP] = "dirty-bitmap",
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static json_t *
field_to_json(const struct trace_field *f, const struct policy_sample *s)
{
    const char *at = (const char *)s + f->offset;

    switch (f->kind) {
    case TRACE_DOUBLE:
        return json_real(*(const double *)at);
    case TRACE_STATUS:
        return json_string(
            migration_status_name(*(const enum migration_status *)at));
    case TRACE_U64:
        return json_integer((json_int_t) * (const uint64_t *)at);
    case TRACE_I64:
        return json_integer((json_int_t) * (const int64_t *)at);
    case TRACE_PERCENT:
        return json_integer(*(const int *)at);
    case TRACE_DIRTY_MODE:
        return json_string(dirty_modes[*(const enum policy_dirty_mode *)at]);
    default:
        return json_boolean(*(const bool *)at);
    }
}

json_t *
sample_to_json(const struct policy_sample *s)
{
    json_t *obj = json_object();
    size_t i;

    for (i = 0; i < N_FIELDS; i++) {
        json_object_set_new(obj, fields[i].name, field_to_json(&fields[i], s));
    }
    return obj;
}

/* The default of an absent field. */
static void
field_default(const struct trace_field *f, struct policy_sample *s)
{
    char *at = (char *)s + f->offset;

    switch (f->kind) {
    case TRACE_DOUBLE:
        *(double *)at = f->value_if_absent;
        break;
    case TRACE_U64:
        *(uint64_t *)at = (uint64_t)f->value_if_absent;
        break;
    case TRACE_I64:
        *(int64_t *)at = (int64_t)f->value_if_absent;
        break;
    case TRACE_PERCENT:
        *(int *)at = (int)f->value_if_absent;
        break;
    default: /* status and bool: zero is none, false */
        break;
    }
}

static int
field_from_json(const struct trace_field *f, json_t *v, struct policy_sample *s)
{
    char *at = (char *)s + f->offset;

    switch (f->kind) {
    case TRACE_DOUBLE:
        if (!json_is_number(v)) {
            return -1;
        }
        *(double *)at = json_number_value(v);
        return 0;
    case TRACE_STATUS:
        if (!json_is_string(v)) {
            return -1;
        }
        *(enum migration_status *)at =
            migration_status_from_name(json_string_value(v));
        return 0;
    case TRACE_BOOL:
        *(bool *)at = json_is_true(v);
        return 0;
    case TRACE_DIRTY_MODE:
        for (size_t i = 0; i < sizeof(dirty_modes) / sizeof(dirty_modes[0]);
             i++) {
            if (json_is_string(v) &&
                strcmp(json_string_value(v), dirty_modes[i]) == 0) {
                *(enum policy_dirty_mode *)at = (enum policy_dirty_mode)i;
                return 0;
            }
        }
        return -1;
    default:
        break;
    }
    if (!json_is_integer(v) ||
        (f->kind != TRACE_I64 && json_integer_value(v) < 0)) {
        return -1;
    }
    if (f->kind == TRACE_U64) {
        *(uint64_t *)at = (uint64_t)json_integer_value(v);
    } else if (f->kind == TRACE_I64) {
        *(int64_t *)at = json_integer_value(v);
    } else {
        *(int *)at =
            json_integer_value(v) > 100 ? 100 : (int)json_integer_value(v);
    }
    return 0;
}

static const char *
kind_words(enum trace_kind kind)
{
    switch (kind) {
    case TRACE_DOUBLE:
        return "a number";
    case TRACE_STATUS:
    case TRACE_DIRTY_MODE:
        return "a string";
    case TRACE_I64:
        return "an integer";
    default:
        return "a non-negative integer";
    }
}

int
sample_from_json(json_t *obj, struct policy_sample *s, char *err, size_t errlen)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < N_FIELDS; i++) {
        const struct trace_field *f = &fields[i];
        json_t *v = json_object_get(obj, f->name);

        if (v == NULL && f->required) {
            snprintf(err, errlen, "sample: '%s' is missing", f->name);
            return -1;
        }
        if (v == NULL) {
            field_default(f, s);
        } else if (field_from_json(f, v, s) < 0) {
            snprintf(err, errlen, "sample: '%s' is not %s", f->name,
                     kind_words(f->kind));
            return -1;
        }
    }
    return 0;
}

/* --- "measure" lines: what the policy was told of the dirty rate ---------- */

static const char *const measure_kinds[] = {
    [ENGINE_MEASURE_BEGIN] = "begin",   [ENGINE_MEASURE_REQUEST] = "request",
    [ENGINE_MEASURE_RESULT] = "result", [ENGINE_MEASURE_FAILED] = "failed",
    [ENGINE_MEASURE_FINISH] = "finish",
};

/* A result's members are the sample's dirty_* fields (the table above). */
json_t *
measure_to_json(const struct engine_measure_event *ev)
{
    json_t *obj = json_pack("{s:s}", "kind", measure_kinds[ev->kind]);
    struct policy_sample s;
    size_t i;

    switch (ev->kind) {
    case ENGINE_MEASURE_BEGIN:
        json_object_set_new(obj, "caps",
                            json_pack("{s:b, s:b, s:b, s:b}", "calc_dirty_rate",
                                      ev->caps->calc_dirty_rate, "sample_pages",
                                      ev->caps->sample_pages, "milliseconds",
                                      ev->caps->milliseconds, "dirty_ring",
                                      ev->caps->dirty_ring));
        json_object_set_new(obj, "ram_bytes",
                            json_integer((json_int_t)ev->ram_bytes));
        break;
    case ENGINE_MEASURE_RESULT:
        memset(&s, 0, sizeof(s));
        s.dirty = *ev->result;
        for (i = 0; i < N_FIELDS; i++) {
            if (strncmp(fields[i].name, "dirty_", 6) == 0 &&
                strcmp(fields[i].name, "dirty_measured") != 0 &&
                strncmp(fields[i].name, "dirty_limit", 11) != 0) {
                json_object_set_new(obj, fields[i].name,
                                    field_to_json(&fields[i], &s));
            }
        }
        break;
    case ENGINE_MEASURE_FAILED:
        json_object_set_new(obj, "why", json_string(ev->why ? ev->why : ""));
        break;
    default:
        break;
    }
    return obj;
}

int
measure_from_json(json_t *obj, struct engine_measure_event *ev,
                  struct policy_measure_caps *caps,
                  struct policy_dirty_rate *result, char *err, size_t errlen)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    json_t *c = json_object_get(obj, "caps");
    struct policy_sample s;
    size_t i;

    memset(ev, 0, sizeof(*ev));
    ev->t = json_number_value(json_object_get(obj, "t"));
    for (i = 0;
         kind != NULL && i < sizeof(measure_kinds) / sizeof(*measure_kinds);
         i++) {
        if (strcmp(kind, measure_kinds[i]) == 0) {
            break;
        }
    }
    if (kind == NULL || i == sizeof(measure_kinds) / sizeof(*measure_kinds)) {
        snprintf(err, errlen, "measure: 'kind' is missing or unknown");
        return -1;
    }
    ev->kind = (enum engine_measure_kind)i;
    memset(caps, 0, sizeof(*caps));
    caps->calc_dirty_rate = json_is_true(json_object_get(c, "calc_dirty_rate"));
    caps->sample_pages = json_is_true(json_object_get(c, "sample_pages"));
    caps->milliseconds = json_is_true(json_object_get(c, "milliseconds"));
    caps->dirty_ring = json_is_true(json_object_get(c, "dirty_ring"));
    ev->caps = caps;
    ev->ram_bytes =
        (uint64_t)json_integer_value(json_object_get(obj, "ram_bytes"));
    ev->why = json_string_value(json_object_get(obj, "why"));
    memset(&s, 0, sizeof(s));
    for (i = 0; ev->kind == ENGINE_MEASURE_RESULT && i < N_FIELDS; i++) {
        json_t *v = json_object_get(obj, fields[i].name);

        if (strncmp(fields[i].name, "dirty_", 6) != 0 || v == NULL) {
            continue;
        }
        if (field_from_json(&fields[i], v, &s) < 0) {
            snprintf(err, errlen, "measure: '%s' is not %s", fields[i].name,
                     kind_words(fields[i].kind));
            return -1;
        }
    }
    *result = s.dirty;
    ev->result = result;
    return 0;
}
