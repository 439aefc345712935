/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/sample: the one place a sample is built from QEMU's replies
 * (query-migrate, query-block-jobs) and the engine's state. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

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

/*
 * The bytes multifd channels carry: ram.transferred counts them on every
 * QEMU this was checked on (7.2, 10.0), but each counter on its own is
 * read too, so that a QEMU counting the main stream alone still shows
 * them all.
 */
static int
read_ram_bytes(json_t *ram, struct policy_sample *s, char *err, size_t errlen)
{
    static const char *const parts[] = {"precopy-bytes", "downtime-bytes",
                                        "postcopy-bytes"};
    uint64_t sum, u;
    size_t i;

    if (read_u64(ram, "ram", "multifd-bytes", &s->ram_multifd_bytes, err,
                 errlen) < 0) {
        return -1;
    }
    sum = s->ram_multifd_bytes;
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (read_u64(ram, "ram", parts[i], &u, err, errlen) < 0) {
            return -1;
        }
        sum += u;
    }
    if (sum > s->ram_transferred) {
        s->ram_transferred = sum;
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
    s->dirty_limit_throttle_us = -1;
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
            read_u64(ram, "ram", "page-size", &u, err, errlen) < 0 ||
            read_u64(ram, "ram", "postcopy-requests", &s->ram_postcopy_requests,
                     err, errlen) < 0 ||
            read_ram_bytes(ram, s, err, errlen) < 0) {
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
    if (json_object_get(reply, "dirty-limit-throttle-time-per-round")) {
        if (read_u64(reply, "", "dirty-limit-throttle-time-per-round", &u, err,
                     errlen) < 0) {
            return -1;
        }
        s->dirty_limit_throttle_us = u > INT64_MAX ? INT64_MAX : (int64_t)u;
    }
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

/* The mirrors' figures; blk: query-migrate's own "disk". */
static void
sample_disks(const struct engine *e, struct policy_sample *s)
{
    size_t i;

    if (e->cfg.disk != ENGINE_DISK_MIRROR) {
        return;
    }
    s->disk_total = s->disk_transferred = s->disk_remaining = 0;
    for (i = 0; i < e->n_disks; i++) {
        const struct engine_disk_copy *d = &e->disks[i];
        uint64_t len = d->len ? d->len : d->size;
        uint64_t off = d->offset < len ? d->offset : len;

        s->disk_total += len;
        s->disk_transferred += off;
        s->disk_remaining += len - off;
    }
}

/* When, the limits in force, and the disks. */
static void
sample_engine_state(const struct engine *e, struct policy_sample *s)
{
    s->t = engine_now(e);
    s->downtime_limit_ms = e->levers.downtime_ms;
    s->bandwidth_limit = e->levers.bandwidth;
    s->dirty_limit_mib_s = e->levers.dirty_limit_mib_s;
    sample_disks(e, s);
}

void
sample_complete(struct engine *e, struct policy_sample *s)
{
    sample_engine_state(e, s);
    s->pass_event = e->pass_event;
    e->pass_event = false;
    sample_measured(e, s);
}

void
sample_mirror_phase(struct engine *e, struct policy_sample *s)
{
    memset(s, 0, sizeof(*s));
    s->status = MIGRATION_STATUS_ACTIVE;
    s->ram_total = s->ram_remaining = e->ram_size;
    s->ram_page_size = 4096;
    s->expected_downtime_ms = -1;
    s->dirty_limit_throttle_us = -1;
    sample_engine_state(e, s);
}

int
sample_block_jobs(struct engine *e, json_t *jobs, bool switchover, char *why,
                  size_t size)
{
    struct qemu_block_job job;
    json_t *entry;
    size_t i, k;

    for (k = 0; k < e->n_disks; k++) {
        struct engine_disk_copy *d = &e->disks[k];
        bool seen = false;

        if (!d->started || d->concluded) {
            continue;
        }
        json_array_foreach (jobs, i, entry) {
            qemu_block_job(entry, &job);
            if (job.id == NULL || strcmp(job.id, d->job_id) != 0) {
                continue;
            }
            seen = true;
            d->len = job.len;
            d->offset = job.offset;
            d->ready = job.ready;
            d->concluded = job.concluded;
            if (job.error != NULL) {
                snprintf(why, size, "the mirror of disk '%s' failed: %s",
                         d->device, job.error);
                return -1;
            }
        }
        if (!seen && !switchover) {
            snprintf(why, size, "the mirror of disk '%s' went away", d->device);
            return -1;
        }
    }
    return 0;
}
