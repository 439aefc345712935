/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate: the engine's state and what its files share, grouped by the file
 * that provides it. */
#ifndef QMIGRATE_MIGRATE_INTERNAL_H
#define QMIGRATE_MIGRATE_INTERNAL_H

#include "migrate/engine.h"
#include "migrate/levers.h"
#include "migrate/qemu.h"
#include "qmp/qmp.h"

/* query-migrate refusals in a row before the engine gives up following */
#define ENGINE_POLL_REFUSALS_MAX 3
/* How long after 'completed' QEMU has the downtime and postmigrate ready. */
#define ENGINE_SETTLE_S 0.2
/* The one reconnect attempt to a lost source monitor comes after this. */
#define ENGINE_RECONNECT_DELAY_S 0.5
/* A post-copy without progress ends after this when no timeout is set. */
#define ENGINE_POSTCOPY_STALL_S 150.0
/* Between two attempts of post-copy recovery. */
#define ENGINE_RECOVER_RETRY_S 1.0
/* How long a resumed source may still say postcopy-paused. */
#define ENGINE_RESUME_WAIT_S 5.0

/*
 * The phases, in the order a migration goes through them.  Each has one
 * row in phase.c's table and one in docs/engine.md; engine_enter() is the
 * only way into a phase.
 */
enum engine_phase {
    PHASE_NEW = 0,
    PHASE_CONNECT,         /* connecting to the monitors */
    PHASE_PREFLIGHT,       /* is this a guest we may migrate? */
    PHASE_ATTACH,          /* watch, cancel: find the running migration */
    PHASE_DISKS,           /* which disks to copy, on both sides */
    PHASE_SETUP,           /* capabilities and parameters */
    PHASE_MEASURE,         /* the guest's dirty rate, before anything is sent */
    PHASE_MIRROR,          /* disk mirrors copy; RAM not yet started */
    PHASE_MIGRATE,         /* migrate sent, its reply not yet in */
    PHASE_MONITOR,         /* pre-copy: sampling, applying the policy */
    PHASE_SWITCHOVER,      /* guest stopped: completing the disk mirrors */
    PHASE_POSTCOPY,        /* the guest runs on the destination */
    PHASE_POSTCOPY_PAUSED, /* the post-copy stream broke: recover or end */
    PHASE_RECOVER,   /* migrate-recover, then migrate resume, till active */
    PHASE_CANCEL,    /* migrate_cancel sent, waiting for QEMU to agree */
    PHASE_RECONNECT, /* the source monitor is lost: one attempt */
    PHASE_FINISH,    /* final status seen: undo, check both sides */
    PHASE_DONE,
    PHASE_COUNT,
};

/* What a cancel (a signal, the policy, qmigrate cancel) does in a phase. */
enum phase_on_cancel {
    ON_CANCEL_END,        /* nothing started: end at once */
    ON_CANCEL_UNDO_DISKS, /* mirrors run, RAM not: undo them, then end */
    ON_CANCEL_DEFER,      /* migrate is on its way: cancel after its reply */
    ON_CANCEL_SEND,       /* migrate_cancel, then wait in CANCEL */
    ON_CANCEL_REFUSE,     /* post-copy: cancelling would lose the guest */
    ON_CANCEL_IGNORE,     /* cancelling or ending already */
};

/* What losing a monitor does in a phase. */
enum phase_on_lost {
    ON_LOST_END,        /* exit 4: nothing runs that needs undoing */
    ON_LOST_UNDO_DISKS, /* the mirrors' far end is gone: undo them */
    ON_LOST_RECONNECT,  /* source: one reconnect attempt, then exit 4 */
    ON_LOST_FOLLOW,     /* destination: say so, follow on the source */
    ON_LOST_SPLIT,      /* destination in a broken post-copy: exit 1 */
    ON_LOST_IGNORE,
};

/* What the poll timer asks for in a phase. */
enum phase_poll {
    POLL_NONE,
    POLL_BLOCK_JOBS, /* query-block-jobs (the mirrors) */
    POLL_MIGRATE,    /* query-migrate, and query-block-jobs with mirrors */
};

struct engine;

