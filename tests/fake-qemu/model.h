/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the pre-copy physics model of a migrating QEMU (no I/O). */
#ifndef QMIGRATE_FAKE_MODEL_H
#define QMIGRATE_FAKE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The model follows QEMU 7.2's migration thread (migration/migration.c,
 * ram.c, block.c) as described in docs/fake-qemu.md.  It never reads a
 * clock: time moves only in fq_model_advance(), in model seconds, so a
 * benchmark can run hours of migration in milliseconds.  All sizes are
 * bytes, rates bytes/s unless a name says pages, times as QEMU reports
 * them (ms) in struct fq_migration_info.
 */

/* QEMU's MigrationStatus, in QEMU's order. */
enum fq_status {
    FQ_STATUS_NONE,
    FQ_STATUS_SETUP,
    FQ_STATUS_CANCELLING,
    FQ_STATUS_CANCELLED,
    FQ_STATUS_ACTIVE,
    FQ_STATUS_POSTCOPY_ACTIVE,
    FQ_STATUS_POSTCOPY_PAUSED,
    FQ_STATUS_POSTCOPY_RECOVER,
    FQ_STATUS_COMPLETED,
    FQ_STATUS_FAILED,
    FQ_STATUS_COLO,
    FQ_STATUS_PRE_SWITCHOVER,
    FQ_STATUS_DEVICE,
    FQ_STATUS_WAIT_UNPLUG,
    FQ_STATUS__MAX
};

/* The source's run state, as query-status names it. */
enum fq_runstate {
    FQ_RUN_RUNNING,
    FQ_RUN_PAUSED,
    FQ_RUN_FINISH_MIGRATE,
    FQ_RUN_POSTMIGRATE,
    FQ_RUN_INMIGRATE, /* a destination, waiting for migrate-incoming */
    FQ_RUN__MAX
};

enum fq_event_type {
    FQ_EVENT_MIGRATION,      /* data: status */
    FQ_EVENT_MIGRATION_PASS, /* data: pass */
    FQ_EVENT_STOP,
    FQ_EVENT_RESUME
};

struct fq_event {
    enum fq_event_type type;
    double time;           /* model seconds */
    enum fq_status status; /* FQ_EVENT_MIGRATION */
    uint64_t pass;         /* FQ_EVENT_MIGRATION_PASS */
};

/* A refusal, worded as QEMU words it. */
struct fq_error {
    char cls[32]; /* QMP error class, e.g. "GenericError" */
    char desc[256];
};

/* The guest and the host: what the scenario fixes. */
struct fq_model_config {
    uint64_t ram_bytes;              /* ram.total */
    uint64_t page_size;              /* ram.page-size */
    uint64_t working_set_bytes;      /* the pages the guest keeps rewriting */
    double dirty_rate;               /* pages/s the guest writes, unthrottled */
    double zero_share;               /* share of all pages that are zero */
    bool zero_pages_last;            /* zero pages above the data, not mixed */
    double link_bandwidth;           /* bytes/s the wire carries */
    double zero_scan_rate;           /* bytes/s of zero pages checked */
    double setup_ms;                 /* setup status lasts this long */
    double switchover_ms;            /* device state and final sync, downtime */
    double cancel_ms;                /* cancelling lasts this long */
    uint64_t disk_bytes;             /* what blk copies; 0 means no disk */
    double disk_dirty_rate;          /* bytes/s the guest writes to disk */
    uint64_t disk_working_set_bytes; /* where those writes land */
    unsigned vcpus;                  /* the guest's, dirtying alike (1) */
    double channel_rate;    /* bytes/s one stream (or channel) carries; 0 any */
    double fault_rtt;       /* s a post-copy page request takes, wire aside */
    bool incoming;          /* a destination: waits for migrate-incoming */
    bool device_switchover; /* 10.0: the switchover is status 'device' */
    /* KVM's dirty ring: calc-dirty-rate's mode, and dirty-limit's need */
    bool dirty_ring;          /* KVM runs with a dirty ring */
    uint64_t dirty_ring_size; /* its entries per vCPU */
    double hash_rate;         /* bytes/s of sampled pages hashed */
    uint64_t seed;            /* page sampling's random draws */
};

/* The migration parameters the model uses (migrate-set-parameters). */
struct fq_params {
    uint64_t downtime_limit;             /* ms */
    uint64_t max_bandwidth;              /* bytes/s, 0 = unlimited */
    uint64_t max_postcopy_bandwidth;     /* bytes/s, 0 = unlimited */
    uint64_t avail_switchover_bandwidth; /* bytes/s, 0 = measure (8.2+) */
    int cpu_throttle_initial;            /* % */
    int cpu_throttle_increment;          /* % */
    int max_cpu_throttle;                /* % */
    int throttle_trigger_threshold;      /* % */
    bool cpu_throttle_tailslow;
    int multifd_channels;      /* multifd's connections */
    uint64_t vcpu_dirty_limit; /* MiB/s per vCPU, dirty-limit's (8.1+) */
};

