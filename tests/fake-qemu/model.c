/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the model's life cycle, its commands, and query-migrate. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(struct fq_error *err, const char *cls, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

static void
set_error(struct fq_error *err, const char *cls, const char *fmt, ...)
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

void
fq_model_config_init(struct fq_model_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_bytes = 1ull << 30;
    cfg->page_size = 4096;
    cfg->working_set_bytes = 64ull << 20;
    cfg->dirty_rate = 262144; /* 1 GiB/s of 4 KiB pages */
    cfg->zero_share = 0.5;
    cfg->zero_pages_last = true;
    cfg->link_bandwidth = 1.25e9; /* 10 Gbit/s */
    cfg->zero_scan_rate = 20e9;
    cfg->setup_ms = 2;
    cfg->switchover_ms = 5;
    cfg->cancel_ms = 2;
    cfg->disk_bytes = 0;
    cfg->disk_dirty_rate = 0;
    cfg->disk_working_set_bytes = 64ull << 20;
    cfg->dirty_ring = false;
    cfg->dirty_ring_size = 4096;
    cfg->hash_rate = 650e6;
    cfg->seed = 1;
    cfg->vcpus = 1;
    cfg->channel_rate = 0;
    cfg->fault_rtt = 0.0002;
    cfg->incoming = false;
}

int
fq_model_config_check(const struct fq_model_config *cfg, struct fq_error *err)
{
    const char *bad = NULL;

    if (cfg->page_size < 512 || (cfg->page_size & (cfg->page_size - 1))) {
        bad = "page size must be a power of two of at least 512 bytes";
    } else if (cfg->ram_bytes < cfg->page_size) {
        bad = "RAM must hold at least one page";
    } else if (cfg->working_set_bytes > cfg->ram_bytes) {
        bad = "working set is larger than RAM";
    } else if (!(cfg->dirty_rate >= 0) || isinf(cfg->dirty_rate)) {
        bad = "dirty rate must be a finite number of pages/s, 0 or more";
    } else if (!(cfg->zero_share >= 0 && cfg->zero_share <= 1)) {
        bad = "zero share must be between 0 and 1";
    } else if ((double)cfg->working_set_bytes >
               (1 - cfg->zero_share) * (double)cfg->ram_bytes + 0.5) {
        bad = "working set does not fit in the non-zero share of RAM";
    } else if (!(cfg->link_bandwidth > 0) || isinf(cfg->link_bandwidth)) {
        bad = "link bandwidth must be a positive number of bytes/s";
    } else if (!(cfg->zero_scan_rate > 0) || isinf(cfg->zero_scan_rate)) {
        bad = "zero-page scan rate must be a positive number of bytes/s";
    } else if (!(cfg->setup_ms >= 0) || !(cfg->switchover_ms >= 0) ||
               !(cfg->cancel_ms >= 0) || isinf(cfg->setup_ms) ||
               isinf(cfg->switchover_ms) || isinf(cfg->cancel_ms)) {
        bad = "setup, switchover and cancel times must be 0 ms or more";
    } else if (!(cfg->disk_dirty_rate >= 0) || isinf(cfg->disk_dirty_rate)) {
        bad = "disk dirty rate must be a finite number of bytes/s";
    } else if (cfg->disk_working_set_bytes > cfg->disk_bytes &&
               cfg->disk_dirty_rate > 0) {
        bad = "disk working set is larger than the disk";
    } else if (!(cfg->hash_rate > 0) || isinf(cfg->hash_rate)) {
        bad = "page hashing rate must be a positive number of bytes/s";
    } else if (cfg->dirty_ring &&
               (cfg->dirty_ring_size < 1024 || cfg->dirty_ring_size > 65536 ||
                (cfg->dirty_ring_size & (cfg->dirty_ring_size - 1)) != 0)) {
        bad = "dirty ring size must be a power of two in 1024..65536";
    } else if (cfg->vcpus < 1 || cfg->vcpus > 4096) {
        bad = "vCPUs must be 1 to 4096";
    } else if (!(cfg->channel_rate >= 0) || isinf(cfg->channel_rate) ||
               !(cfg->fault_rtt >= 0) || isinf(cfg->fault_rtt)) {
        bad = "channel rate and fault round trip must be 0 or more";
    }
    if (bad != NULL) {
        set_error(err, "GenericError", "%s", bad);
        return -1;
    }
    return 0;
}

void
fq_params_init(struct fq_params *p)
{
    memset(p, 0, sizeof(*p));
    p->downtime_limit = 300;
    p->max_bandwidth = 134217728;
    p->max_postcopy_bandwidth = 0;
    p->avail_switchover_bandwidth = 0;
    p->cpu_throttle_initial = 20;
    p->cpu_throttle_increment = 10;
    p->max_cpu_throttle = 99;
    p->throttle_trigger_threshold = 50;
    p->cpu_throttle_tailslow = false;
    p->multifd_channels = 2;
    p->vcpu_dirty_limit = 1;
}

