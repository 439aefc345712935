/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: pure decisions: (config, state, sample) -> (state, actions). */
#ifndef QMIGRATE_POLICY_H
#define QMIGRATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Nothing in policy/ does I/O, reads a clock or allocates in policy_step():
 * time arrives in the sample, decisions leave as actions.  The formulas are
 * written out in docs/policy.md.
 */

#define POLICY_REASON_MAX 240
#define POLICY_MAX_ACTIONS 4
#define POLICY_MAX_DISKS 16
#define POLICY_MAX_SCHEDULE 32
#define POLICY_NAME_MAX 64

enum policy_kind {
    POLICY_ADAPTIVE = 0, /* ours, the default */
    POLICY_NOVA,         /* OpenStack Nova's libvirt driver */
    POLICY_VDSM,         /* oVirt VDSM's convergence schedule */
    POLICY_PROXMOX,      /* Proxmox VE's downtime doubling (baseline) */
    POLICY_PRAY,         /* launch and pray: never acts (baseline) */
    POLICY_KUBEVIRT,     /* KubeVirt's 2026 alpha tuning (baseline) */
};

/*
 * --preflight: measure the guest's dirty rate before migrate (QEMU's
 * calc-dirty-rate) and, for adaptive, act on the verdict.  DEFAULT is
 * decide for adaptive and off for the others, which never act on it.
 */
enum policy_preflight {
    POLICY_PREFLIGHT_DEFAULT = 0,
    POLICY_PREFLIGHT_OFF,
    POLICY_PREFLIGHT_MEASURE, /* measure and report only */
    POLICY_PREFLIGHT_DECIDE,  /* act on the verdict (adaptive) */
};

enum policy_timeout_action {
    POLICY_TIMEOUT_ABORT = 0,
    POLICY_TIMEOUT_FORCE_COMPLETE,
};

/* QEMU's MigrationStatus values (qapi/migration.json), plus NONE for "{}". */
enum migration_status {
    MIGRATION_STATUS_NONE = 0,
    MIGRATION_STATUS_SETUP,
    MIGRATION_STATUS_CANCELLING,
    MIGRATION_STATUS_CANCELLED,
    MIGRATION_STATUS_ACTIVE,
    MIGRATION_STATUS_POSTCOPY_ACTIVE,
    MIGRATION_STATUS_POSTCOPY_PAUSED,
    MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP,
    MIGRATION_STATUS_POSTCOPY_RECOVER,
    MIGRATION_STATUS_COMPLETED,
    MIGRATION_STATUS_FAILED,
    MIGRATION_STATUS_COLO,
    MIGRATION_STATUS_PRE_SWITCHOVER,
    MIGRATION_STATUS_DEVICE,
    MIGRATION_STATUS_WAIT_UNPLUG,
    MIGRATION_STATUS_UNKNOWN, /* a value this build does not know */
};

/* QEMU's spelling ("postcopy-active"); "none", "unknown" for those. */
const char *migration_status_name(enum migration_status status);
/* Inverse of the above; MIGRATION_STATUS_UNKNOWN for anything else. */
enum migration_status migration_status_from_name(const char *name);
/* completed, failed, cancelled: QEMU will not change it again. */
bool migration_status_is_final(enum migration_status status);
/* postcopy-active, -paused, -recover(-setup): the guest runs on the dest. */
bool migration_status_is_postcopy(enum migration_status status);

/* calc-dirty-rate's modes; page-sampling works under TCG and KVM. */
enum policy_dirty_mode {
    POLICY_DIRTY_PAGE_SAMPLING = 0,
    POLICY_DIRTY_RING,   /* KVM with a dirty ring only */
    POLICY_DIRTY_BITMAP, /* KVM without a dirty ring; not used */
};

/*
 * One result of QEMU's calc-dirty-rate, read from query-dirty-rate once
 * its status is "measured".  dirty-rate is MiB/s of distinct pages
 * dirtied over calc-time (QEMU truncates it to an integer).
 */