/* The capabilities the model uses (migrate-set-capabilities). */
struct fq_caps {
    bool events;
    bool auto_converge;
    bool postcopy_ram;
    bool pause_before_switchover;
    bool block;
    bool multifd;
    bool dirty_limit;
    bool postcopy_preempt;
};

struct fq_migrate_args {
    bool blk;
    bool inc;
};

/* QEMU's MigrationStats; every member is printed, as QEMU does. */
struct fq_migration_stats {
    uint64_t transferred;
    uint64_t remaining;
    uint64_t total;
    uint64_t duplicate;
    uint64_t normal;
    uint64_t normal_bytes;
    uint64_t dirty_pages_rate;
    double mbps;
    uint64_t dirty_sync_count;
    uint64_t postcopy_requests;
    uint64_t page_size;
    uint64_t multifd_bytes;
    uint64_t pages_per_second;
    uint64_t precopy_bytes;
    uint64_t downtime_bytes;
    uint64_t postcopy_bytes;
    uint64_t dirty_sync_missed_zero_copy;
};

/* QEMU's MigrationInfo for the source; has_* say what is present. */
struct fq_migration_info {
    enum fq_status status; /* FQ_STATUS_NONE: query-migrate says {} */
    bool has_ram;
    struct fq_migration_stats ram;
    bool has_disk;
    struct fq_migration_stats disk;
    bool has_total_time;
    int64_t total_time;
    bool has_expected_downtime;
    int64_t expected_downtime;
    bool has_downtime;
    int64_t downtime;
    bool has_setup_time;
    int64_t setup_time;
    bool has_cpu_throttle_percentage;
    int64_t cpu_throttle_percentage;
    bool has_error_desc;
    char error_desc[256];
    bool has_dirty_limit; /* dirty-limit in service (8.1+ reports it) */
    int64_t dirty_limit_throttle_us;  /* dirty-limit-throttle-time-per-round */
    int64_t dirty_limit_ring_full_us; /* dirty-limit-ring-full-time */
};

/* What the migration cost the guest so far (model seconds). */
struct fq_guest_cost {
    double throttled_s; /* guest time lost to auto-converge or dirty-limit */
    double blocked_s;   /* guest time blocked on post-copy page faults */
    double faults;      /* post-copy page requests */
};

struct fq_model;

/* Fills cfg with the defaults documented in docs/fake-qemu.md. */
void fq_model_config_init(struct fq_model_config *cfg);
/* Checks a configuration; -1 with a message naming the bad field. */
int fq_model_config_check(const struct fq_model_config *cfg,
                          struct fq_error *err);
/* Fills p with QEMU 7.2's defaults. */
void fq_params_init(struct fq_params *p);

/* A new model at time 0, guest running; NULL with a message. */
struct fq_model *fq_model_new(const struct fq_model_config *cfg,
                              struct fq_error *err);
void fq_model_free(struct fq_model *m);

/* Borrowed pointers, valid until the next call that changes the model. */
const struct fq_model_config *fq_model_config(const struct fq_model *m);
const struct fq_params *fq_model_params(const struct fq_model *m);
const struct fq_caps *fq_model_caps(const struct fq_model *m);

/* Takes effect at once, as in QEMU (ranges are checked by the caller). */
void fq_model_set_params(struct fq_model *m, const struct fq_params *p);
/* Refused while a migration runs, as QEMU refuses it. */
int fq_model_set_caps(struct fq_model *m, const struct fq_caps *c,
                      struct fq_error *err);

/* The commands.  Each returns 0, or -1 with QEMU's error. */
int fq_model_migrate(struct fq_model *m, const struct fq_migrate_args *a,
                     struct fq_error *err);
/* Succeeds even when nothing runs, as migrate_cancel does. */
void fq_model_cancel(struct fq_model *m);
int fq_model_start_postcopy(struct fq_model *m, struct fq_error *err);
int fq_model_continue(struct fq_model *m, enum fq_status state,
                      struct fq_error *err);
void fq_model_stop(struct fq_model *m);
int fq_model_cont(struct fq_model *m, struct fq_error *err);

/* Faults.  fq_model_fail returns -1 when no migration runs. */
int fq_model_fail(struct fq_model *m, const char *desc);
/* While stalled the wire carries nothing and the migration thread waits. */
void fq_model_stall(struct fq_model *m, bool stalled);
/* Replaces the guest's dirty rate (pages/s) from now on. */
void fq_model_set_dirty_rate(struct fq_model *m, double pages_per_s);

/* Post-copy recovery (model_levers.c).  migrate-pause: -1 unless in
 * postcopy-active or -recover. */
int fq_model_pause(struct fq_model *m, struct fq_error *err);
/* The stream breaks (a network fault): post-copy pauses, pre-copy fails.
 * -1 when no migration runs. */
int fq_model_break_stream(struct fq_model *m, const char *desc);
/*
 * migrate with resume: -1 unless postcopy-paused.  reachable: something
 * listens at the URI (migrate-recover ran there); else the attempt fails
 * later and the migration stays paused, as QEMU's does.
 */