struct fq_model *
fq_model_new(const struct fq_model_config *cfg, struct fq_error *err)
{
    struct fq_model *m;
    double ps;

    if (fq_model_config_check(cfg, err) < 0) {
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        set_error(err, "GenericError", "out of memory for the model");
        return NULL;
    }
    m->cfg = *cfg;
    fq_params_init(&m->params);
    m->dirty_rate = cfg->dirty_rate;
    m->status = FQ_STATUS_NONE;
    m->runstate = cfg->incoming ? FQ_RUN_INMIGRATE : FQ_RUN_RUNNING;
    m->phase = FQ_PHASE_IDLE;
    ps = (double)cfg->page_size;
    m->pages_total = floor((double)cfg->ram_bytes / ps);
    m->pages_ws = floor((double)cfg->working_set_bytes / ps);
    m->pages_zero = fmin(floor(m->pages_total * cfg->zero_share),
                         m->pages_total - m->pages_ws);
    m->pages_static = m->pages_total - m->pages_ws - m->pages_zero;
    return m;
}

void
fq_model_free(struct fq_model *m)
{
    if (m == NULL) {
        return;
    }
    free(m->events);
    free(m);
}

const struct fq_model_config *
fq_model_config(const struct fq_model *m)
{
    return &m->cfg;
}

const struct fq_params *
fq_model_params(const struct fq_model *m)
{
    return &m->params;
}

const struct fq_caps *
fq_model_caps(const struct fq_model *m)
{
    return &m->caps;
}

void
fq_model_set_params(struct fq_model *m, const struct fq_params *p)
{
    m->params = *p;
}

bool
fq_model_migrating(const struct fq_model *m)
{
    return m->phase != FQ_PHASE_IDLE;
}

int
fq_model_set_caps(struct fq_model *m, const struct fq_caps *c,
                  struct fq_error *err)
{
    if (fq_model_migrating(m)) {
        set_error(err, "GenericError",
                  "There's a migration process in progress");
        return -1;
    }
    if (c->dirty_limit && !m->cfg.dirty_ring) {
        set_error(err, "GenericError",
                  "dirty-limit requires KVM with accelerator property "
                  "'dirty-ring-size' set");
        return -1;
    }
    m->caps = *c;
    return 0;
}

/* migrate_prepare() and migrate_init(). */
int
fq_model_migrate(struct fq_model *m, const struct fq_migrate_args *a,
                 struct fq_error *err)
{
    if (fq_model_migrating(m)) {
        set_error(err, "GenericError",
                  "There's a migration process in progress");
        return -1;
    }
    if (m->runstate == FQ_RUN_POSTMIGRATE) {
        set_error(err, "GenericError",
                  "Can't migrate the vm that was "
                  "paused due to previous migration");
        return -1;
    }
    if (m->runstate == FQ_RUN_INMIGRATE) {
        set_error(err, "GenericError",
                  "Guest is waiting for an incoming migration");
        return -1;
    }
    if ((a->blk || a->inc) && m->caps.block) {
        set_error(err, "GenericError",
                  "Command options are incompatible "
                  "with current migration capabilities");
        return -1;
    }

    m->blk = a->blk || a->inc || m->caps.block;
    m->postcopy_requested = false;
    m->postcopy_started = false;
    m->vm_was_running = false;
    m->error_desc[0] = '\0';
    m->start_time = m->now;
    m->downtime_start = 0;
    m->setup_ms = 0;
    m->total_ms = 0;
    m->downtime_ms = 0;
    m->dirty_zero = 0;
    m->dirty_static = 0;
    m->dirty_ws = 0;
    m->log_ws = 0;
    m->ram_bytes = 0;
    m->duplicate = 0;
    m->normal = 0;
    m->precopy_bytes = 0;
    m->downtime_bytes = 0;
    m->postcopy_bytes = 0;
    m->postcopy_requests = 0;
    m->other_bytes = 0;
    m->multifd_bytes = 0;
    m->throttled_s = 0;
    m->blocked_s = 0;
    m->sync_count = 0;
    m->dirty_pages_rate = 0;
    m->remaining_at_sync = 0;
    m->period_new_pages = 0;
    m->period_bytes_prev = 0;
    m->high_count = 0;
    m->throttle = 0;
    m->win_start = m->now;
    m->win_bytes0 = 0;
    m->win_pages0 = 0;
    m->threshold = 0;
    m->mbps = 0;
    m->pages_per_second = 0;
    m->expected_downtime = (int64_t)m->params.downtime_limit;
    m->disk_total = m->blk ? (double)m->cfg.disk_bytes : 0;
    m->disk_bulk_done = 0;
    m->disk_dirty = 0;
    m->bulk_completed = !m->blk;

