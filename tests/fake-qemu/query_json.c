/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: query-migrate and event data as QMP JSON, per QEMU version. */
#include "tests/fake-qemu/query_json.h"

bool
fq_version_at_least(const struct fq_version *v, int major, int minor)
{
    return v->major > major || (v->major == major && v->minor >= minor);
}

static int
set(json_t *o, const char *key, json_t *value)
{
    return json_object_set_new(o, key, value);
}

static json_t *
uint_json(uint64_t x)
{
    return json_integer((json_int_t)x);
}

/* MigrationStats, members in schema order. */
static json_t *
stats_json(const struct fq_migration_stats *s, const struct fq_version *v)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL) {
        return NULL;
    }
    rc |= set(o, "transferred", uint_json(s->transferred));
    rc |= set(o, "remaining", uint_json(s->remaining));
    rc |= set(o, "total", uint_json(s->total));
    rc |= set(o, "duplicate", uint_json(s->duplicate));
    if (!fq_version_at_least(v, 9, 1)) {
        rc |= set(o, "skipped", json_integer(0));
    }
    rc |= set(o, "normal", uint_json(s->normal));
    rc |= set(o, "normal-bytes", uint_json(s->normal_bytes));
    rc |= set(o, "dirty-pages-rate", uint_json(s->dirty_pages_rate));
    /* QEMU prints a double with %.17g: a whole number has no ".0" */
    if (s->mbps == (double)(json_int_t)s->mbps) {
        rc |= set(o, "mbps", json_integer((json_int_t)s->mbps));
    } else {
        rc |= set(o, "mbps", json_real(s->mbps));
    }
    rc |= set(o, "dirty-sync-count", uint_json(s->dirty_sync_count));
    rc |= set(o, "postcopy-requests", uint_json(s->postcopy_requests));
    rc |= set(o, "page-size", uint_json(s->page_size));
    rc |= set(o, "multifd-bytes", uint_json(s->multifd_bytes));
    rc |= set(o, "pages-per-second", uint_json(s->pages_per_second));
    rc |= set(o, "precopy-bytes", uint_json(s->precopy_bytes));
    rc |= set(o, "downtime-bytes", uint_json(s->downtime_bytes));
    rc |= set(o, "postcopy-bytes", uint_json(s->postcopy_bytes));
    rc |= set(o, "dirty-sync-missed-zero-copy",
              uint_json(s->dirty_sync_missed_zero_copy));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *
fq_query_migrate_json(const struct fq_migration_info *info,
                      const struct fq_version *v)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL || info->status == FQ_STATUS_NONE) {
        return o;
    }
    rc |= set(o, "status", json_string(fq_status_name(info->status)));
    if (info->has_ram) {
        rc |= set(o, "ram", stats_json(&info->ram, v));
    }
    if (info->has_disk && !fq_version_at_least(v, 9, 1)) {
        rc |= set(o, "disk", stats_json(&info->disk, v));
    }
    if (info->has_total_time) {
        rc |= set(o, "total-time", json_integer(info->total_time));
    }
    if (info->has_expected_downtime) {
        rc |=
            set(o, "expected-downtime", json_integer(info->expected_downtime));
    }
    if (info->has_downtime) {
        rc |= set(o, "downtime", json_integer(info->downtime));
    }
    if (info->has_setup_time) {
        rc |= set(o, "setup-time", json_integer(info->setup_time));
    }
    if (info->has_cpu_throttle_percentage) {
        rc |= set(o, "cpu-throttle-percentage",
                  json_integer(info->cpu_throttle_percentage));
    }
    if (info->has_error_desc) {
        rc |= set(o, "error-desc", json_string(info->error_desc));
    }
    if (info->has_dirty_limit && fq_version_at_least(v, 8, 1)) {
        rc |= set(o, "dirty-limit-throttle-time-per-round",
                  json_integer(info->dirty_limit_throttle_us));
        rc |= set(o, "dirty-limit-ring-full-time",
                  json_integer(info->dirty_limit_ring_full_us));
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

const char *
fq_event_name(const struct fq_event *ev)
{
    switch (ev->type) {
    case FQ_EVENT_MIGRATION:
        return "MIGRATION";
    case FQ_EVENT_MIGRATION_PASS:
        return "MIGRATION_PASS";
    case FQ_EVENT_STOP:
        return "STOP";
    case FQ_EVENT_RESUME:
        return "RESUME";
    }
    return "UNKNOWN";
}

json_t *
fq_event_data_json(const struct fq_event *ev)
{
    switch (ev->type) {
    case FQ_EVENT_MIGRATION:
        return json_pack("{s:s}", "status", fq_status_name(ev->status));
    case FQ_EVENT_MIGRATION_PASS:
        return json_pack("{s:I}", "pass", (json_int_t)ev->pass);
    case FQ_EVENT_STOP:
    case FQ_EVENT_RESUME:
        break;
    }
    return NULL;
}