struct phase_desc {
    const char *name;
    void (*enter)(struct engine *e);
    enum phase_on_cancel on_cancel;
    enum phase_on_lost on_source_lost;
    enum phase_on_lost on_dest_lost;
    enum phase_poll poll;
    bool acts; /* the policy's actions are applied here (migrate mode) */
};

/* A disk copied with the migration. */
struct engine_disk_copy {
    char device[64];      /* the source's device (or node) name */
    char dst_node[64];    /* the destination node exported over NBD */
    char job_id[80];      /* the mirror job's id */
    uint64_t size;        /* virtual size, bytes */
    uint64_t len, offset; /* the mirror's progress */
    bool started, ready, concluded;
};

/* The dirty-rate measurements (measure.c). */
struct engine_measure {
    struct policy_measure_caps caps; /* what this QEMU can measure */
    struct policy_measure_request req;
    double repoll_s;  /* the next query-dirty-rate after this long */
    bool running;     /* a calc-dirty-rate is under way */
    double t_start;   /* when it returned */
    ev_timer timer;   /* its period, then the re-polls */
    bool have_result; /* a result for the next sample */
    struct policy_dirty_rate result;
    enum policy_verdict reported_verdict; /* the last reported */
    size_t reported_n;                    /* on so many measurements */
};

/* The replies preflight gathers before it judges. */
struct engine_preflight {
    json_t *src_status, *src_migrate, *src_memory, *dst_status, *dst_migrate;
    json_t *src_caps, *src_cpus, *dst_caps; /* capabilities, vCPUs */
    struct qmp_error error; /* the first refusal or loss; kind NONE if none */
    bool failed;
};

typedef void engine_step_fn(struct engine *e);

/* How FINISH ends the migration. */
enum finish_how {
    FINISH_STATUS = 0,  /* as QEMU's final status says */
    FINISH_NOTHING_RAN, /* migrate accepted, yet no migration: check */
    FINISH_DISKS_ONLY,  /* only the mirrors ran: undo them */
};

struct engine {
    struct ev_loop *loop;
    struct engine_config cfg; /* strings point into owned copies */
    char *owned[11];          /* those copies */
    engine_done_fn *done;
    void *done_opaque;
    struct {
        const struct engine_sink *sink;
        void *opaque;
    } sinks[ENGINE_MAX_SINKS];
    size_t n_sinks;
    struct qmp_client *src, *dst;
    bool src_ready, dst_ready;
    struct qemu_version version; /* the source's */
    struct qemu_version dst_version;
    unsigned caps;     /* negotiated for the source: QEMU_CAP_BIT()s */
    unsigned dst_caps; /* set on the destination */
    unsigned caps_known, dst_caps_known; /* what each QEMU lists */
    enum engine_phase phase;
    enum engine_phase resume_phase; /* where RECONNECT returns */
    double t0;                      /* ev_now() at engine_start() */
    int pending;                    /* commands awaiting replies */
    ev_timer poll_timer;
    ev_timer cancel_timer;
    ev_timer settle_timer;
    ev_timer reconnect_timer;
    ev_timer disk_timer;
    double dst_wait_until; /* how long 'inmigrate' may last after completed */
    bool poll_in_flight, poll_again;
    bool pass_event;             /* MIGRATION_PASS since the last sample */
    struct policy_config policy; /* effective: the disks filled in */
    struct policy_state pstate;
    struct policy_output initial; /* what the policy set before migrate */
    struct levers levers;         /* downtime and bandwidth in force */
    int poll_refusals;            /* query-migrate refused in a row */
    uint64_t ram_size;            /* from query-memory-size-summary */
    bool source_was_running;      /* before we started */
    bool dst_needs_incoming;      /* destination waits for migrate-incoming */
    bool announced;               /* the start went out */
    char tls_object[64];          /* the id of our tls-creds objects */
    struct engine_preflight pre;
    struct engine_measure measure;
    bool migrate_sent;
    bool migrate_reply_lost; /* the connection ended before its reply */
    double migrate_time;
    bool postcopy_started; /* QEMU reported a post-copy status */
    double postcopy_since; /* when post-copy (re)started running */
    int postcopy_refusals; /* cancels refused during post-copy */
    bool cancel_requested; /* while migrate is on its way */
    bool cancel_by_policy; /* the cancel is the policy's: it aborts */
    bool cancelling;       /* migrate_cancel sent */
    enum qm_exit cancel_code;
    char cancel_reason[POLICY_REASON_MAX + 64];
    bool reconnect_started; /* the attempt's connect is under way */
    bool reconnected;       /* the one attempt is used */
    char lost_why[512];     /* why the first connection ended */
    bool dst_lost;          /* the destination monitor went away */
    /* post-copy recovery (recover.c) */
    ev_timer recover_timer;
    double recover_deadline; /* engine time it gives up; 0: no break yet */
    unsigned recover_attempts;
    bool recover_busy;    /* a step's command is out */
    bool recover_resumed; /* migrate resume accepted: waiting for active */
    double recover_resume_t;
    double recover_attempt_t; /* when the current attempt began */
    bool stream_broken;       /* we sent migrate-pause for this stall */
    unsigned recoveries;      /* breaks recovered from */
    char recover_why[512];    /* what the last attempt ran into */
    enum finish_how finish_how;
    struct migrate_summary final; /* the final query-migrate */
    enum qm_exit end_code;        /* decided at the final status */
    const char *end_result;
    char end_reason[1536];
    struct policy_sample last_sample;
    struct policy_report last_report;
    bool have_sample;
    struct engine_result result;
    /* disks (disk.c) */
    struct engine_disk_copy disks[POLICY_MAX_DISKS];
    size_t n_disks;
    char nbd_target[1100]; /* nbd:unix:PATH or nbd:HOST:PORT */
    bool nbd_started;
    bool mirrors_completed; /* completed or cancelled: nothing to undo */
    bool switchover_started;
    bool disk_poll_in_flight;
    int disk_pending; /* disk commands awaiting replies */
    double cleanup_deadline;
    engine_step_fn *disk_then;
    engine_step_fn *lift_then; /* after the dirty-limit is lifted (end.c) */
    void (*jobs_reply)(struct engine *e, json_t *ret,
                       const struct qmp_error *err); /* after disk_timer */
};

