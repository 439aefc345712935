/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/qemu: what QEMU understands: commands, defaults, versions,
 * capabilities.  A new QEMU release means editing qemu.c (and the fake). */
#ifndef QMIGRATE_MIGRATE_QEMU_H
#define QMIGRATE_MIGRATE_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy/policy.h"

/* QEMU's own defaults (qapi/migration.json). */
#define QEMU_DEFAULT_DOWNTIME_LIMIT_MS 300

/* The events the engine listens to. */
#define QEMU_EVENT_MIGRATION "MIGRATION"
#define QEMU_EVENT_MIGRATION_PASS "MIGRATION_PASS"

struct qemu_version {
    int major, minor, micro;
};

/* v is at least major.minor. */
bool qemu_version_at_least(const struct qemu_version *v, int major, int minor);

/* The guest's run state, from query-status. */
enum qemu_runstate {
    QEMU_RUN_OTHER = 0, /* one the engine has no use for */
    QEMU_RUN_RUNNING,
    QEMU_RUN_PAUSED,
    QEMU_RUN_PRELAUNCH,
    QEMU_RUN_INMIGRATE,
    QEMU_RUN_POSTMIGRATE,
};

/* query-status's "status", and its name ("unknown" when absent). */
enum qemu_runstate qemu_runstate_of(json_t *query_status, const char **name);

/*
 * The capabilities qmigrate may ask for: a MigrationCapability, an
 * argument of migrate (blk), or a set of commands (post-copy recovery).
 * Bits of a mask are 1u << cap.
 */
enum qemu_cap {
    QEMU_CAP_PAUSE_BEFORE_SWITCHOVER = 0,
    QEMU_CAP_EVENTS,
    QEMU_CAP_AUTO_CONVERGE,
    QEMU_CAP_POSTCOPY_RAM,
    QEMU_CAP_BLOCK, /* migrate's blk: block migration */
    QEMU_CAP_MULTIFD,
    QEMU_CAP_DIRTY_LIMIT,
    QEMU_CAP_POSTCOPY_PREEMPT,
    QEMU_CAP_POSTCOPY_RECOVER, /* migrate-pause, migrate-recover, resume */
    QEMU_CAP_COUNT,
};

#define QEMU_CAP_BIT(cap) (1u << (cap))

/* QEMU's name for a capability ("multifd"), for messages and probes. */
const char *qemu_cap_name(enum qemu_cap cap);

/*
 * Whether version v can do every capability in wanted.  *granted gets
 * wanted less the optional ones this version lacks (they are used where
 * available, never refused).  0, or -1 with a message naming the
 * option, the version and the reason (and what to use instead, when
 * there is something).
 */
int qemu_caps_check(const struct qemu_version *v, unsigned wanted,
                    unsigned *granted, char *err, size_t errlen);

/*
 * The same against what a QEMU offers: its query-migrate-capabilities
 * reply (side names it in messages: "the source", "the destination").
 * A capability it does not list is refused, an optional one dropped from
 * *granted.  A reply that is not a list says nothing: 0, unchanged.
 */
int qemu_caps_offered(json_t *query_migrate_capabilities,
                      const struct qemu_version *v, const char *side,
                      unsigned *granted, char *err, size_t errlen);

/*
 * The capabilities of the table a query-migrate-capabilities reply lists
 * (pseudo-capabilities never); a reply that is not a list: assume.
 */
unsigned qemu_caps_known(json_t *query_migrate_capabilities, unsigned assume);

/*
 * The capabilities that exclude one in wanted on version v, but are not
 * wanted themselves: to be turned off, in case an earlier user left them
 * on (QEMU refuses the whole set otherwise).
 */
unsigned qemu_caps_conflicting(const struct qemu_version *v, unsigned wanted);

/*
 * vcpu-dirty-limit while adaptive holds dirty-limit back: a rate no vCPU
 * reaches (MiB/s), so that QEMU's own trigger, should it fire before the
 * policy decides, throttles nothing.  QEMU's default is 1 MiB/s.
 */
#define QEMU_DIRTY_LIMIT_HOLD_MIB_S 1048576

/*
 * What max-bandwidth is sent as.  QEMU 7.2 reads max-bandwidth 0 as no
 * limit for RAM, but its block migration then copies almost nothing per
 * round (it sizes its reads by the rate limit), so unlimited is a rate no
 * link reaches: 16 GiB/s, Proxmox VE's choice for the same reason.
 */
uint64_t qemu_max_bandwidth(uint64_t bandwidth);

/* A command to send: its name, and its arguments (owned; may be NULL). */
struct qemu_command {
    const char *name;
    json_t *args;
};

/* The parameters of migrate-set-parameters that qmigrate sets. */
struct qemu_parameters {
    bool set_downtime_limit;
    uint64_t downtime_limit_ms;
    bool set_max_bandwidth;
    uint64_t max_bandwidth; /* bytes/s, 0 unlimited (see above) */
    bool set_throttle_trigger_threshold;
    int throttle_trigger_threshold; /* percent */
    const char *tls_creds;          /* NULL: unchanged */
    const char *tls_hostname;       /* NULL: unchanged */
    unsigned multifd_channels;      /* 0: unchanged */
    uint64_t vcpu_dirty_limit;      /* MB/s per vCPU; 0: unchanged */
};

