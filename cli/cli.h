/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli: what the qmigrate program's files share, grouped by the file that
 * provides it. */
#ifndef QMIGRATE_CLI_H
#define QMIGRATE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ev.h>
#include <jansson.h>

#include "migrate/engine.h"
#include "policy/policy.h"

#define QM_PATH_MAX 1024
#define QM_SSH_OPTIONS_MAX 16 /* --ssh-option, all layers together */
#define QM_SSH_OPTION_LEN 256

/* options.c */
enum disk_mode {
    DISK_NONE = 0,
    DISK_BLK,
    DISK_MIRROR,
};

/* The subcommands, as bits: an option lists the commands it belongs to. */
enum qm_command {
    CMD_MIGRATE = 1 << 0,
    CMD_WATCH = 1 << 1,
    CMD_CANCEL = 1 << 2,
    CMD_EVACUATE = 1 << 3,
    CMD_REPLAY = 1 << 4,
    CMD_PLOT = 1 << 5,
};

/* How an option's text becomes its value. */
enum option_kind {
    OPTION_TEXT,     /* a string field */
    OPTION_U64,      /* uint64_t, within min..max */
    OPTION_UNSIGNED, /* unsigned, within min..max */
    OPTION_INT,      /* int, within min..max */
    OPTION_DOUBLE,   /* within min..max */
    OPTION_BOOL,     /* true/false, yes/no, on/off, 1/0 */
    OPTION_SPECIAL,  /* read by its own set() */
    OPTION_CONFIG,   /* --config: read by main.c before anything else */
};

/* Where beside the command line an option may be set. */
#define OPTION_IN_CONFIG (1u << 0) /* the config file */
#define OPTION_IN_PLAN (1u << 1)   /* a VM's section of an evacuate plan */

struct qm_options;

struct option_spec {
    const char *name;  /* the long option, and the config/plan key */
    char short_name;   /* 0 when none */
    const char *arg;   /* the value's name in usage; NULL: a flag */
    unsigned commands; /* enum qm_command bits */
    unsigned where;    /* OPTION_IN_* */
    const char *help;
    enum option_kind kind;
    size_t offset, size; /* the field in struct qm_options */
    double min, max;     /* numbers */
    int (*set)(struct qm_options *o, const char *value, char *err,
               size_t errlen); /* OPTION_SPECIAL */
};

/* Every option, ended by a NULL name. */
extern const struct option_spec option_specs[];
const struct option_spec *option_find(const char *name);
/* The default value as the help shows it ("" when there is none to show). */
void option_default_text(const struct option_spec *spec, char *buf,
                         size_t size);

struct qm_options {
    enum qm_command command;
    char source[QM_PATH_MAX]; /* --source QMP */
    char dest[QM_PATH_MAX];   /* --dest QMP, "" when absent */
    char uri[QM_PATH_MAX];    /* --to URI */
    char trace[QM_PATH_MAX];  /* --trace FILE, "" when absent */
    struct policy_config policy;
    bool json;                      /* --json: JSON lines on stdout */
    bool quiet;                     /* --quiet: no human progress */
    int verbose;                    /* -v, repeatable */
    unsigned interval_ms;           /* --interval (500) */
    enum disk_mode disk;            /* --disk */
    double greeting_timeout_s;      /* --greeting-timeout (3) */
    double command_timeout_s;       /* --command-timeout (30) */
    double cancel_timeout_s;        /* --cancel-timeout (60) */
    char metrics[QM_PATH_MAX];      /* --metrics FILE */
    char plan[QM_PATH_MAX];         /* --plan FILE (evacuate) */
    unsigned max_parallel;          /* --max-parallel N (evacuate, 4) */
    bool resume;                    /* --resume (cancel) */
    char output[QM_PATH_MAX];       /* -o FILE (plot) */
    char input[QM_PATH_MAX];        /* the TRACE argument (replay, plot) */
    char disk_include[QM_PATH_MAX]; /* --disk-include DEV[,DEV...] */
    char nbd[QM_PATH_MAX];          /* --nbd ADDRESS (disk mirror) */
    char tls_creds[128];            /* --tls-creds ID: objects already there */
    char tls_dir[QM_PATH_MAX];      /* --tls-dir DIR: qmigrate creates them */
    char tls_hostname[256];         /* --tls-hostname NAME */
    unsigned parallel;              /* --parallel N (multifd); 0 off */
    char recover_uri[QM_PATH_MAX];  /* --recover-uri URI */
    double recover_timeout_s;       /* --recover-timeout (600) */
    unsigned max_parallel_per_dest; /* --max-parallel-per-dest N; 0: none */
    /*
     * --ssh-option OPT, repeatable; ssh keeps the first value of each, so
     * a later layer (command line over config, plan over command line)
     * puts its own before the earlier one's: ssh_insert_at is where the
     * layer now being read inserts, reset by options_new_layer().
     */
    char ssh_options[QM_SSH_OPTIONS_MAX][QM_SSH_OPTION_LEN];
    unsigned n_ssh_options;
    unsigned ssh_insert_at;
    unsigned layer; /* 0: defaults and config; 1: command line; 2: plan */
    /* the layer that set --max-parallel and --max-parallel-per-dest */
    unsigned max_parallel_layer, per_dest_layer;
};