struct policy_dirty_rate {
    double t_start;        /* job seconds when calc-dirty-rate returned */
    double t_end;          /* job seconds when query-dirty-rate said so */
    uint64_t calc_time_ms; /* calc-time in ms (QEMU < 8.2: seconds x 1000) */
    int64_t dirty_rate;    /* MiB/s; -1 when QEMU measured nothing */
    uint64_t sample_pages; /* per GiB as reported; 0 outside sampling */
    enum policy_dirty_mode mode;
};

/*
 * One instant of a migration, as the job read it from query-migrate (and
 * query-block-jobs for mirrored disks).  Byte counts are bytes; zero where
 * QEMU reported nothing.
 */
struct policy_sample {
    double t; /* seconds since the job started */
    enum migration_status status;
    uint64_t ram_total;
    uint64_t ram_remaining;
    uint64_t ram_transferred;
    uint64_t ram_dirty_pages_rate; /* pages/s, QEMU's ram.dirty-pages-rate */
    uint64_t ram_page_size;        /* bytes; 4096 when QEMU omits it */
    uint64_t ram_dirty_sync_count; /* QEMU's pass number */
    double ram_mbps;               /* megabits/s, QEMU's ram.mbps */
    uint64_t disk_total;           /* all disks being copied */
    uint64_t disk_remaining;
    uint64_t disk_transferred;
    int64_t expected_downtime_ms;   /* -1 when QEMU gave none */
    uint64_t downtime_limit_ms;     /* the limit in force now */
    uint64_t bandwidth_limit;       /* max-bandwidth, bytes/s; 0 unlimited */
    int throttle_percent;           /* cpu-throttle-percentage, 0 if absent */
    bool pass_event;                /* MIGRATION_PASS since the last sample */
    uint64_t ram_multifd_bytes;     /* ram.multifd-bytes (in transferred) */
    uint64_t ram_postcopy_requests; /* ram.postcopy-requests: page faults */
    uint64_t dirty_limit_mib_s;     /* per vCPU, in force; 0: none */
    /* dirty-limit-throttle-time-per-round, us; -1 when QEMU gave none */
    int64_t dirty_limit_throttle_us;
    /* A calc-dirty-rate that ended since the last sample (see below). */
    bool dirty_measured;
    struct policy_dirty_rate dirty;
};

enum policy_action_kind {
    POLICY_ACTION_SET_DOWNTIME = 0, /* value: ms */
    POLICY_ACTION_SET_BANDWIDTH,    /* value: bytes/s, 0 unlimited */
    POLICY_ACTION_AUTO_CONVERGE,    /* make QEMU's CPU throttle act now */
    POLICY_ACTION_START_POSTCOPY,
    POLICY_ACTION_PAUSE,       /* stop the guest so the rest drains */
    POLICY_ACTION_CANCEL,      /* abort: the guest stays on the source */
    POLICY_ACTION_DIRTY_LIMIT, /* value: MiB/s per vCPU (QEMU's dirty-limit) */
    /*
     * The engine's own steps of post-copy recovery, never a policy's:
     * told as actions so that every step shows (docs/engine.md).
     */
    POLICY_ACTION_BREAK_STREAM, /* migrate-pause: a stalled stream broken */
    POLICY_ACTION_RECOVER,      /* migrate-recover on the destination */
    POLICY_ACTION_RESUME,       /* migrate with resume on the source */
};

/*
 * "set-downtime", "set-bandwidth", "auto-converge", "start-postcopy",
 * "pause", "cancel", "dirty-limit", "migrate-pause", "migrate-recover",
 * "migrate-resume"
 */
const char *policy_action_name(enum policy_action_kind kind);

/* The action carries a value: set-downtime, set-bandwidth, dirty-limit. */
bool policy_action_has_value(enum policy_action_kind kind);

struct policy_action {
    enum policy_action_kind kind;
    uint64_t value; /* for SET_DOWNTIME, SET_BANDWIDTH, DIRTY_LIMIT */
    char reason[POLICY_REASON_MAX]; /* one line, names the numbers */
};