    fq_model_push_status(m, FQ_STATUS_SETUP);
    fq_step_begin_active(m);
    return 0;
}

void
fq_model_cancel(struct fq_model *m)
{
    if (m->caps.dirty_limit) {
        m->dl_in_service = false; /* migration_cancel() lifts it */
    }
    if (!fq_model_migrating(m) || m->phase == FQ_PHASE_CANCELLING) {
        return;
    }
    fq_model_push_status(m, FQ_STATUS_CANCELLING);
    /* an iterating thread notices at the end of its rate-limit window */
    m->phase_end = m->now;
    if (m->phase == FQ_PHASE_ITERATE && !m->stalled &&
        m->win_start + FQ_WINDOW_S > m->now) {
        m->phase_end = m->win_start + FQ_WINDOW_S;
    }
    m->phase_end += m->cfg.cancel_ms / 1000;
    m->phase = FQ_PHASE_CANCELLING;
}

int
fq_model_start_postcopy(struct fq_model *m, struct fq_error *err)
{
    if (!m->caps.postcopy_ram) {
        set_error(err, "GenericError",
                  "Enable postcopy with "
                  "migrate_set_capability before the "
                  "start of migration");
        return -1;
    }
    if (m->status == FQ_STATUS_NONE) {
        set_error(err, "GenericError",
                  "Postcopy must be started after "
                  "migration has been started");
        return -1;
    }
    if (m->phase == FQ_PHASE_ITERATE || m->phase == FQ_PHASE_SETUP) {
        m->postcopy_requested = true;
    }
    return 0;
}

int
fq_model_continue(struct fq_model *m, enum fq_status state,
                  struct fq_error *err)
{
    if (m->status != state || m->phase != FQ_PHASE_PAUSED) {
        set_error(err, "GenericError", "Migration not in expected state: %s",
                  fq_status_name(m->status));
        return -1;
    }
    if (m->postcopy_started) {
        /* 10.0: 'device' now, 'postcopy-active' once the state is out */
        fq_model_push_status(m, m->cfg.device_switchover
                                    ? FQ_STATUS_DEVICE
                                    : FQ_STATUS_POSTCOPY_ACTIVE);
        fq_step_postcopy(m);
    } else {
        fq_model_push_status(m, FQ_STATUS_DEVICE);
        fq_step_switchover(m);
    }
    return 0;
}

void
fq_model_stop(struct fq_model *m)
{
    if (m->runstate == FQ_RUN_RUNNING) {
        m->runstate = FQ_RUN_PAUSED;
        fq_model_push_event(m, FQ_EVENT_STOP);
    }
}

int
fq_model_cont(struct fq_model *m, struct fq_error *err)
{
    if (m->runstate == FQ_RUN_FINISH_MIGRATE) {
        set_error(err, "GenericError", "Migration is not finalized yet");
        return -1;
    }
    if (m->runstate != FQ_RUN_RUNNING) {
        m->runstate = FQ_RUN_RUNNING;
        fq_model_push_event(m, FQ_EVENT_RESUME);
    }
    return 0;
}

int
fq_model_fail(struct fq_model *m, const char *desc)
{
    if (!fq_model_migrating(m)) {
        return -1;
    }
    snprintf(m->error_desc, sizeof(m->error_desc), "%s", desc);
    fq_step_end(m, FQ_STATUS_FAILED);
    return 0;
}

void
fq_model_stall(struct fq_model *m, bool stalled)
{
    m->stalled = stalled;
}

void
fq_model_set_dirty_rate(struct fq_model *m, double pages_per_s)
{
    if (pages_per_s >= 0 && !isinf(pages_per_s)) {
        m->dirty_rate = pages_per_s;
    }
}

double
fq_model_now(const struct fq_model *m)
{
    return m->now;
}

enum fq_status
fq_model_status(const struct fq_model *m)
{
    return m->status;
}

enum fq_runstate
fq_model_runstate(const struct fq_model *m)
{
    return m->runstate;
}

static uint64_t
whole(double x)
{
    return x > 0 ? (uint64_t)llround(x) : 0;
}

