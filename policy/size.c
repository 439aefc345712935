/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: data sizes, and small facts about one sample. */
#include "policy/internal.h"

static uint64_t
disk_bytes(const struct policy_config *cfg, const struct policy_sample *s)
{
    uint64_t sum = 0;
    size_t i;

    if (cfg->n_disks == 0) {
        return s != NULL ? s->disk_total : 0;
    }
    for (i = 0; i < cfg->n_disks && i < POLICY_MAX_DISKS; i++) {
        sum += cfg->disk_bytes[i];
    }
    return sum;
}

double
policy_internal_data_gb(const struct policy_config *cfg,
                        const struct policy_sample *s)
{
    return ((double)s->ram_total + (double)disk_bytes(cfg, s)) / POLICY_GIB;
}

double
policy_internal_nova_data_gb(const struct policy_config *cfg,
                             uint64_t ram_total, uint64_t disk_total)
{
    double ram_gb = (double)ram_total / POLICY_GIB;
    double disk_gb = 0;
    size_t i;

    if (ram_gb < 2) {
        ram_gb = 2;
    }
    if (cfg->n_disks == 0) {
        /* The job named no disks: what QEMU copies counts as one. */
        if (disk_total > 0) {
            disk_gb = (double)disk_total / POLICY_GIB;
            if (disk_gb < 2) {
                disk_gb = 2;
            }
        }
        return ram_gb + disk_gb;
    }
    for (i = 0; i < cfg->n_disks && i < POLICY_MAX_DISKS; i++) {
        double size_gb = (double)cfg->disk_bytes[i] / POLICY_GIB;

        if (size_gb < 2) {
            size_gb = 2;
        }
        disk_gb += size_gb;
    }
    return ram_gb + disk_gb;
}

bool
policy_internal_disk_busy(const struct policy_sample *s)
{
    uint64_t slack;

    if (s->disk_total == 0) {
        return false;
    }
    /* 1 % of the disks or 64 MiB, whichever is more, counts as copied. */
    slack = s->disk_total / 100;
    if (slack < 64ULL << 20) {
        slack = 64ULL << 20;
    }
    return s->disk_remaining > slack;
}

bool
policy_internal_running(enum migration_status status)
{
    return status == MIGRATION_STATUS_ACTIVE;
}

double
policy_internal_dirty_rate(const struct policy_sample *s)
{
    uint64_t page = s->ram_page_size != 0 ? s->ram_page_size : 4096;

    return (double)s->ram_dirty_pages_rate * (double)page;
}

uint64_t
policy_internal_u64(double v)
{
    /* QEMU's figures can be absurd (a fuzzer sends mbps 4e16): no UB */
    if (!(v > 0.0)) {
        return 0;
    }
    if (v >= 18446744073709551615.0) {
        return UINT64_MAX;
    }
    return (uint64_t)v;
}

/* Room left under --downtime for the device state (docs/policy.md). */
#define DEVICE_STATE_MS 20

uint64_t
policy_internal_downtime_max(const struct policy_config *cfg)
{
    uint64_t room = cfg->downtime_ms / 10;

    if (room > DEVICE_STATE_MS) {
        room = DEVICE_STATE_MS;
    }
    return cfg->downtime_ms - room;
}