/* What an operator sees for each sample, whatever the policy. */
struct policy_report {
    double memory_percent;        /* RAM not left to send, 0..100 */
    double disk_percent;          /* 0..100; 100 when no disk is copied */
    double percent;               /* combined; never back; < 100 till done */
    uint64_t dirty_rate;          /* bytes/s */
    uint64_t bandwidth;           /* bytes/s measured */
    uint64_t iteration;           /* pass number */
    double eta_s;                 /* seconds to completion; < 0 unknown */
    char eta_note[80];            /* why the ETA is unknown, "" otherwise */
    double since_low_watermark_s; /* since remaining last beat its low */
    /* Copied from the sample, so a report can be shown on its own. */
    enum migration_status status;
    double elapsed_s; /* seconds since the first sample */
    uint64_t memory_total, memory_remaining, memory_transferred;
    uint64_t disk_total, disk_remaining, disk_transferred;
    uint64_t downtime_limit_ms;   /* in force now */
    int64_t expected_downtime_ms; /* QEMU's; -1 when none */
    int throttle_percent;
};

struct policy_output {
    size_t n_actions;
    struct policy_action actions[POLICY_MAX_ACTIONS];
    struct policy_report report;
};

/* VDSM convergence schedule entries. */
enum policy_schedule_verb {
    POLICY_SCHEDULE_SET_DOWNTIME = 0,
    POLICY_SCHEDULE_POSTCOPY,
    POLICY_SCHEDULE_ABORT,
};

struct policy_schedule_entry {
    /* Fires when iterations since the start exceed it; -1: the next one. */
    int limit;
    enum policy_schedule_verb verb;
    uint64_t downtime_ms; /* for SET_DOWNTIME */
};

/*
 * How --policy vdsm drives the downtime (docs/policy.md, "vdsm"):
 * ENTRIES is VDSM's convergence schedule (the profiles and files);
 * LEGACY is VDSM's schedule computed for a legacy migration, exponential
 * values from --downtime and --downtime-steps on iterations 1, 2, ...;
 * TIMED is VDSM's pre-2019 DowntimeThread, the same values on a timer.
 */
enum policy_schedule_mode {
    POLICY_SCHEDULE_ENTRIES = 0,
    POLICY_SCHEDULE_LEGACY,
    POLICY_SCHEDULE_TIMED,
};

struct policy_schedule {
    char name[POLICY_NAME_MAX];
    uint64_t init_downtime_ms; /* the init action; 0: none */
    size_t n_entries;
    struct policy_schedule_entry entries[POLICY_MAX_SCHEDULE];
    enum policy_schedule_mode mode; /* ENTRIES unless a profile says */
};

struct policy_config {
    enum policy_kind kind;
    uint64_t downtime_ms;         /* --downtime, final limit (500) */
    uint64_t downtime_initial_ms; /* --downtime-initial, adaptive's (300) */
    unsigned downtime_steps;      /* --downtime-steps (10) */
    double downtime_delay_s;      /* --downtime-delay, s per GiB (75) */
    double completion_timeout_s;  /* --completion-timeout, s/GiB (800); 0 off */
    double progress_timeout_s;    /* --progress-timeout (150); 0 off */
    bool progress_timeout_given;  /* nova: off unless given */
    enum policy_timeout_action timeout_action;
    bool postcopy_permitted;      /* --postcopy */
    bool auto_converge_permitted; /* --auto-converge */
    bool dirty_limit_permitted;   /* --dirty-limit (preferred to the above) */
    unsigned vcpus;               /* the guest's; 0 unknown (taken as 1) */
    uint64_t bandwidth;           /* --bandwidth in bytes/s; 0 unlimited */
    size_t n_disks;               /* disks copied, for Nova's 2 GiB floor */
    uint64_t disk_bytes[POLICY_MAX_DISKS];
    struct policy_schedule schedule; /* vdsm */
    enum policy_preflight preflight; /* --preflight */
    bool completion_timeout_given;   /* kubevirt: 150 s/GiB unless given */
};

