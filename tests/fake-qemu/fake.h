/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the QMP side (no sockets) and the server, grouped by file. */
#ifndef QMIGRATE_FAKE_H
#define QMIGRATE_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tests/fake-qemu/model.h"
#include "tests/fake-qemu/query_json.h"

#define FQ_NAME_MAX 64
#define FQ_ADDR_MAX 256
#define FQ_MAX_CAPS 32

/* params.c */
/* query-migrate-parameters for version v, QEMU's defaults (new ref). */
json_t *fq_params_defaults(const struct fq_version *v);
/*
 * migrate-set-parameters: checks args as QEMU does (types in schema
 * order, then unexpected members, then ranges of the merged set), then
 * updates current and the model's view in *mp.  -1 with QEMU's error.
 */
int fq_params_set(json_t *current, const json_t *args,
                  const struct fq_version *v, struct fq_params *mp,
                  struct fq_error *err);

/* caps.c */
/* The MigrationCapability names of version v, in QEMU's order. */
size_t fq_caps_names(const struct fq_version *v, const char **names,
                     size_t max);
/* query-migrate-capabilities (new ref); state indexed like the names. */
json_t *fq_caps_json(const struct fq_version *v, const bool *state);
/* migrate-set-capabilities; updates state and *mc, or -1 and err. */
int fq_caps_set(bool *state, const json_t *args, const struct fq_version *v,
                struct fq_caps *mc, struct fq_error *err);

/* args.c */
enum fq_arg_type { FQ_ARG_STR, FQ_ARG_BOOL, FQ_ARG_ANY };

struct fq_arg {
    const char *name;
    enum fq_arg_type type;
    bool required;
};

/* Checks a command's arguments against spec, with QEMU's messages. */
int fq_args_check(const json_t *args, const struct fq_arg *spec, size_t n,
                  struct fq_error *err);
