/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: pure migration decisions, (config, state, sample) -> (state, actions, report). */
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

/* QEMU's spelling ("postcopy-active"); "none" for NONE, "unknown" for UNKNOWN. */
const char *migration_status_name(enum migration_status status);
/* Inverse of the above; MIGRATION_STATUS_UNKNOWN for anything else. */
enum migration_status migration_status_from_name(const char *name);
/* completed, failed, cancelled: QEMU will not change it again. */
bool migration_status_is_final(enum migration_status status);
/* postcopy-active, -paused, -recover(-setup): the guest runs on the destination. */
bool migration_status_is_postcopy(enum migration_status status);

/*
 * One instant of a migration, as the job read it from query-migrate (and
 * query-block-jobs for mirrored disks).  Byte counts are bytes; zero where
 * QEMU reported nothing.
 */
struct policy_sample {
    double t;                     /* seconds since the job started */
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
    int64_t expected_downtime_ms;  /* -1 when QEMU gave none */
    uint64_t downtime_limit_ms;    /* the limit in force now */
    uint64_t bandwidth_limit;      /* max-bandwidth in force, bytes/s; 0 unlimited */
    int throttle_percent;          /* cpu-throttle-percentage, 0 when absent */
    bool pass_event;               /* a MIGRATION_PASS arrived since the last sample */
};

enum policy_action_kind {
    POLICY_ACTION_SET_DOWNTIME = 0, /* value: ms */
    POLICY_ACTION_SET_BANDWIDTH,    /* value: bytes/s, 0 unlimited */
    POLICY_ACTION_AUTO_CONVERGE,    /* make QEMU's CPU throttle act now */
    POLICY_ACTION_START_POSTCOPY,
    POLICY_ACTION_PAUSE,            /* stop the guest so the rest drains */
    POLICY_ACTION_CANCEL,           /* abort: the guest stays on the source */
};

/* "set-downtime", "set-bandwidth", "auto-converge", "start-postcopy", "pause", "cancel" */
const char *policy_action_name(enum policy_action_kind kind);

struct policy_action {
    enum policy_action_kind kind;
    uint64_t value;                 /* meaningful for SET_DOWNTIME, SET_BANDWIDTH */
    char reason[POLICY_REASON_MAX]; /* one line, names the numbers behind it */
};

/* What an operator sees for each sample, whatever the policy. */
struct policy_report {
    double memory_percent;        /* ram transferred share, 0..100 */
    double disk_percent;          /* 0..100; 100 when no disk is copied */
    double percent;               /* combined; never goes back; < 100 until completed */
    uint64_t dirty_rate;          /* bytes/s */
    uint64_t bandwidth;           /* bytes/s measured */
    uint64_t iteration;           /* pass number */
    double eta_s;                 /* seconds to completion; < 0 when unknown */
    char eta_note[80];            /* why the ETA is unknown, "" otherwise */
    double since_low_watermark_s; /* seconds since remaining last beat its low */
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
    int limit;                    /* fires when iterations since start exceed it; -1: next new iteration */
    enum policy_schedule_verb verb;
    uint64_t downtime_ms;         /* for SET_DOWNTIME */
};

struct policy_schedule {
    char name[POLICY_NAME_MAX];
    uint64_t init_downtime_ms;    /* the init action; 0: none */
    size_t n_entries;
    struct policy_schedule_entry entries[POLICY_MAX_SCHEDULE];
};

struct policy_config {
    enum policy_kind kind;
    uint64_t downtime_ms;          /* --downtime, final limit (500) */
    uint64_t downtime_initial_ms;  /* --downtime-initial, adaptive's start (300) */
    unsigned downtime_steps;       /* --downtime-steps (10) */
    double downtime_delay_s;       /* --downtime-delay, seconds per GiB (75) */
    double completion_timeout_s;   /* --completion-timeout, seconds per GiB (800); 0 off */
    double progress_timeout_s;     /* --progress-timeout (150); 0 off */
    bool progress_timeout_given;   /* nova: off unless given */
    enum policy_timeout_action timeout_action;
    bool postcopy_permitted;       /* --postcopy */
    bool auto_converge_permitted;  /* --auto-converge */
    uint64_t bandwidth;            /* --bandwidth in bytes/s; 0 unlimited */
    size_t n_disks;                /* disks being copied, for Nova's per-disk floor */
    uint64_t disk_bytes[POLICY_MAX_DISKS];
    struct policy_schedule schedule; /* vdsm */
};

#endif /* QMIGRATE_POLICY_H */