int fq_model_resume(struct fq_model *m, bool reachable, struct fq_error *err);
/* dirty-limit (8.1+ migration, 7.1+ commands). */
int fq_model_set_dirty_limit(struct fq_model *m, uint64_t mib_s,
                             struct fq_error *err);
int fq_model_cancel_dirty_limit(struct fq_model *m, struct fq_error *err);
/* The per-vCPU limit in service, MiB/s; 0: none. */
uint64_t fq_model_dirty_limit(const struct fq_model *m);
/* The guest's dirty rate now (pages/s of one vCPU), for query. */
double fq_model_vcpu_dirty_rate(const struct fq_model *m);
void fq_model_guest_cost(const struct fq_model *m, struct fq_guest_cost *c);

/* Moves model time on by dt seconds (dt >= 0). */
void fq_model_advance(struct fq_model *m, double dt);
double fq_model_now(const struct fq_model *m);
enum fq_status fq_model_status(const struct fq_model *m);
enum fq_runstate fq_model_runstate(const struct fq_model *m);
/* True from migrate until completed, failed or cancelled. */
bool fq_model_migrating(const struct fq_model *m);

/* Fills info as QEMU's query-migrate would at this instant. */
void fq_model_query(const struct fq_model *m, struct fq_migration_info *info);

/* Takes the oldest queued event: 1 and *ev filled, or 0 when none. */
int fq_model_next_event(struct fq_model *m, struct fq_event *ev);

/*
 * calc-dirty-rate / query-dirty-rate (model_dirtyrate.c), as QEMU's
 * migration/dirtyrate.c measures: page-sampling hashes sample-pages
 * random pages per GiB of RAM before and after calc-time and counts the
 * changed ones; dirty-bitmap counts every page dirtied (no dirty ring);
 * dirty-ring counts the ring's entries (a dirty ring only).
 */
enum fq_dirty_mode {
    FQ_DIRTY_PAGE_SAMPLING = 0,
    FQ_DIRTY_BITMAP,
    FQ_DIRTY_RING,
};

enum fq_dirty_status {
    FQ_DIRTY_UNSTARTED = 0,
    FQ_DIRTY_MEASURING,
    FQ_DIRTY_MEASURED,
};

struct fq_dirty_args {
    int64_t calc_time_ms;  /* the QMP layer converts calc-time-unit */
    bool has_sample_pages; /* else QEMU's 512 per GiB */
    uint64_t sample_pages;
    enum fq_dirty_mode mode;
    bool before_80; /* QEMU < 8.0: only dirty-ring refuses sample-pages */
};

/* DirtyRateInfo, times in model time. */
struct fq_dirty_info {
    enum fq_dirty_status status;
    double start_time;    /* model seconds when it started */
    int64_t calc_time_ms; /* the period QEMU measured over */
    uint64_t sample_pages;
    enum fq_dirty_mode mode;
    bool has_dirty_rate;
    int64_t dirty_rate; /* MiB/s, QEMU's integer */
    bool has_vcpu_dirty_rate;
    int64_t vcpu_dirty_rate; /* the fake's one vCPU, ring mode */
};

/* QEMU's limits on calc-dirty-rate's arguments. */
#define FQ_DIRTY_SAMPLE_PAGES_DEFAULT 512
#define FQ_DIRTY_SAMPLE_PAGES_MIN 128
#define FQ_DIRTY_SAMPLE_PAGES_MAX 16384

/*
 * Starts a measurement (the ranges of calc-time are the QMP layer's, as
 * they depend on the version).  -1 with QEMU's error: one already runs,
 * sample-pages out of range or outside page-sampling, a mode this guest's
 * accelerator cannot do.
 */
int fq_model_calc_dirty_rate(struct fq_model *m, const struct fq_dirty_args *a,
                             struct fq_error *err);
/* What query-dirty-rate says at this instant. */
void fq_model_query_dirty_rate(const struct fq_model *m,
                               struct fq_dirty_info *info);
/* "page-sampling", "dirty-bitmap", "dirty-ring"; NULL out of range. */
const char *fq_dirty_mode_name(enum fq_dirty_mode mode);
/* -1 when name is none of them. */
int fq_dirty_mode_from_name(const char *name);
/* "unstarted", "measuring", "measured". */
const char *fq_dirty_status_name(enum fq_dirty_status s);
/*
 * A changing guest: from now on it rewrites bytes of RAM (rounded down
 * to pages, at most what is not zero pages).  Pages joining the working
 * set keep whether they are dirty; so do pages leaving it.
 */
void fq_model_set_working_set(struct fq_model *m, uint64_t bytes);

/* QEMU's names; NULL for a value out of range. */
const char *fq_status_name(enum fq_status s);
const char *fq_runstate_name(enum fq_runstate r);
/* -1 when name is not a MigrationStatus. */
int fq_status_from_name(const char *name);

#endif /* QMIGRATE_FAKE_MODEL_H */