/* One function per command the engine sends, in the order of a migration. */
struct qemu_command qemu_query_status(void);
struct qemu_command qemu_query_migrate(void);
struct qemu_command qemu_query_memory_size_summary(void);
struct qemu_command qemu_query_migrate_parameters(void);
struct qemu_command qemu_query_block(void);
struct qemu_command qemu_tls_creds_add(const char *id, const char *dir,
                                       bool server);
/*
 * Each capability in on (a mask) on, each in off off; the others left as
 * they are.  Pseudo-capabilities (blk, recovery) are not sent.
 */
struct qemu_command qemu_set_capabilities(unsigned on, unsigned off);
/* Only the members marked set, or "" (no members: nothing to send). */
struct qemu_command qemu_set_parameters(const struct qemu_parameters *p);
struct qemu_command qemu_migrate_incoming(const char *uri);
/* host NULL: a UNIX socket at port_or_path; else host and port. */
struct qemu_command qemu_nbd_server_start(const char *host,
                                          const char *port_or_path);
struct qemu_command qemu_block_export_add(const char *id, const char *node,
                                          const char *name);
struct qemu_command qemu_drive_mirror(const char *job_id, const char *device,
                                      const char *target, uint64_t speed);
struct qemu_command qemu_query_block_jobs(void);
struct qemu_command qemu_block_job_set_speed(const char *job_id,
                                             uint64_t speed);
struct qemu_command qemu_migrate(const char *uri, bool blk);
struct qemu_command qemu_migrate_start_postcopy(void);
/* The number of vCPUs: the length of its reply. */
struct qemu_command qemu_query_cpus_fast(void);
struct qemu_command qemu_query_migrate_capabilities(void);
/* Every vCPU's dirty rate capped at mb_per_s (7.1+, KVM dirty ring). */
struct qemu_command qemu_set_vcpu_dirty_limit(uint64_t mb_per_s);
/* Every vCPU's cap lifted. */
struct qemu_command qemu_cancel_vcpu_dirty_limit(void);
/* [] when no limit is in service, else one entry per limited vCPU. */
struct qemu_command qemu_query_vcpu_dirty_limit(void);
/* Post-copy recovery (3.0+): break the stream on the source... */
struct qemu_command qemu_migrate_pause(void);
/* ... listen again on the destination ... */
struct qemu_command qemu_migrate_recover(const char *uri);
/* ... and reconnect the source: migrate with resume. */
struct qemu_command qemu_migrate_resume(const char *uri);
struct qemu_command qemu_stop(void);
struct qemu_command qemu_cont(void);
/* force: cancel outright; else a ready mirror completes (point in time). */
struct qemu_command qemu_block_job_cancel(const char *job_id, bool force);
struct qemu_command qemu_job_dismiss(const char *job_id);
struct qemu_command qemu_migrate_continue_pre_switchover(void);
struct qemu_command qemu_migrate_cancel(void);
struct qemu_command qemu_nbd_server_stop(void);

/* One entry of query-block: a disk the engine may copy. */
struct qemu_block_info {
    const char *name; /* the device, else its node; NULL when neither */
    const char *node; /* the node name, or NULL */
    bool inserted;    /* it has a medium */
    bool read_only;
    uint64_t size; /* virtual size, bytes */
};

void qemu_block_info(json_t *query_block_entry, struct qemu_block_info *info);

/* One entry of query-block-jobs. */
struct qemu_block_job {
    const char *id; /* the job's id ("device" in query-block-jobs) */
    uint64_t len, offset;
    bool ready;
    bool concluded;
    const char *error; /* NULL when the job is fine */
};

void qemu_block_job(json_t *query_block_jobs_entry, struct qemu_block_job *job);

/* --- the dirty rate (calc-dirty-rate, query-dirty-rate) ------------------ */

/* What version v can measure: calc-dirty-rate 5.2+, sample-pages and mode
 * 6.1+, periods in milliseconds 8.2+ (a dirty ring is not known here). */
void qemu_measure_caps(const struct qemu_version *v,
                       struct policy_measure_caps *caps);
/* mode NULL: left out (before 6.1); sample_pages 0: left out. */
struct qemu_command qemu_calc_dirty_rate(uint64_t calc_time, bool milliseconds,
                                         uint64_t sample_pages,
                                         const char *mode);
struct qemu_command qemu_query_dirty_rate(bool milliseconds);

/* A query-dirty-rate reply. */
struct qemu_dirty_rate {
    bool measured;          /* status "measured" */
    int64_t dirty_rate_mib; /* MiB/s; -1 when absent */
    uint64_t calc_time_ms;  /* the period, in ms whatever the unit */
    uint64_t sample_pages;  /* per GiB; 0 when absent */
};

/* 0, or -1 when the reply has no status. */
int qemu_dirty_rate_of(json_t *reply, struct qemu_dirty_rate *r);
/* The vCPUs query-cpus-fast lists; 0 when the reply is not a list. */
unsigned qemu_vcpu_count(json_t *query_cpus_fast);

/* query-vcpu-dirty-limit: true when some vCPU has a limit in service. */
bool qemu_dirty_limit_in_service(json_t *query_vcpu_dirty_limit);

/* Where the destination waits: listening already, or for migrate-incoming. */
bool qemu_incoming_needs_uri(json_t *dest_query_migrate);

#endif /* QMIGRATE_MIGRATE_QEMU_H */
