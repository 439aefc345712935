/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate: the engine that drives one migration over QMP; its public face. */
#ifndef QMIGRATE_MIGRATE_ENGINE_H
#define QMIGRATE_MIGRATE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "policy/policy.h"

/*
 * One engine drives one migration on a libev loop: it connects to the
 * monitors, checks the guest, sets QEMU up, migrates, samples, hands each
 * sample to the policy, applies the actions the policy returns, and on the
 * way out leaves the guest running on exactly one side (or says loudly why
 * not).  Its phases are written down in docs/engine.md.
 *
 * Everything the engine reports leaves through sinks; it knows nothing of
 * terminals, JSON lines, trace files or metrics.  It never exits the
 * process.
 */

/* The exit codes of DESIGN.md's contract, and where the guest runs. */
enum qm_exit {
    QM_EXIT_COMPLETED = 0, /* the guest runs on the destination */
    QM_EXIT_FAILED = 1,    /* QEMU reported a failure; guest on the source */
    QM_EXIT_USAGE = 2,     /* bad usage or configuration; nothing started */
    QM_EXIT_ABORTED = 3,   /* aborted by the policy or a cancel */
    QM_EXIT_MONITOR = 4,   /* a monitor unreachable, or not speaking QMP */
};

/* What the engine is asked to do with the migration on --source. */
enum engine_mode {
    ENGINE_MIGRATE = 0, /* start it and manage it */
    ENGINE_WATCH,       /* follow one started elsewhere; never act */
    ENGINE_CANCEL,      /* cancel one started elsewhere */
};

enum engine_disk {
    ENGINE_DISK_NONE = 0,
    ENGINE_DISK_BLK,    /* QEMU's block migration (QEMU < 9.1) */
    ENGINE_DISK_MIRROR, /* NBD exports and drive-mirror */
};

/*
 * What the engine needs, and nothing more.  The strings are borrowed by
 * engine_new(), which copies them; NULL and "" both mean absent.
 */
#define ENGINE_SSH_OPTIONS_MAX 16

struct engine_config {
    enum engine_mode mode;
    const char *name;   /* the VM's name in a plan; NULL when alone */
    const char *source; /* the source's monitor address */
    const char *dest;   /* the destination's monitor, or NULL */
    const char *uri;    /* where QEMU sends the stream (migrate) */
    struct policy_config policy;
    unsigned interval_ms; /* the poll period */
    enum engine_disk disk;
    const char *disk_include; /* DEV[,DEV...], or NULL for every disk */
    const char *nbd;          /* the destination's NBD address, or NULL */
    const char *tls_creds;    /* an existing tls-creds object id */
    const char *tls_dir;      /* or: create tls-creds-x509 from this dir */
    const char *tls_hostname;
    double greeting_timeout_s;
    double command_timeout_s;
    double cancel_timeout_s;
    bool resume;       /* cancel: resume a guest left paused on the source */
    unsigned parallel; /* multifd channels; 0: one stream */
    const char *recover_uri;  /* post-copy recovery's; NULL: uri */
    double recover_timeout_s; /* how long post-copy recovery is tried */
    /* ssh:// monitors: each handed to ssh as "-o OPT" (borrowed) */
    const char *ssh_options[ENGINE_SSH_OPTIONS_MAX];
    size_t n_ssh_options;
};

/* How one migration ended. */
struct engine_result {
    enum qm_exit code;
    const char *result; /* completed, failed, aborted, cancelled, error, none */
    char reason[1536];
    int64_t downtime_ms; /* as QEMU measured it; -1 unknown */
    double total_time_s;
    uint64_t transferred; /* bytes, RAM and disk */
};

/* The start of the migration proper (once, before the first action). */
struct engine_start {
    const char *source;
    const char *uri;
    const char *dest;                   /* NULL without --dest */
    const struct policy_config *policy; /* effective, disks included */
    uint64_t ram_total;
    uint64_t disk_total;
    uint64_t downtime_limit_ms; /* in force as the migration starts */
    uint64_t bandwidth;         /* bytes/s; 0 unlimited */
    unsigned interval_ms;       /* the poll period */
};

/*
 * What the policy was told about the guest's dirty rate, in order, so a
 * trace can tell it again (qmigrate replay): the preflight's start, each
 * measurement the policy asked for, each result before migrate (after it,
 * results ride in the samples), a refusal, and the verdict's moment.
 */