void options_init(struct qm_options *o);
/* Settings from here on come from a layer that overrides what was read. */
void options_new_layer(struct qm_options *o);
/*
 * Sets one option by its long name (without dashes) from its text, the
 * same way for the command line and the config file.  Returns 0, or -1
 * with a message naming the option and the bad value.
 */
int options_set(struct qm_options *o, const char *key, const char *value,
                char *err, size_t errlen);
/*
 * Cross-checks once all are set, for o->command: what is required, what
 * fits together.  Returns 0 or -1 with a message.
 */
int options_validate(struct qm_options *o, char *err, size_t errlen);
/*
 * What the engine needs of o, for one migration; name is the VM's in a
 * plan, or NULL.  The strings in cfg are borrowed from o.
 */
void options_engine_config(const struct qm_options *o, const char *name,
                           struct engine_config *cfg);

/* settings.c */
/* The effective policy settings, keyed by option name (a new object). */
json_t *settings_json(const struct policy_config *p, unsigned interval_ms);
json_t *options_settings_json(const struct qm_options *o);
/* Applies such an object (from a trace) through options_set(). */
int options_apply_settings(struct qm_options *o, json_t *settings, char *err,
                           size_t errlen);

/* config.c */
/*
 * Applies a config file's text: top-level "key = value" lines with the
 * long options' names.  Keys of other commands are skipped; an unknown
 * key or a bad value is an error naming the file, line and key.
 */
int config_apply(struct qm_options *o, const char *text, const char *filename,
                 char *err, size_t errlen);

/* trace_format.c */
/*
 * A sample as one flat JSON object (the trace format), and back.  Reading
 * ignores unknown fields and defaults optional ones, so a trace replays
 * whatever version of qmigrate wrote it.
 */
json_t *sample_to_json(const struct policy_sample *s);
int sample_from_json(json_t *obj, struct policy_sample *s, char *err,
                     size_t errlen);
/* A "measure" line's members, and back (for replay): 0 or -1 with err. */
json_t *measure_to_json(const struct engine_measure_event *ev);
int measure_from_json(json_t *obj, struct engine_measure_event *ev,
                      struct policy_measure_caps *caps,
                      struct policy_dirty_rate *result, char *err,
                      size_t errlen);

/* lines.c */
/* The start line's members: source, uri, policy, totals, settings. */
json_t *start_json(const struct engine_start *st);
/* The end line's members: result, reason, exit code, downtime, totals. */
json_t *end_json(const struct engine_result *res);
/* The preflight line's members: the verdict, its reason and its numbers. */
json_t *preflight_json(const struct policy_preflight_report *r);

/* output.c */
struct metrics;

struct qm_output {
    FILE *json;      /* JSON lines, or NULL */
    FILE *human;     /* text for people, or NULL when quiet */
    bool human_tty;  /* human is a terminal: the progress line updates */
    bool line_open;  /* an updating line is on the terminal */
    bool summary;    /* many jobs: progress lines only with -v */
    int block_lines; /* lines of a redrawn status block on the terminal */
    int columns;     /* the terminal's width; 0 when unknown */
    int verbose;
};

