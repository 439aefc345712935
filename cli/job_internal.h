/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/job: the job's state, shared by the files that drive it. */
#ifndef QMIGRATE_CLI_JOB_INTERNAL_H
#define QMIGRATE_CLI_JOB_INTERNAL_H

#include "cli/cli.h"

enum job_phase {
    PHASE_NEW = 0,
    PHASE_CONNECT,   /* connecting to the monitors */
    PHASE_PREFLIGHT, /* is this a guest we may migrate? */
    PHASE_SETUP,     /* capabilities and parameters */
    PHASE_MIRROR,    /* disk mirrors copying, RAM not yet started */
    PHASE_MIGRATE,   /* migrate sent */
    PHASE_MONITOR,   /* sampling, applying the policy */
    PHASE_CANCEL,    /* migrate_cancel sent, waiting for QEMU to agree */
    PHASE_FINISH,    /* final status seen, checking both sides */
    PHASE_DONE,
};

#define JOB_MAX_DISKS 16
/* query-migrate refusals in a row before qmigrate gives up following */
#define JOB_POLL_REFUSALS_MAX 3

/* A disk copied with the migration. */
struct job_disk {
    char device[64];      /* the source's device (or node) name */
    char dst_node[64];    /* the destination node exported over NBD */
    char job_id[80];      /* the mirror job's id */
    uint64_t size;        /* virtual size, bytes */
    uint64_t len, offset; /* the mirror's progress */
    bool started, ready, concluded;
};

struct job {
    struct ev_loop *loop;
    struct qm_options opts;
    char name[128]; /* the VM's name in a plan, or "" */
    struct qm_output *out;
    job_done_fn *done;
    void *opaque;
    struct qmp_client *src, *dst;
    bool src_ready, dst_ready;
    int qemu_major, qemu_minor; /* the source's version */
    enum job_phase phase;
    double t0;   /* ev_now() at job_start() */
    int pending; /* our commands awaiting replies */
    ev_timer poll_timer;
    ev_timer cancel_timer;
    ev_timer settle_timer;
    ev_timer reconnect_timer;
    /* the one reconnect attempt, soon */ /* a moment after 'completed', for
                                             QEMU */
    bool poll_in_flight, poll_again;
    bool pass_event; /* MIGRATION_PASS since the last sample */
    struct policy_state pstate;
    uint64_t downtime_limit_ms; /* in force on the source */
    uint64_t bandwidth;         /* max-bandwidth in force, bytes/s */
    uint64_t downtime_before;   /* before the last set-downtime */
    uint64_t bandwidth_before;  /* before the last set-bandwidth */
    int poll_refusals;          /* query-migrate refused in a row */
    uint64_t ram_size;          /* guest RAM, from query-memory-size-summary */
    bool source_was_running;    /* before we started */
    bool dst_needs_incoming;    /* destination waits for migrate-incoming */
    bool announced;             /* the start line is out */
    char tls_object[64];        /* the id of our tls-creds objects */
    bool migrate_sent;
    bool migrate_reply_lost; /* the connection ended before its reply */
    double migrate_time;
    bool paused_by_us; /* we sent 'stop' (force-complete) */
    bool postcopy_requested;
    bool postcopy_started; /* QEMU reported a post-copy status */
    int postcopy_refusals; /* cancels refused during post-copy */
    bool cancel_requested; /* before migrate: do not start */
    bool cancelling;       /* migrate_cancel sent */
    enum qm_exit cancel_code;
    char cancel_reason[POLICY_REASON_MAX + 64];
    bool reconnecting;      /* the source monitor is being reopened */
    bool reconnect_started; /* ... and the connect is under way */
    bool reconnected;       /* the one attempt is used */
    char lost_why[512];     /* why the first connection ended */
    bool dst_lost;          /* the destination monitor went away */
    enum qm_exit end_code;  /* decided at the final status */
    const char *end_result;
    char end_reason[1536];
    char src_status[32];          /* run state at the end */
    struct policy_output initial; /* what the policy set before migrate */
    struct policy_sample last_sample;
    struct policy_report last_report;
    bool have_sample;
    FILE *trace;
    struct job_result result;
    /* disks (disk.c) */
    struct job_disk disks[JOB_MAX_DISKS];
    size_t n_disks;
    char nbd_target[QM_PATH_MAX + 16]; /* nbd:unix:PATH or nbd:HOST:PORT */
    bool nbd_started;
    bool mirrors_completed; /* completed or cancelled: nothing to undo */
    bool switchover_started;
    bool disk_poll_in_flight;
    int disk_pending; /* disk commands awaiting replies */
    ev_timer disk_timer;
    double cleanup_deadline;
    double dst_wait_until; /* how long 'inmigrate' may last after completed */
    void (*disk_then)(struct job *job);
};

/* job.c */
void job_setup(struct job *job);
void job_migrate(struct job *job);
void job_announce_start(struct job *job);
void job_setup_failed(struct job *job, const struct qmp_error *err);
void job_finish(struct job *job, enum qm_exit code, const char *result,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A reply to one of the job's commands (err set, ret NULL, on failure). */
typedef void job_reply_fn(struct job *job, json_t *ret,
                          const struct qmp_error *err);
int job_send(struct job *job, struct qmp_client *side, const char *command,
             json_t *args, job_reply_fn *reply);
void job_poll(struct job *job);
void job_take_sample(struct job *job, const struct policy_sample *s,
                     struct policy_output *out);

/* job_end.c */
void job_begin_cancel(struct job *job, enum qm_exit code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void job_cancel_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents);
void job_monitor_lost(struct job *job, struct qmp_client *side,
                      const struct qmp_error *why);
void job_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents);
void job_reconnected(struct job *job);
void job_end_completed(struct job *job, const struct migrate_summary *sum);
void job_end_on_source(struct job *job, enum qm_exit code, const char *result,
                       const char *reason, const char *error_desc);

/* disk.c */
/* Finds the disks to copy, then goes on with job_setup(). */
void disk_discover(struct job *job);
/* --disk mirror: NBD exports, mirrors; job_migrate() once all are ready. */
void disk_mirror_start(struct job *job);
void disk_poll(struct job *job);
/* The mirrors' figures into a sample (blk: query-migrate has them). */
void disk_fill_sample(const struct job *job, struct policy_sample *s);
/* At pre-switchover: complete the mirrors, then migrate-continue. */
void disk_switchover(struct job *job);
/* Cancels unfinished mirrors, stops the NBD server, then calls then(). */
void disk_cleanup(struct job *job, void (*then)(struct job *job));
/* Aborts before RAM migrates: undo the mirrors, then finish. */
void disk_abort_begin(struct job *job, enum qm_exit code, const char *result,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* trace.c */
int trace_open(struct job *job);
void trace_close(struct job *job);
void trace_write(struct job *job, const char *event, json_t *obj);
void trace_sample(struct job *job, const struct policy_sample *s,
                  const struct policy_report *r);
void trace_action(struct job *job, const struct policy_action *a);
json_t *job_settings_json(const struct job *job);

#endif /* QMIGRATE_CLI_JOB_INTERNAL_H */