/* Bounds that policy_config_validate() enforces. */
#define POLICY_DOWNTIME_MAX_MS 2000000 /* QEMU's downtime-limit maximum */
#define POLICY_STEPS_MAX 1000
#define POLICY_NOVA_DOWNTIME_MIN_MS 100
#define POLICY_NOVA_STEPS_MIN 3
#define POLICY_NOVA_DELAY_MIN_S 3

/*
 * Defaults: adaptive, downtime 500, initial 300, 10 steps, 75 s/GiB,
 * completion 800 s/GiB, progress 150 s (not given), abort, unlimited
 * bandwidth, no disks, the "minimal-downtime" schedule.
 */
void policy_config_init(struct policy_config *cfg);

/* KubeVirt's completionTimeoutPerGiB, --policy kubevirt's default. */
#define POLICY_KUBEVIRT_PER_GIB_S 150

/*
 * Refuses what cannot work, with a message naming the option and value:
 * 0, or -1 with err filled.  It changes cfg in two cases only: the default
 * --downtime-initial 300 is lowered to a --downtime below it (a value
 * other than 300 above --downtime is refused); under --policy kubevirt
 * a --completion-timeout not given becomes KubeVirt's 150.  See
 * docs/policy.md.
 */
int policy_config_validate(struct policy_config *cfg, char *err, size_t errlen);

/* "adaptive", "nova", "vdsm", "proxmox", "pray", "kubevirt". */
const char *policy_kind_name(enum policy_kind kind);
/* 0 and *kind set, or -1 for an unknown name. */
int policy_kind_from_name(const char *name, enum policy_kind *kind);

/*
 * oVirt's stock schedules: "minimal-downtime", "suspend-workload",
 * "post-copy", "very-large-vms"; and "legacy", "timed" (VDSM's legacy
 * paths, computed from --downtime/--downtime-steps).  0, or -1 when the
 * name is none of these (out untouched).
 */
int policy_schedule_profile(const char *name, struct policy_schedule *out);

/*
 * Parses a schedule file's text (format in docs/policy.md).  filename is
 * only used in messages and as the schedule's name.  0, or -1 with err
 * "FILE:LINE: what is wrong" and out untouched.  No I/O.
 */
int policy_schedule_parse(const char *text, const char *filename,
                          struct policy_schedule *out, char *err,
                          size_t errlen);

/* What the samples said over time; every policy and the report use it. */
struct policy_track {
    bool started;        /* a sample was seen */
    double t0;           /* time of the first sample */
    uint64_t moved_prev; /* ram + disk transferred, last sample */
    double t_moved;      /* when that total last grew */
    bool bw_valid;
    double bw_ref_t; /* bandwidth window start */
    uint64_t bw_ref_bytes;
    double bandwidth;      /* bytes/s over the last window */
    double t_prev;         /* time of the last sample */
    double still_window_s; /* of the window, time nothing moved */
    bool have_base;        /* the first running sample was seen */
    uint64_t sync;         /* last pass number seen */
    bool boundary;         /* this sample began a new pass */
    double t_boundary;     /* time of the last pass start seen */
    uint64_t moved_boundary;
    double pass_bandwidth;     /* bytes/s over the last whole pass */
    double pass_s;             /* its length */
    double pass_moving_s;      /* of which the stream moved */
    double still_pass_s;       /* this pass so far, time nothing moved */
    uint64_t ram_rem_prev;     /* RAM remaining, last running sample */
    uint64_t ram_xfer_prev;    /* RAM transferred, same sample */
    size_t n_rem;              /* valid entries below, newest first */
    uint64_t rem_at_sync[3];   /* RAM remaining as each pass began */
    uint64_t dirt_at_sync[3];  /* of which dirtied during the last pass */
    uint64_t sync_at[3];       /* and its pass number */
    uint64_t low_total;        /* lowest ram+disk remaining, first pass */
    uint64_t low_disk;         /* lowest disk remaining */
    uint64_t low_post;         /* lowest remaining in post-copy */
    uint64_t best_sync_rem;    /* lowest RAM remaining at a pass start */
    double t_low;              /* when any of these last fell */
    unsigned passes_since_low; /* pass starts since then */
    double percent;            /* combined percent, never goes back */
};