/* populate_ram_info() */
static void
fill_ram(const struct fq_model *m, struct fq_migration_info *info)
{
    struct fq_migration_stats *r = &info->ram;
    uint64_t ps = m->cfg.page_size;

    info->has_ram = true;
    r->transferred = whole(m->ram_bytes);
    r->total = whole(m->pages_total) * ps;
    r->duplicate = whole(m->duplicate);
    r->normal = whole(m->normal);
    r->normal_bytes = r->normal * ps;
    r->mbps = m->mbps;
    r->dirty_sync_count = m->sync_count;
    r->postcopy_requests = whole(m->postcopy_requests);
    r->page_size = ps;
    r->pages_per_second = whole(floor(m->pages_per_second));
    r->precopy_bytes = whole(m->precopy_bytes);
    r->downtime_bytes = whole(m->downtime_bytes);
    r->postcopy_bytes = whole(m->postcopy_bytes);
    r->multifd_bytes = whole(m->multifd_bytes);
    if (m->throttle > 0) {
        info->has_cpu_throttle_percentage = true;
        info->cpu_throttle_percentage = m->throttle;
    }
    if (m->status != FQ_STATUS_COMPLETED) {
        r->remaining = (uint64_t)ceil(fq_ram_dirty_pages(m) - FQ_EPS) * ps;
        r->dirty_pages_rate = m->dirty_pages_rate;
    }
}

/* populate_disk_info(): only while block migration is active. */
static void
fill_disk(const struct fq_model *m, struct fq_migration_info *info)
{
    if (!m->blk || !fq_model_migrating(m)) {
        return;
    }
    info->has_disk = true;
    /* blk_mig_bytes_transferred() counts whole chunks, never the last */
    info->disk.transferred = (uint64_t)fmin(
        floor(m->disk_bulk_done / FQ_BLOCK_BYTES) * FQ_BLOCK_BYTES,
        fmax(0, m->disk_total - FQ_BLOCK_BYTES));
    info->disk.total = whole(m->disk_total);
    info->disk.remaining = info->disk.total - info->disk.transferred;
}

/* dirty-limit's members: with the capability, once it is in service. */
static void
fill_dirty_limit(const struct fq_model *m, struct fq_migration_info *info)
{
    double per_vcpu = m->dirty_rate / m->cfg.vcpus; /* pages/s, unlimited */
    double quota = (double)m->dl_quota * 1048576.0 / (double)m->cfg.page_size;
    double ring = (double)m->cfg.dirty_ring_size;

    if (!m->caps.dirty_limit || !m->dl_in_service || ring <= 0 ||
        !fq_model_migrating(m)) {
        return;
    }
    info->has_dirty_limit = true;
    /* the vCPU sleeps per full ring until its rate is the quota */
    if (per_vcpu > quota && quota > 0) {
        info->dirty_limit_throttle_us =
            (int64_t)(ring * 1e6 / quota - ring * 1e6 / per_vcpu);
    }
    info->dirty_limit_ring_full_us =
        per_vcpu > 0 ? (int64_t)(ring * 1e6 / fmin(per_vcpu, quota)) : 0;
}

/* fill_source_migration_info() */
void
fq_model_query(const struct fq_model *m, struct fq_migration_info *info)
{
    memset(info, 0, sizeof(*info));
    info->status = m->status;
    switch (m->status) {
    case FQ_STATUS_NONE:
    case FQ_STATUS_SETUP:
    case FQ_STATUS_CANCELLED:
    case FQ_STATUS_COLO:
    case FQ_STATUS_WAIT_UNPLUG:
    case FQ_STATUS__MAX:
        break;
    case FQ_STATUS_FAILED:
        if (m->error_desc[0] != '\0') {
            info->has_error_desc = true;
            snprintf(info->error_desc, sizeof(info->error_desc), "%s",
                     m->error_desc);
        }
        break;
    case FQ_STATUS_COMPLETED:
        info->has_setup_time = true;
        info->setup_time = m->setup_ms;
        info->has_total_time = true;
        info->total_time = m->total_ms;
        info->has_downtime = true;
        info->downtime = m->downtime_ms;
        fill_ram(m, info);
        break;
    case FQ_STATUS_ACTIVE:
    case FQ_STATUS_CANCELLING:
    case FQ_STATUS_POSTCOPY_ACTIVE:
    case FQ_STATUS_PRE_SWITCHOVER:
    case FQ_STATUS_DEVICE:
    case FQ_STATUS_POSTCOPY_PAUSED:
    case FQ_STATUS_POSTCOPY_RECOVER:
        info->has_setup_time = true;
        info->setup_time = m->setup_ms;
        info->has_total_time = true;
        info->total_time =
            (int64_t)floor((m->now - m->start_time) * 1000 + 1e-6);
        info->has_expected_downtime = true;
        info->expected_downtime = m->expected_downtime;
        fill_ram(m, info);
        fill_disk(m, info);
        if (m->status == FQ_STATUS_POSTCOPY_PAUSED && m->error_desc[0]) {
            info->has_error_desc = true;
            snprintf(info->error_desc, sizeof(info->error_desc), "%s",
                     m->error_desc);
        }
        break;
    }
    fill_dirty_limit(m, info);
}