/* engine.c */
double engine_now(const struct engine *e);
/* "NAME: " in a plan, "" alone: what notes about one VM begin with. */
const char *engine_prefix(const struct engine *e);
void engine_note(struct engine *e, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void engine_error(struct engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void engine_emit_start(struct engine *e);
void engine_emit_measure(struct engine *e,
                         const struct engine_measure_event *ev);
void engine_emit_preflight(struct engine *e,
                           const struct policy_preflight_report *r);
void engine_emit_action(struct engine *e, double t,
                        const struct policy_action *a, bool advice);
/* A reply to one of the engine's commands (err set, ret NULL, on failure). */
typedef void engine_reply_fn(struct engine *e, json_t *ret,
                             const struct qmp_error *err);
/*
 * Sends cmd (its args stolen) on one side; reply (NULL: none wanted) runs
 * unless the engine ended meanwhile.  When the command cannot even be
 * queued the engine ends as a monitor error.  0 or -1.
 */
int engine_send(struct engine *e, struct qmp_client *side,
                struct qemu_command cmd, engine_reply_fn *reply);
/* The same out of band (migrate-pause, migrate-recover): it reaches a
 * QEMU whose main loop is stuck on the migration stream. */
int engine_send_oob(struct engine *e, struct qmp_client *side,
                    struct qemu_command cmd, engine_reply_fn *reply);
/* The one way out: sinks, monitors closed, done.  Once. */
void engine_finish(struct engine *e, enum qm_exit code, const char *result,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A QMP error before anything started: exit 2 if refused, else 4. */
void engine_setup_failed(struct engine *e, const struct qmp_error *err);

/* phase.c */
const struct phase_desc *phase_desc(enum engine_phase phase);
/* Enters a phase: the only place engine->phase changes (but DONE). */
void engine_enter(struct engine *e, enum engine_phase phase);
/* Back to the phase RECONNECT interrupted, without entering it again. */
void engine_resume(struct engine *e);
/* Cancels as the phase says: code is the exit code it ends with. */
void engine_begin_cancel(struct engine *e, enum qm_exit code, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
/* A monitor went away (or a reply to it was lost). */
void engine_monitor_lost(struct engine *e, struct qmp_client *side,
                         const struct qmp_error *why);

/* connect.c */
void engine_enter_connect(struct engine *e);
void engine_enter_reconnect(struct engine *e);
int engine_clients_new(struct engine *e, char *err, size_t errlen);

/* preflight.c */
void engine_enter_preflight(struct engine *e);
void engine_enter_attach(struct engine *e);
/* Lets go of what preflight gathered. */
void preflight_clear(struct engine_preflight *pre);

/* setup.c */
/*
 * The capabilities asked for, against each side's version and offer
 * (exit 2 when refused), dirty-limit probed on the source; then DISKS or
 * SETUP.
 */
void engine_negotiate(struct engine *e);
void engine_enter_setup(struct engine *e);

/* measure.c */
void engine_enter_measure(struct engine *e);
/* During the migration: a measurement the policy asks for, if any. */
void engine_measure_more(struct engine *e);
/* The source is lost: a measurement under way is given up. */
void engine_measure_abandon(struct engine *e, const char *why);
/* A measurement that ended since the last sample, into s. */
void sample_measured(struct engine *e, struct policy_sample *s);

/* monitor.c */
void engine_enter_migrate(struct engine *e);
void engine_enter_monitor(struct engine *e);
void engine_enter_postcopy(struct engine *e);
/* An action of the engine's own (recovery), told to the sinks. */
void engine_tell_action(struct engine *e, enum policy_action_kind kind,
                        uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void engine_enter_cancel(struct engine *e);
void engine_poll(struct engine *e);
/* One sample through the policy, into the record and out to the sinks. */
void engine_take_sample(struct engine *e, const struct policy_sample *s,
                        struct policy_output *out);
/* Its actions: applied where the phase acts, advice in watch. */
void engine_apply_actions(struct engine *e, const struct policy_output *out,
                          double t);
void engine_send_cancel(struct engine *e);
void engine_poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
void engine_cancel_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
void engine_settle_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* disk.c */
void engine_enter_disks(struct engine *e);
void engine_enter_mirror(struct engine *e);
void engine_enter_switchover(struct engine *e);
void disk_poll(struct engine *e);
/* A changed bandwidth reaches the running mirrors too. */
void disk_set_speed(struct engine *e, uint64_t bandwidth);
/* Cancels unfinished mirrors, stops the NBD server, then calls then(). */
void disk_cleanup(struct engine *e, engine_step_fn *then);
/* Ends before RAM migrated: undo the mirrors, then finish. */
void disk_abort(struct engine *e, enum qm_exit code, const char *result,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* recover.c */
/* Recovery is possible: the destination's monitor and QEMU's commands. */
bool recover_possible(const struct engine *e);
void engine_enter_postcopy_paused(struct engine *e);
void engine_enter_recover(struct engine *e);
/* A post-copy stalled (why: how it shows): break it, to recover it. */
void recover_break_stream(struct engine *e, const char *why);
/* A sample in PAUSED or RECOVER: moves recovery on; false when it ended. */
bool recover_follow(struct engine *e, const struct policy_sample *s);
/* Ends: the guest is split; the exact steps to recover by hand. */
void recover_give_up(struct engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* end.c */
void engine_enter_finish(struct engine *e);
/* completed: the guest must now run on the destination */
void end_completed(struct engine *e, int64_t downtime_ms);
/* failed or cancelled: the guest must run on the source */
void end_on_source(struct engine *e, enum qm_exit code, const char *result,
                   const char *reason, const char *error_desc);

/* sample.c */
/* The limits in force, the pass event and the disks, added to a sample. */
void sample_complete(struct engine *e, struct policy_sample *s);
/* While only the disks copy: a migration in its disk phase. */
void sample_mirror_phase(struct engine *e, struct policy_sample *s);
/* Folds query-block-jobs into the disks: -1 with why when a mirror failed. */
int sample_block_jobs(struct engine *e, json_t *jobs, bool switchover,
                      char *why, size_t size);

#endif /* QMIGRATE_MIGRATE_INTERNAL_H */