struct policy_nova_state {
    double data_gb;       /* fixed at the first sample with RAM */
    uint64_t downtime_ms; /* last step applied; 0: none */
    bool have_watermark;
    uint64_t watermark; /* old progress rule */
    double t_watermark;
};

struct policy_vdsm_state {
    struct policy_schedule schedule; /* LEGACY: computed entries */
    size_t next;                     /* next entry to fire */
    bool have_initial;
    uint64_t initial_iteration;
    uint64_t last_iteration;
    double t_poll;       /* VDSM's last monitor poll (every 10 s) */
    bool thread_started; /* TIMED: the DowntimeThread runs */
    double t_thread;
    unsigned thread_step; /* next exponential step to apply */
    bool have_lowmark;
    uint64_t lowmark;
    double t_progress;
};

/* adaptive's dirty-limit rung (policy/dirtylimit.c). */
struct policy_dirty_limit_state {
    uint64_t mib_s;     /* the per-vCPU limit set last; 0: none yet */
    uint64_t set_sync;  /* the pass in which it was set */
    unsigned tightened; /* times it was lowered since */
    bool exhausted;     /* at the floor and still stalled */
};

struct policy_adaptive_state {
    unsigned evidence;      /* pass starts in a row: stalled, too big */
    unsigned flat;          /* pass starts in a row not shrinking */
    uint64_t clean_sync;    /* first pass not shared with a disk bulk */
    bool throttle_released; /* we emitted auto-converge */
    int throttle_last;      /* throttle at the last pass start */
    unsigned throttle_idle; /* pass starts since it last rose */
    double t_throttle;      /* when it last rose (or was released) */
    unsigned postcopy_wait; /* pass starts since start-postcopy */
    bool postcopy_failed;   /* still pre-copy after that: it failed */
    struct policy_dirty_limit_state dl;
};

/* --policy kubevirt: VEP 248's stall detector and VEP 291's tuning. */
#define POLICY_KUBEVIRT_RECORDS 512
struct policy_kubevirt_state {
    double ewma_bw; /* bytes/s; 0 until the first sample */
    size_t n_rec;   /* iteration records still inside the window */
    double rec_t[POLICY_KUBEVIRT_RECORDS];
    uint64_t rec_rem[POLICY_KUBEVIRT_RECORDS];
    bool have_outside;
    uint64_t outside_min; /* least remaining among records aged out */
    bool stalled;
    uint64_t best; /* bestRemainingBytes */
    size_t n_hist; /* remaining since the stall, not yet used */
    uint64_t hist[POLICY_KUBEVIRT_RECORDS];
    double patience_s;
    double deadline;        /* relaxation deadline (elapsed s) */
    bool switched;          /* soft stop-and-copy set: downtime maxDowntime */
    double switch_deadline; /* abort if not done by then */
    double budget_s;        /* completionTimeoutPerGiB x GB */
    bool tuning_started;    /* iteration reached startAfterIteration */
    double t_tuned;         /* last increase (or the start of the cooldown) */
    uint64_t tuned_ms;      /* the downtime the ramp set last */
};

struct policy_proxmox_state {
    uint64_t last_transferred;
    uint64_t last_remaining;
    unsigned counter;
};

/* What this QEMU can measure; the job probes it (query-version, schema). */
struct policy_measure_caps {
    bool calc_dirty_rate; /* the command exists (QEMU 5.2+) */
    bool sample_pages;    /* sample-pages and mode (6.1+) */
    bool milliseconds;    /* calc-time-unit "millisecond" (8.2+) */
    bool dirty_ring;      /* -accel kvm,dirty-ring-size=N */
};

/* One calc-dirty-rate for the job to run. */
struct policy_measure_request {
    uint64_t calc_time;    /* in seconds, or ms when milliseconds */
    bool milliseconds;     /* send "calc-time-unit": "millisecond" */
    uint64_t sample_pages; /* per GiB; 0: leave it out (QEMU's 512) */
    enum policy_dirty_mode mode;
};