enum engine_measure_kind {
    ENGINE_MEASURE_BEGIN,   /* caps, ram_bytes */
    ENGINE_MEASURE_REQUEST, /* policy_measure_next() asked for one */
    ENGINE_MEASURE_RESULT,  /* result: fed before migrate */
    ENGINE_MEASURE_FAILED,  /* why */
    ENGINE_MEASURE_FINISH,  /* policy_preflight_finish() */
};

struct engine_measure_event {
    enum engine_measure_kind kind;
    double t;
    const struct policy_measure_caps *caps; /* BEGIN */
    uint64_t ram_bytes;                     /* BEGIN */
    const struct policy_dirty_rate *result; /* RESULT */
    const char *why;                        /* FAILED */
};

struct engine;

/*
 * A sink: where what the engine reports goes.  Every member may be NULL.
 * t is seconds since engine_start().  Pointers are borrowed for the call.
 */
struct engine_sink {
    void (*start)(struct engine *e, void *opaque, double t,
                  const struct engine_start *start);
    void (*sample)(struct engine *e, void *opaque, double t,
                   const struct policy_sample *s,
                   const struct policy_report *r);
    /* An action applied; advice: what watch would have done. */
    void (*action)(struct engine *e, void *opaque, double t,
                   const struct policy_action *a, bool advice);
    /* The verdict of the dirty-rate preflight: before migrate, and again
     * when measurements during the migration change it. */
    void (*preflight)(struct engine *e, void *opaque, double t,
                      const struct policy_preflight_report *r);
    /* What the policy was told of the dirty rate, for a trace. */
    void (*measure)(struct engine *e, void *opaque,
                    const struct engine_measure_event *ev);
    /* Words for people: level 0 always, 1 with -v, 2 with -vv. */
    void (*note)(struct engine *e, void *opaque, int level, const char *text);
    /* Words for people that must always be shown. */
    void (*error)(struct engine *e, void *opaque, const char *text);
    /* The end (once, after which nothing more comes). */
    void (*end)(struct engine *e, void *opaque,
                const struct engine_result *res);
};

#define ENGINE_MAX_SINKS 4

/* Runs once, after every sink's end, when the engine has finished. */
typedef void engine_done_fn(struct engine *e, const struct engine_result *res,
                            void *opaque);

/*
 * A new engine for cfg (copied), on loop.  done may be NULL.  NULL with
 * err filled when out of memory.
 */
struct engine *engine_new(struct ev_loop *loop, const struct engine_config *cfg,
                          engine_done_fn *done, void *opaque, char *err,
                          size_t errlen);
/* Adds a sink (sink is borrowed, must outlive the engine): 0 or -1 (full). */
int engine_add_sink(struct engine *e, const struct engine_sink *sink,
                    void *opaque);
/* Connects and goes on from there; the rest happens on the loop. */
void engine_start(struct engine *e);
/*
 * Ends an engine that never started, as if it had refused: the sinks see
 * the end and done runs.  For what the caller finds wrong before start.
 */
void engine_refuse(struct engine *e, enum qm_exit code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Cancels the migration (SIGINT, SIGTERM): the guest stays on the source. */
void engine_cancel(struct engine *e, const char *why);
/* The last sample and report: false before the first. */
bool engine_last(const struct engine *e, struct policy_sample *s,
                 struct policy_report *r);
/* The VM's name, or NULL when the engine runs alone. */
const char *engine_name(const struct engine *e);
void engine_free(struct engine *e);

/* sample.c */
/*
 * Reads QEMU's query-migrate reply into a sample.  Unknown keys are
 * ignored, missing ones read as zero; a key of the wrong type is an error
 * naming it.  t, downtime_limit_ms, bandwidth_limit and pass_event are the
 * caller's to fill.  Returns 0 or -1 with a message.
 */
int sample_from_query_migrate(json_t *reply, struct policy_sample *s, char *err,
                              size_t errlen);
/* What query-migrate says beside the sample, for the end of a migration. */
struct migrate_summary {
    int64_t downtime_ms;   /* -1 when absent */
    int64_t total_time_ms; /* -1 when absent */
    char error_desc[512];  /* "" when absent */
};
void summary_from_query_migrate(json_t *reply, struct migrate_summary *sum);

#endif /* QMIGRATE_MIGRATE_ENGINE_H */