/* Sets err as QEMU's GenericError / CommandNotFound would read. */
void fq_error_set(struct fq_error *err, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* qemu10.c */
/*
 * migrate's uri and channels, 9.1 and later: exactly one of them, and
 * channels a list with one main channel whose address has what its
 * transport needs.  -1 with QEMU 10.0's messages.
 */
int fq_channels_check(const json_t *uri, const json_t *channels,
                      struct fq_error *err);
/* True when version v's migrate knows uri's scheme (tcp:, unix:, ...). */
bool fq_uri_scheme_known(const struct fq_version *v, const char *uri);
/* True when version v's query-status has `singlestep` (gone in 9.0). */
bool fq_status_has_singlestep(const struct fq_version *v);

/* vm.c */
/* One fake QEMU: its model and the state only QMP sees. */
struct fq_vm {
    char name[FQ_NAME_MAX];
    struct fq_version version;
    struct fq_model *model;
    json_t *params;         /* query-migrate-parameters, owned */
    bool caps[FQ_MAX_CAPS]; /* indexed like fq_caps_names() */
    bool quit;              /* `quit` was run: go away after reply */
    /* a source and its destination in this process (link.c) */
    struct fq_vm *peer;
    char listen_uri[FQ_ADDR_MAX];  /* a destination's migrate-incoming */
    char recover_uri[FQ_ADDR_MAX]; /* a destination's migrate-recover */
};

/* A VM at model time 0; -1 with a message. */
int fq_vm_init(struct fq_vm *vm, const char *name,
               const struct fq_model_config *cfg,
               const struct fq_version *version, struct fq_error *err);
void fq_vm_fini(struct fq_vm *vm);
/* Parses "X.Y.Z"; -1 with a message naming the text. */
int fq_version_parse(const char *text, struct fq_version *v,
                     struct fq_error *err);

/* link.c: the VMs of one process, so that a source finds the destination
 * that listens at its URI.  Registered by fq_vm_init(), gone at fini. */
void fq_link_register(struct fq_vm *vm);
void fq_link_unregister(struct fq_vm *vm);
/* migrate to uri: links vm with the destination listening there (if any). */
void fq_link_migrate(struct fq_vm *vm, const char *uri);
/* A destination's view of its source's migration (new refs). */
json_t *fq_link_dest_query_migrate(const struct fq_vm *dst);
const char *fq_link_dest_runstate(const struct fq_vm *dst);

/* commands_levers.c: the commands of the newer levers and of a
 * destination; NULL with *handled false when name is none of them. */
json_t *fq_levers_command(struct fq_vm *vm, const char *name,
                          const json_t *args, bool *handled,
                          struct fq_error *err);
/* migrate with resume: true. */
json_t *fq_levers_resume(struct fq_vm *vm, const char *uri,
                         struct fq_error *err);
/* The command names they add, for query-commands. */
extern const char *const fq_levers_command_names[];
extern const size_t fq_levers_n_command_names;

/* commands.c */
/* True when version v has command name. */
bool fq_command_exists(const struct fq_version *v, const char *name);
/*
 * Runs a command (negotiation is done, name exists).  Returns the value
 * for "return" (new ref) or NULL with err set.
 */
json_t *fq_command_run(struct fq_vm *vm, const char *name, const json_t *args,
                       struct fq_error *err);

/* dirtyrate.c */
/* calc-dirty-rate: QEMU's checks for vm's version; {} or NULL + err. */
json_t *fq_cmd_calc_dirty_rate(struct fq_vm *vm, const json_t *args,
                               struct fq_error *err);
/* query-dirty-rate's DirtyRateInfo (new ref), or NULL + err. */
json_t *fq_cmd_query_dirty_rate(struct fq_vm *vm, const json_t *args,
                                struct fq_error *err);
/*
 * The guest's measurement options: dirty-ring ENTRIES (0: none),
 * hash-rate RATE, seed N.  1 if handled, 0 if not one, -1 with err.
 */
int fq_dirtyrate_set_model(struct fq_model_config *c, const char *key,
                           const char *value, struct fq_error *err);

/* monitor.c */
/* One client's session: negotiation state. */
struct fq_session {
    bool negotiated;
    bool oob;
};

/* The greeting QEMU sends on connect (new ref). */
json_t *fq_monitor_greeting(const struct fq_vm *vm);
/* The command a request names, or NULL if it names none. */
const char *fq_monitor_command_name(const json_t *req);
/* Runs one request: returns the reply (new ref), id echoed. */
json_t *fq_monitor_request(struct fq_vm *vm, struct fq_session *s,
                           const json_t *req);
/* An error reply for req (id echoed when req has one) (new ref). */
json_t *fq_monitor_error(const json_t *req, const struct fq_error *err);
/* An event message with QEMU's timestamp (new ref). */
json_t *fq_monitor_event(const struct fq_event *ev, double wall);

/* fault.c */
enum fq_trigger {
    FQ_TRIG_AT,      /* wall seconds since the server started */
    FQ_TRIG_COMMAND, /* the Nth time a command arrives */
    FQ_TRIG_PASS,    /* MIGRATION_PASS number N */
    FQ_TRIG_STATUS,  /* the migration reaches a status */
    FQ_TRIG_CONNECT  /* the Nth client connects */
};

enum fq_action {
    FQ_ACT_HANGUP,
    FQ_ACT_HANGUP_MID,
    FQ_ACT_GARBAGE_JSON,
    FQ_ACT_BAD_UTF8,
    FQ_ACT_LATE,
    FQ_ACT_ERROR,
    FQ_ACT_FAIL_MIGRATION,
    FQ_ACT_STALL,
    FQ_ACT_UNSTALL,
    FQ_ACT_DIRTY_RATE,
    FQ_ACT_DIE,
    FQ_ACT_BREAK_STREAM /* post-copy pauses, pre-copy fails */
};

struct fq_fault {
    char vm[FQ_NAME_MAX]; /* "" for every VM */
    enum fq_trigger trigger;
    double at;                 /* FQ_TRIG_AT: seconds */
    char command[FQ_NAME_MAX]; /* FQ_TRIG_COMMAND */
    uint64_t n;                /* occurrence, pass number */
    enum fq_status status;     /* FQ_TRIG_STATUS */
    double after;              /* delay after the trigger, seconds */
    enum fq_action action;
    double seconds; /* late, stall: duration (stall 0: ever) */
    double rate;    /* dirty-rate: pages/s */
    char cls[32];   /* error: class */
    char desc[256]; /* error, fail-migration: text */
    char text[512]; /* the spec as given, for messages */
};

/* Parses one --fault spec; -1 with a message pointing at the bad part. */
int fq_fault_parse(const char *spec, struct fq_fault *f, struct fq_error *err);
/* The action's name as the grammar spells it. */
const char *fq_action_name(enum fq_action a);
/* True for actions that act on one reply (or the greeting). */
bool fq_action_on_reply(enum fq_action a);

/* A VM's faults and what has happened to each. */
struct fq_faults {
    struct fq_fault *list; /* owned copies */
    double *due;           /* wall seconds since start; <0: not due */
    bool *fired;
    size_t n;
    uint64_t *count; /* per fault: commands/connects seen */
};

/* Copies the faults that apply to VM name; -1 when out of memory. */
int fq_faults_init(struct fq_faults *fs, const struct fq_fault *all, size_t n,
                   const char *name);
void fq_faults_fini(struct fq_faults *fs);
/*
 * Reports an occurrence; returns the index of a fault that fires now and
 * acts on this reply (or greeting), or -1.  Faults with after= become due
 * at now + after instead.
 */
int fq_faults_command(struct fq_faults *fs, const char *command, double now);
int fq_faults_connect(struct fq_faults *fs, double now);
/* Marks pass and status faults due; they act at their due time. */
void fq_faults_event(struct fq_faults *fs, const struct fq_event *ev,
                     double now);
/* The index of a fault due at now (and marks it fired), or -1. */
int fq_faults_next_due(struct fq_faults *fs, double now);

/* scenario.c */
/* One VM to serve: its name, address, and config overrides. */
struct fq_vm_spec {
    char name[FQ_NAME_MAX];
    char addr[FQ_ADDR_MAX];
    char **overrides; /* "key=value", applied over the globals */
    size_t n_overrides;
};

struct fq_scenario {
    struct fq_model_config model;
    struct fq_version version;
    double time_scale;
    double tick_ms;
    struct fq_fault *faults;
    size_t n_faults;
    struct fq_vm_spec *vms;
    size_t n_vms;
    unsigned count;            /* --count */
    char qmp_dir[FQ_ADDR_MAX]; /* --qmp-dir */
    bool help;
};

void fq_scenario_init(struct fq_scenario *sc);
void fq_scenario_fini(struct fq_scenario *sc);
/* Parses argv (argv[0] skipped); -1 with a message naming the option. */
int fq_scenario_parse_args(struct fq_scenario *sc, int argc, char **argv,
                           struct fq_error *err);
/* Reads an INI scenario file; -1 with "FILE:LINE: ..." in err. */
int fq_scenario_load(struct fq_scenario *sc, const char *path,
                     struct fq_error *err);
/* Sets one option by its long name (no dashes); -1 with a message. */
int fq_scenario_set(struct fq_scenario *sc, const char *key, const char *value,
                    struct fq_error *err);
/* Applies one VM's overrides to a copy of the global model config. */
int fq_scenario_vm_config(const struct fq_scenario *sc,
                          const struct fq_vm_spec *vm,
                          struct fq_model_config *cfg, struct fq_error *err);
/* Adds the --count VMs and checks the whole; -1 with a message. */
int fq_scenario_finish(struct fq_scenario *sc, struct fq_error *err);
/* scenario_levers.c: vcpus, dirty-ring-size, channel-rate, fault-rtt,
 * incoming.  1 if handled, 0 if not a key of these, -1 a bad value. */
int fq_scenario_set_levers(struct fq_model_config *c, const char *key,
                           const char *value, struct fq_error *err);
/* Parses "64M", "1.5G", "4096" (bytes, binary suffixes). */
int fq_parse_size(const char *text, uint64_t *out);
/* Parses a rate: bytes/s with K/M/G/T (binary) or "10gbit" (decimal). */
int fq_parse_rate(const char *text, double *out);
/* Parses "500ms", "2s", "1.5m", "3" (seconds). */
int fq_parse_duration(const char *text, double *out);
/* The --help text. */
extern const char fq_usage[];

/* listen.c */
/* Opens a listening socket on unix:PATH or tcp:HOST:PORT (loopback). */
int fq_listen(const char *addr, char *actual, size_t actual_len,
              struct fq_error *err);

/* server.c */
struct fq_server;

/* Sets up every VM and its listener; NULL with a message. */
struct fq_server *fq_server_new(const struct fq_scenario *sc,
                                struct fq_error *err);
/* Runs until a signal, `die`, or every VM quit; returns an exit code. */
int fq_server_run(struct fq_server *srv);
void fq_server_free(struct fq_server *srv);

#endif /* QMIGRATE_FAKE_H */