/* The verdict of the preflight (docs/policy.md, "preflight"). */
enum policy_verdict {
    POLICY_VERDICT_NONE = 0,  /* nothing measured (yet), or off */
    POLICY_VERDICT_CONVERGES, /* at the initial downtime */
    POLICY_VERDICT_DOWNTIME,  /* with downtime_ms, set from t = 0 */
    POLICY_VERDICT_LEVER,     /* needs one of levers, permitted */
    POLICY_VERDICT_HOPELESS,  /* nothing permitted can work: refuse */
    POLICY_VERDICT_UNSETTLED, /* measured, cannot tell: pass by pass */
};

/* The levers a verdict may need (bits). */
#define POLICY_LEVER_AUTO_CONVERGE 1u
#define POLICY_LEVER_POSTCOPY 2u
#define POLICY_LEVER_PAUSE 4u       /* --timeout-action force-complete */
#define POLICY_LEVER_DIRTY_LIMIT 8u /* --dirty-limit */

/* What the measurements say about the guest, bytes and seconds. */
struct policy_estimate {
    size_t n;            /* measurements behind it (this epoch) */
    bool steady;         /* one steady guest explains them all */
    double rate_lo;      /* distinct bytes/s it dirties, lower bound */
    double rate_hi;      /* upper bound; INFINITY when unknown */
    double ws_lo, ws_hi; /* working set, bytes (ws_hi: RAM if unknown) */
    double rate_est;     /* point estimates (no margin), for planning */
    double ws_est;
    double bandwidth; /* bytes/s the verdict assumes */
    double need_lo_s; /* downtime the switch-over needs, bounds */
    double need_hi_s;
};

#define POLICY_MEASURE_MAX 24

struct policy_preflight_report {
    enum policy_verdict verdict;
    uint64_t downtime_ms; /* DOWNTIME: the limit to set */
    unsigned levers;      /* LEVER: POLICY_LEVER_* needed and permitted */
    size_t decided_by;    /* the measurement that decided, from 1; 0 none */
    double t;             /* job seconds of the verdict */
    struct policy_estimate est;
    char reason[POLICY_REASON_MAX]; /* the numbers; the deciding one */
};

struct policy_preflight_state {
    enum policy_preflight mode; /* the effective one */
    struct policy_measure_caps caps;
    uint64_t ram_bytes;
    bool started;
    bool migrating;    /* migrate ran: results come in samples */
    bool finished;     /* policy_preflight_finish() ran */
    bool running;      /* a measurement was asked for, no result yet */
    bool failed;       /* QEMU refused one: no more */
    double t0;         /* when the preflight began */
    double budget_s;   /* measuring before migrate, at most */
    double t_last_end; /* when the last result came */
    size_t rung;       /* next period of the ladder */
    size_t n;          /* measurements kept (all epochs) */
    struct policy_dirty_rate m[POLICY_MEASURE_MAX];
    size_t epoch;      /* first measurement of the current epoch */
    unsigned changes;  /* epochs begun by a guest that changed */
    size_t epoch_prev; /* first measurement of the epoch before */
    unsigned returns;  /* a new epoch looked like an older one: bursts */
    double t_epoch;    /* when the current epoch's first one began */
    bool acted;        /* the verdict's actions went out */
    bool hopeless_now; /* the current epoch says hopeless */
    struct policy_preflight_report report;
};

/*
 * The policy's memory between samples.  Plain data the caller allocates
 * (no pointers inside); set up with policy_state_init().  Fields the job
 * may read: paused (we stopped the guest: resume it on the source if the
 * migration fails or is cancelled), postcopy_requested, cancelled.
 */