void output_init(struct qm_output *out, const struct qm_options *o);
/* A note for people: level 0 always, 1 with -v, 2 with -vv. */
void output_note(struct qm_output *out, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error for people: always shown, even when quiet. */
void output_error(struct qm_output *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes one JSON line; obj is stolen.  vm may be NULL. */
void output_json(struct qm_output *out, const char *vm, const char *event,
                 double t, json_t *obj);
void output_progress(struct qm_output *out, const char *vm, double t,
                     const struct policy_sample *s,
                     const struct policy_report *r);
void output_action(struct qm_output *out, const char *vm, double t,
                   const struct policy_action *a);
/* What the policy would do, shown by watch, which never acts. */
void output_advice(struct qm_output *out, const char *vm, double t,
                   const struct policy_action *a);
/* Ends an updating line, or erases a status block, if one is there. */
void output_line_end(struct qm_output *out);
/* One line of a job's figures, for a terminal (no newline). */
void output_status_line(char *buf, size_t size, const char *vm,
                        const struct policy_sample *s,
                        const struct policy_report *r);
/* The engine's reports, for people and as JSON lines: opaque qm_output. */
extern const struct engine_sink output_sink;

/* trace_sink.c */
struct trace_writer;

/* A trace file, written from the start: NULL with err naming the path. */
struct trace_writer *trace_writer_open(const char *path, char *err,
                                       size_t errlen);
void trace_writer_free(struct trace_writer *t);
/* Every sample and action of one engine: opaque trace_writer. */
extern const struct engine_sink trace_sink;

/* launch.c */
/*
 * An engine for o with the program's sinks: out (borrowed), metrics and
 * trace when not NULL (borrowed).  NULL with err when out of memory.
 */
struct engine *launch_engine(struct ev_loop *loop, const struct qm_options *o,
                             const char *name, struct qm_output *out,
                             struct metrics *metrics,
                             struct trace_writer *trace, engine_done_fn *done,
                             void *opaque, char *err, size_t errlen);

/* metrics.c */
/*
 * The current figures of every job, written in Prometheus' text format to
 * a file, atomically (write, then rename), at most once a second and at
 * the end.  NULL with err when out of memory.
 */
struct metrics *metrics_new(struct ev_loop *loop, const char *path, char *err,
                            size_t errlen);
void metrics_sample(struct metrics *m, const char *vm,
                    const struct policy_sample *s,
                    const struct policy_report *r);
void metrics_result(struct metrics *m, const char *vm,
                    const struct engine_result *res);
/* The engine's samples and end, into m: opaque struct metrics. */
extern const struct engine_sink metrics_sink;
/* Writes now: 0, or -1 (said on stderr, once). */
int metrics_flush(struct metrics *m);
void metrics_free(struct metrics *m);

/* run.c */
int cmd_migrate(struct qm_options *o);
int cmd_watch(struct qm_options *o);
int cmd_cancel(struct qm_options *o);

/* plan.c */
struct plan_vm {
    char name[128];
    struct qm_options opts; /* the global options with its overrides */
};

struct plan {
    struct plan_vm *vms; /* owned: plan_free() */
    size_t n;
    /* top-level keys, before the first [vm] */
    unsigned max_parallel, max_parallel_per_dest;
    bool has_max_parallel, has_max_parallel_per_dest;
};

/*
 * Parses an evacuate plan's text over the global options and checks every
 * VM.  0, or -1 with "FILE:LINE: ..." or "FILE: [vm]: ..." in err (and
 * nothing to free).  No I/O.
 */
int plan_parse(const char *text, const char *filename,
               const struct qm_options *global, struct plan *plan, char *err,
               size_t errlen);
void plan_free(struct plan *plan);

/* evacuate.c */
int cmd_evacuate(struct qm_options *o);

/* replay.c */
int cmd_replay(struct qm_options *o);
/* A trace file's lines, as a JSON array of objects; NULL with err. */
json_t *trace_load(const char *path, char *err, size_t errlen);
/* The settings recorded in a trace's start line, applied to o. */
int replay_load_settings(struct qm_options *o, const char *path, char *err,
                         size_t errlen);

/* plot.c */
int cmd_plot(struct qm_options *o);

#endif /* QMIGRATE_CLI_H */
