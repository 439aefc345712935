/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the model's private state, grouped by the file that owns it. */
#ifndef QMIGRATE_FAKE_MODEL_INTERNAL_H
#define QMIGRATE_FAKE_MODEL_INTERNAL_H

#include "tests/fake-qemu/model.h"

/* QEMU's BUFFER_DELAY: the rate-limit window and counter period. */
#define FQ_WINDOW_S 0.1
/* Bytes on the wire for a zero page and a normal page's header. */
#define FQ_ZERO_PAGE_BYTES 9.0
#define FQ_PAGE_HEADER_BYTES 8.0
/* QEMU's BLK_MIG_BLOCK_SIZE. */
#define FQ_BLOCK_BYTES 1048576.0
/* Below this many pages (or bytes) a fluid quantity counts as zero. */
#define FQ_EPS 1e-6

/* What the migration is doing, finer than the status QEMU reports. */
enum fq_phase {
    FQ_PHASE_IDLE,             /* no migration, or it ended */
    FQ_PHASE_SETUP,            /* status setup until phase_end */
    FQ_PHASE_ITERATE,          /* pre-copy passes */
    FQ_PHASE_PAUSED,           /* pre-switchover, waiting for continue */
    FQ_PHASE_SWITCHOVER,       /* guest stopped, last data going out */
    FQ_PHASE_POSTCOPY_SWITCH,  /* guest stopped, device state going out */
    FQ_PHASE_POSTCOPY,         /* guest on the destination, pages draining */
    FQ_PHASE_POSTCOPY_PAUSED,  /* the stream broke: nothing moves */
    FQ_PHASE_POSTCOPY_RECOVER, /* reconnecting until phase_end */
    FQ_PHASE_CANCELLING        /* status cancelling until phase_end */
};

struct fq_model {
    struct fq_model_config cfg;
    struct fq_params params;
    struct fq_caps caps;
    double now;
    double dirty_rate; /* pages/s, may be changed by a fault */

    enum fq_status status;
    enum fq_runstate runstate;
    enum fq_phase phase;
    double phase_end;
    bool stalled;
    bool blk; /* this migration copies the disk */
    bool postcopy_requested;
    bool postcopy_started; /* postcopy_start ran (status may lag) */
    bool vm_was_running;   /* QEMU's s->vm_was_running */
    bool need_check;       /* run the pending check before sending */
    char error_desc[256];

    /* time stamps, model seconds */
    double start_time;
    double downtime_start;
    int64_t setup_ms;
    int64_t total_ms;
    int64_t downtime_ms;

    /* RAM, in pages (fluid: fractions are fine) */
    double pages_total;
    double pages_ws;
    double pages_zero;
    double pages_static;
    double dirty_zero; /* the migration bitmap, by kind */
    double dirty_static;
    double dirty_ws;
    double log_ws; /* ws pages dirtied since the last sync */

    /* RAM counters (ram_counters) */
    double ram_bytes; /* ram.transferred */
    double duplicate;
    double normal;
    double precopy_bytes;
    double downtime_bytes;
    double postcopy_bytes;
    double postcopy_requests;
    double other_bytes; /* disk blocks on the same stream */
    uint64_t sync_count;
    uint64_t dirty_pages_rate;
    double remaining_at_sync; /* ram_counters.remaining, bytes */
    double period_start;      /* rs->time_last_bitmap_sync */
    double period_new_pages;  /* rs->num_dirty_pages_period */
    double period_bytes_prev; /* rs->bytes_xfer_prev */
    int high_count;           /* rs->dirty_rate_high_cnt */
    int throttle;             /* %, 0 when not throttling */

    /* the ~100 ms counter window (migration_update_counters) */
    double win_start;
    double win_bytes0;
    double win_pages0;
    double threshold; /* bytes */
    double mbps;
    double pages_per_second;
    int64_t expected_downtime;

    /* block migration */
    double disk_total;
    double disk_bulk_done;
    double disk_dirty;
    bool bulk_completed;

    /* calc-dirty-rate (model_dirtyrate.c) */
    struct fq_dirty_state {
        enum fq_dirty_status status;
        struct fq_dirty_args args;
        double start;     /* when calc-dirty-rate ran */
        double win_start; /* the pages' window, model seconds */
        double win_end;
        double done;       /* when the result is there */
        double ws_pages;   /* distinct pages written in the window */
        double ring_pages; /* ring entries in the window */
        double ring_fill;  /* entries since the last harvest */
        int64_t calc_ms;
        int64_t rate;   /* MiB/s */
        uint64_t count; /* measurements started, for the draws */
    } dirty;
    /* levers (model_levers.c) */
    double multifd_bytes; /* ram.multifd-bytes */
    bool dl_in_service;   /* a dirty-limit holds the vCPUs */
    uint64_t dl_quota;    /* MiB/s per vCPU */
    double throttled_s;   /* guest time lost to throttling */
    double blocked_s;     /* guest time blocked on post-copy faults */

    /* events not yet taken */
    struct fq_event *events;
    size_t ev_head;
    size_t ev_len;
    size_t ev_cap;
};

/* model_events.c */
void fq_model_push_event(struct fq_model *m, enum fq_event_type type);
void fq_model_push_status(struct fq_model *m, enum fq_status status);
void fq_model_push_pass(struct fq_model *m, uint64_t pass);

/* model_ram.c */
double fq_ram_dirty_pages(const struct fq_model *m);
double fq_stream_bytes(const struct fq_model *m);
double fq_sent_pages(const struct fq_model *m);
double fq_send_rate(const struct fq_model *m);
double fq_send(struct fq_model *m, double dt, double rate);
void fq_guest_run(struct fq_model *m, double dt);
void fq_bitmap_sync(struct fq_model *m);
void fq_window_update(struct fq_model *m);

/* model_dirtyrate.c */
/* The guest ran dt seconds from m->now at run (0..1) of its speed. */
void fq_dirty_guest_run(struct fq_model *m, double dt, double run);
/* Ends a measurement whose time is up (after time moved). */
void fq_dirty_settle(struct fq_model *m);

/* model_throttle.c */
void fq_throttle_trigger(struct fq_model *m);

/* model_levers.c */
/* Pages/s the guest dirties now, its dirty-limit applied (not the throttle). */
double fq_dirty_rate_now(const struct fq_model *m);
/* QEMU's trigger fired with dirty-limit on: the limit in service. */
void fq_dirty_limit_trigger(struct fq_model *m);
/* The stream's cap: one stream, or multifd's channels, at channel_rate. */
double fq_channels_rate(const struct fq_model *m, double rate);
/* The guest ran dt with this share of its time throttled. */
void fq_cost_throttled(struct fq_model *m, double dt);
/* The destination's guest ran dt in post-copy (paused: nothing arrives). */
void fq_cost_postcopy(struct fq_model *m, double dt, bool paused);
/* post-copy's phases beyond the drain: paused, recovering. */
void fq_step_postcopy_paused(struct fq_model *m, double end);

/* model_step.c */
void fq_step_begin_active(struct fq_model *m);
void fq_step_switchover(struct fq_model *m);
void fq_step_postcopy(struct fq_model *m);
void fq_step_end(struct fq_model *m, enum fq_status status);

#endif /* QMIGRATE_FAKE_MODEL_INTERNAL_H */
