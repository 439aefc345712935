/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/sample: QEMU's query-migrate reply turned into a policy sample. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/*
 * Reads a non-negative integer member; absent reads as 0.  QEMU sends
 * these as integers; a float or a negative value means the peer is not
 * the QEMU we think it is.
 */
static int
read_u64(json_t *obj, const char *obj_name, const char *key, uint64_t *out,
         char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen,
                 "query-migrate: '%s%s%s' is not a non-negative integer",
                 obj_name, obj_name[0] ? "." : "", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int
read_stats(json_t *reply, const char *name, uint64_t *total,
           uint64_t *remaining, uint64_t *transferred, json_t **stats_out,
           char *err, size_t errlen)
{
    json_t *stats = json_object_get(reply, name);

    *stats_out = NULL;
    *total = *remaining = *transferred = 0;
    if (stats == NULL) {
        return 0;
    }
    if (!json_is_object(stats)) {
        snprintf(err, errlen, "query-migrate: '%s' is not an object", name);
        return -1;
    }
    *stats_out = stats;
    if (read_u64(stats, name, "total", total, err, errlen) < 0 ||
        read_u64(stats, name, "remaining", remaining, err, errlen) < 0 ||
        read_u64(stats, name, "transferred", transferred, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

int
sample_from_query_migrate(json_t *reply, struct policy_sample *s, char *err,
                          size_t errlen)
{
    json_t *status, *ram, *disk, *v;
    uint64_t u;

    memset(s, 0, sizeof(*s));
    s->expected_downtime_ms = -1;
    s->ram_page_size = 4096;
    if (!json_is_object(reply)) {
        snprintf(err, errlen, "query-migrate: the reply is not an object");
        return -1;
    }
    status = json_object_get(reply, "status");
    if (status == NULL) {
        s->status = MIGRATION_STATUS_NONE; /* "{}": no migration yet */
    } else if (!json_is_string(status)) {
        snprintf(err, errlen, "query-migrate: 'status' is not a string");
        return -1;
    } else {
        s->status = migration_status_from_name(json_string_value(status));
    }
    if (read_stats(reply, "ram", &s->ram_total, &s->ram_remaining,
                   &s->ram_transferred, &ram, err, errlen) < 0 ||
        read_stats(reply, "disk", &s->disk_total, &s->disk_remaining,
                   &s->disk_transferred, &disk, err, errlen) < 0) {
        return -1;
    }
    if (ram != NULL) {
        if (read_u64(ram, "ram", "dirty-pages-rate", &s->ram_dirty_pages_rate,
                     err, errlen) < 0 ||
            read_u64(ram, "ram", "dirty-sync-count", &s->ram_dirty_sync_count,
                     err, errlen) < 0 ||
            read_u64(ram, "ram", "page-size", &u, err, errlen) < 0) {
            return -1;
        }
        if (u != 0) {
            s->ram_page_size = u;
        }
        v = json_object_get(ram, "mbps");
        if (v != NULL) {
            if (!json_is_number(v) || json_number_value(v) < 0 ||
                !isfinite(json_number_value(v))) {
                snprintf(err, errlen,
                         "query-migrate: 'ram.mbps' is not a non-negative "
                         "number");
                return -1;
            }
            s->ram_mbps = json_number_value(v);
        }
    }
    v = json_object_get(reply, "expected-downtime");
    if (v != NULL) {
        if (!json_is_integer(v)) {
            snprintf(err, errlen,
                     "query-migrate: 'expected-downtime' is not an integer");
            return -1;
        }
        s->expected_downtime_ms = json_integer_value(v);
    }
    if (read_u64(reply, "", "cpu-throttle-percentage", &u, err, errlen) < 0) {
        return -1;
    }
    s->throttle_percent = u > 100 ? 100 : (int)u;
    return 0;
}

void
summary_from_query_migrate(json_t *reply, struct migrate_summary *sum)
{
    json_t *v;

    sum->downtime_ms = -1;
    sum->total_time_ms = -1;
    sum->error_desc[0] = '\0';
    v = json_object_get(reply, "downtime");
    if (json_is_integer(v)) {
        sum->downtime_ms = json_integer_value(v);
    }
    v = json_object_get(reply, "total-time");
    if (json_is_integer(v)) {
        sum->total_time_ms = json_integer_value(v);
    }
    v = json_object_get(reply, "error-desc");
    if (json_is_string(v)) {
        snprintf(sum->error_desc, sizeof(sum->error_desc), "%s",
                 json_string_value(v));
    }
}

json_t *
sample_to_json(const struct policy_sample *s)
{
    return json_pack(
        "{s:f, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, "
        "s:I, s:I, s:i, s:b}",
        "t", s->t, "status", migration_status_name(s->status), "ram_total",
        (json_int_t)s->ram_total, "ram_remaining", (json_int_t)s->ram_remaining,
        "ram_transferred", (json_int_t)s->ram_transferred,
        "ram_dirty_pages_rate", (json_int_t)s->ram_dirty_pages_rate,
        "ram_page_size", (json_int_t)s->ram_page_size, "ram_dirty_sync_count",
        (json_int_t)s->ram_dirty_sync_count, "ram_mbps", s->ram_mbps,
        "disk_total", (json_int_t)s->disk_total, "disk_remaining",
        (json_int_t)s->disk_remaining, "disk_transferred",
        (json_int_t)s->disk_transferred, "expected_downtime_ms",
        (json_int_t)s->expected_downtime_ms, "downtime_limit_ms",
        (json_int_t)s->downtime_limit_ms, "bandwidth_limit",
        (json_int_t)s->bandwidth_limit, "throttle_percent", s->throttle_percent,
        "pass_event", s->pass_event);
}

static int
json_u64(json_t *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, errlen,
                 "sample: '%s' is missing or not a "
                 "non-negative integer",
                 key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int
sample_from_json(json_t *obj, struct policy_sample *s, char *err, size_t errlen)
{
    json_t *v;
    uint64_t throttle;

    memset(s, 0, sizeof(*s));
    v = json_object_get(obj, "t");
    if (!json_is_number(v)) {
        snprintf(err, errlen, "sample: 't' is missing or not a number");
        return -1;
    }
    s->t = json_number_value(v);
    v = json_object_get(obj, "status");
    if (!json_is_string(v)) {
        snprintf(err, errlen, "sample: 'status' is missing or not a string");
        return -1;
    }
    s->status = migration_status_from_name(json_string_value(v));
    if (json_u64(obj, "ram_total", &s->ram_total, err, errlen) < 0 ||
        json_u64(obj, "ram_remaining", &s->ram_remaining, err, errlen) < 0 ||
        json_u64(obj, "ram_transferred", &s->ram_transferred, err, errlen) <
            0 ||
        json_u64(obj, "ram_dirty_pages_rate", &s->ram_dirty_pages_rate, err,
                 errlen) < 0 ||
        json_u64(obj, "ram_page_size", &s->ram_page_size, err, errlen) < 0 ||
        json_u64(obj, "ram_dirty_sync_count", &s->ram_dirty_sync_count, err,
                 errlen) < 0 ||
        json_u64(obj, "disk_total", &s->disk_total, err, errlen) < 0 ||
        json_u64(obj, "disk_remaining", &s->disk_remaining, err, errlen) < 0 ||
        json_u64(obj, "disk_transferred", &s->disk_transferred, err, errlen) <
            0 ||
        json_u64(obj, "downtime_limit_ms", &s->downtime_limit_ms, err, errlen) <
            0 ||
        json_u64(obj, "bandwidth_limit", &s->bandwidth_limit, err, errlen) <
            0 ||
        json_u64(obj, "throttle_percent", &throttle, err, errlen) < 0) {
        return -1;
    }
    s->throttle_percent = throttle > 100 ? 100 : (int)throttle;
    v = json_object_get(obj, "ram_mbps");
    if (!json_is_number(v)) {
        snprintf(err, errlen, "sample: 'ram_mbps' is missing or not a number");
        return -1;
    }
    s->ram_mbps = json_number_value(v);
    v = json_object_get(obj, "expected_downtime_ms");
    if (!json_is_integer(v)) {
        snprintf(err, errlen,
                 "sample: 'expected_downtime_ms' is missing or not an "
                 "integer");
        return -1;
    }
    s->expected_downtime_ms = json_integer_value(v);
    s->pass_event = json_is_true(json_object_get(obj, "pass_event"));
    return 0;
}