struct policy_state {
    enum policy_kind kind;
    uint64_t downtime_ms;    /* the limit we last set; 0: QEMU's own */
    bool paused;             /* we emitted pause */
    bool postcopy_requested; /* we emitted start-postcopy */
    bool cancelled;          /* we emitted cancel: nothing more follows */
    struct policy_track track;
    struct policy_nova_state nova;
    struct policy_vdsm_state vdsm;
    struct policy_adaptive_state adaptive;
    struct policy_proxmox_state proxmox;
    struct policy_kubevirt_state kubevirt;
    struct policy_preflight_state pf;
};

/* Sets st up for one migration under cfg (a validated config). */
void policy_state_init(struct policy_state *st,
                       const struct policy_config *cfg);

/*
 * What to set before migrate, filled into out->actions (out->report is
 * zeroed): max-bandwidth from --bandwidth for every policy, then the first
 * downtime limit: adaptive --downtime-initial, vdsm the schedule's init,
 * proxmox 100 ms; nova and pray none.  Returns the number of actions.
 */
int policy_initial_actions(const struct policy_config *cfg,
                           struct policy_state *st, struct policy_output *out);

/*
 * One sample in, the actions to apply now and the report out.  Pure: no
 * I/O, no clock, no allocation.  Setup and none give no actions; final
 * statuses give none either (completed reports 100 %).
 */
void policy_step(const struct policy_config *cfg, struct policy_state *st,
                 const struct policy_sample *s, struct policy_output *out);

/*
 * The preflight (docs/policy.md, "preflight"), after
 * policy_initial_actions() and before migrate:
 *
 *   policy_preflight_start(cfg, st, &caps, ram_bytes, t);
 *   while (policy_measure_next(cfg, st, t, &req)) {
 *       run calc-dirty-rate req, poll query-dirty-rate until measured;
 *       policy_preflight_feed(cfg, st, &result);
 *   }
 *   policy_preflight_finish(cfg, st, t, &out);   apply out.actions;
 *   a cancel among them: refuse (exit 3), migrate never runs.
 *
 * During the migration, after each policy_step(), when no measurement
 * runs, policy_measure_next() may ask for another; its result comes in
 * the next sample (dirty_measured, dirty).  With --preflight off (or a
 * QEMU without calc-dirty-rate) policy_measure_next() never asks.
 */
/* "off", "measure", "decide" ("default" for DEFAULT). */
const char *policy_preflight_name(enum policy_preflight p);
/* 0 and *p set, or -1 for a name that is none of off, measure, decide. */
int policy_preflight_from_name(const char *name, enum policy_preflight *p);
/* DEFAULT resolved: decide for adaptive, off for the others. */
enum policy_preflight
policy_preflight_effective(const struct policy_config *cfg);
/* "none", "converges", "downtime", "lever", "hopeless", "unsettled". */
const char *policy_verdict_name(enum policy_verdict v);

/* ram_bytes: the guest's RAM (query-memory-size-summary's base-memory). */
void policy_preflight_start(const struct policy_config *cfg,
                            struct policy_state *st,
                            const struct policy_measure_caps *caps,
                            uint64_t ram_bytes, double t);
/* 1 and *req filled: run it now.  0: nothing to run now. */
int policy_measure_next(const struct policy_config *cfg,
                        struct policy_state *st, double t,
                        struct policy_measure_request *req);
/* A result before migrate. */
void policy_preflight_feed(const struct policy_config *cfg,
                           struct policy_state *st,
                           const struct policy_dirty_rate *m);
/*
 * QEMU refused calc-dirty-rate or query-dirty-rate (why: its error):
 * no more measurements; the verdict says why.
 */
void policy_measure_failed(struct policy_state *st, double t, const char *why);
/*
 * The preflight's verdict before migrate: out->actions get what to apply
 * (set-downtime X; auto-converge; cancel, for a refusal); returns their
 * number.  Under measure only the report.
 */
int policy_preflight_finish(const struct policy_config *cfg,
                            struct policy_state *st, double t,
                            struct policy_output *out);
/* The verdict so far (every policy fills it, only adaptive acts). */
const struct policy_preflight_report *
policy_preflight_report(const struct policy_state *st);

#endif /* QMIGRATE_POLICY_H */
