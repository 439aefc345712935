/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/job: one migration's driver: set up, migrate, sample, apply the policy,
 * end safely. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/job_internal.h"

/*
 * The job is a chain of QMP replies.  Each step is a function that sends
 * one command; its reply callback runs the next step.  Whatever way the
 * job ends, it goes through job_finish() exactly once, and before that,
 * when a migration was started, through the end checks that leave the
 * guest running on exactly one side (or say loudly why not).
 */

static void job_preflight(struct job *job);
static int job_tls_setup(struct job *job, struct qmp_client *side,
                         json_t *params);
static void job_after_final(struct job *job, const struct policy_sample *s,
                            json_t *reply);

static double
job_now(const struct job *job)
{
    return ev_now(job->loop) - job->t0;
}

static const char *
job_vm(const struct job *job)
{
    return job->name[0] ? job->name : NULL;
}

void
job_finish(struct job *job, enum qm_exit code, const char *result,
           const char *fmt, ...)
{
    struct job_result *res = &job->result;
    va_list ap;
    json_t *obj;

    if (job->phase == PHASE_DONE) {
        return;
    }
    job->phase = PHASE_DONE;
    ev_timer_stop(job->loop, &job->poll_timer);
    ev_timer_stop(job->loop, &job->cancel_timer);
    ev_timer_stop(job->loop, &job->settle_timer);
    ev_timer_stop(job->loop, &job->disk_timer);
    ev_timer_stop(job->loop, &job->reconnect_timer);
    res->code = code;
    res->result = result;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
    va_end(ap);
    res->total_time_s = job_now(job);
    obj = json_object();
    json_object_set_new(obj, "result", json_string(result));
    json_object_set_new(obj, "reason", json_string(res->reason));
    json_object_set_new(obj, "exit_code", json_integer(code));
    json_object_set_new(obj, "downtime_ms",
                        res->downtime_ms >= 0 ? json_integer(res->downtime_ms)
                                              : json_null());
    json_object_set_new(
        obj, "total_time_ms",
        json_integer((json_int_t)llround(res->total_time_s * 1000.0)));
    json_object_set_new(obj, "transferred",
                        json_integer((json_int_t)res->transferred));
    metrics_result(job->out->metrics, job_vm(job), res);
    trace_write(job, "end", json_incref(obj));
    output_json(job->out, job_vm(job), "end", res->total_time_s, obj);
    output_line_end(job->out);
    if (code == QM_EXIT_COMPLETED) {
        output_note(job->out, 0, "%s%s%s", job_vm(job) ? job_vm(job) : "",
                    job_vm(job) ? ": " : "", res->reason);
    } else {
        output_error(job->out, "%s%s%s", job_vm(job) ? job_vm(job) : "",
                     job_vm(job) ? ": " : "", res->reason);
    }
    /* Let go of the monitors at once: QEMU serves one client at a time. */
    if (job->src != NULL) {
        qmp_client_close(job->src);
    }
    if (job->dst != NULL) {
        qmp_client_close(job->dst);
    }
    trace_close(job);
    if (job->done != NULL) {
        job->done(job, res, job->opaque);
    }
}

/* A command in flight: whose it is, and what to do with the reply. */
struct job_call {
    struct job *job;
    job_reply_fn *reply;
};

/* Every reply passes here: counted, then dropped if the job is over. */
static void
job_call_reply(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
               void *opaque)
{
    struct job_call *call = opaque;
    struct job *job = call->job;

    (void)c;
    job->pending--;
    if (job->phase != PHASE_DONE && call->reply != NULL) {
        call->reply(job, ret, err);
    }
}

/*
 * Sends a command on one side; reply (NULL: none wanted) runs with the
 * answer unless the job ended meanwhile.  When the command cannot even be
 * queued, the job ends as a monitor error.  Returns 0 or -1.
 */
int
job_send(struct job *job, struct qmp_client *side, const char *command,
         json_t *args, job_reply_fn *reply)
{
    struct job_call *call = malloc(sizeof(*call));
    struct qmp_error err;

    if (call == NULL) {
        json_decref(args);
        job_finish(job, QM_EXIT_FAILED, "error", "out of memory");
        return -1;
    }
    call->job = job;
    call->reply = reply;
    job->pending++;
    if (qmp_client_execute(side, command, args, job_call_reply, call, free,
                           &err) < 0) {
        job->pending--;
        job_finish(job, QM_EXIT_MONITOR, "error", "%s", err.message);
        return -1;
    }
    return 0;
}

/* A QMP error during set-up: nothing was started. */
void
job_setup_failed(struct job *job, const struct qmp_error *err)
{
    enum qm_exit code =
        err->kind == QMP_ERROR_COMMAND ? QM_EXIT_USAGE : QM_EXIT_MONITOR;

    job_finish(job, code, "error", "%s", err->message);
}

/*
 * What "unlimited" is sent as.  QEMU 7.2 reads max-bandwidth 0 as no limit
 * for RAM, but its block migration then copies almost nothing per round
 * (it sizes its reads by the rate limit), so unlimited is a rate no link
 * reaches: 16 GiB/s, Proxmox VE's choice for the same reason.
 */
static uint64_t
qemu_max_bandwidth(uint64_t bandwidth)
{
    return bandwidth != 0 ? bandwidth : (uint64_t)16 << 30;
}

/* --- set-up ------------------------------------------------------------ */

static void
migrate_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL && err->kind == QMP_ERROR_COMMAND) {
        job_finish(job, QM_EXIT_FAILED, "failed",
                   "QEMU refused the migration: %s", err->message);
        return;
    }
    job->migrate_sent = true;
    job->migrate_time = job_now(job);
    job->phase = PHASE_MONITOR;
    ev_timer_again(job->loop, &job->poll_timer);
    if (err != NULL) {
        /*
         * The reply was lost, not refused: QEMU may well have started the
         * migration.  Treat it as a monitor lost mid-migration (one
         * reconnect, then follow or cancel it; else say how to find it).
         */
        job->migrate_reply_lost = true;
        job_monitor_lost(job, job->src, err);
        return;
    }
    if (job->cancel_requested) {
        job_begin_cancel(job, job->cancel_code, "%s", job->cancel_reason);
        return;
    }
    job_poll(job);
}

/* The start line (once): the migration as a whole begins, disks first. */
void
job_announce_start(struct job *job)
{
    uint64_t disk_total = 0;
    json_t *start;
    size_t i;

    if (job->announced) {
        return;
    }
    job->announced = true;
    for (i = 0; i < job->n_disks; i++) {
        disk_total += job->disks[i].size;
    }
    start = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "source",
                      job->opts.source, "uri", job->opts.uri, "policy",
                      policy_kind_name(job->opts.policy.kind), "ram_total",
                      (json_int_t)job->ram_size, "disk_total",
                      (json_int_t)disk_total, "downtime_limit_ms",
                      (json_int_t)job->downtime_limit_ms, "bandwidth",
                      (json_int_t)job->bandwidth);
    json_object_set_new(start, "settings", job_settings_json(job));
    if (job->opts.dest[0] != '\0') {
        json_object_set_new(start, "dest", json_string(job->opts.dest));
    }
    output_note(job->out, 0, "%s%smigrating %s to %s (policy %s)",
                job_vm(job) ? job_vm(job) : "", job_vm(job) ? ": " : "",
                job->opts.source, job->opts.uri,
                policy_kind_name(job->opts.policy.kind));
    trace_write(job, "start", json_incref(start));
    output_json(job->out, job_vm(job), "start", job_now(job), start);
    for (i = 0; i < job->initial.n_actions; i++) {
        output_action(job->out, job_vm(job), job_now(job),
                      &job->initial.actions[i]);
        trace_action(job, &job->initial.actions[i]);
    }
}

void
job_migrate(struct job *job)
{
    json_t *args = json_pack("{s:s}", "uri", job->opts.uri);

    if (job->opts.disk == DISK_BLK) {
        json_object_set_new(args, "blk", json_true());
    }
    job->phase = PHASE_MIGRATE;
    job_announce_start(job);
    job_send(job, job->src, "migrate", args, migrate_reply);
}

static void
setup_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    if (job->pending > 0) {
        return; /* the other set-up commands are still out */
    }
    if (job->cancel_requested) {
        job_finish(job, job->cancel_code, "cancelled",
                   "%s before the migration started; nothing was changed "
                   "but the migration settings",
                   job->cancel_reason);
        return;
    }
    if (job->opts.disk == DISK_MIRROR) {
        disk_mirror_start(job);
    } else {
        job_migrate(job);
    }
}

static json_t *
caps_json(bool events, bool auto_converge, bool postcopy, bool pause_switch)
{
    json_t *caps = json_array();

    if (pause_switch) {
        json_array_append_new(caps,
                              json_pack("{s:s, s:b}", "capability",
                                        "pause-before-switchover", "state", 1));
    }

    json_array_append_new(
        caps, json_pack("{s:s, s:b}", "capability", "events", "state", events));
    if (auto_converge) {
        json_array_append_new(caps, json_pack("{s:s, s:b}", "capability",
                                              "auto-converge", "state", 1));
    }
    if (postcopy) {
        json_array_append_new(caps, json_pack("{s:s, s:b}", "capability",
                                              "postcopy-ram", "state", 1));
    }
    return json_pack("{s:o}", "capabilities", caps);
}

/*
 * Everything QEMU must know before migrate: capabilities cannot change
 * once a migration runs, so they all go now, then the parameters.
 */
void
job_setup(struct job *job)
{
    const struct policy_config *p = &job->opts.policy;
    struct policy_output *init = &job->initial;
    json_t *params;
    size_t i;

    job->phase = PHASE_SETUP;
    memset(init, 0, sizeof(*init));
    policy_initial_actions(p, &job->pstate, init);
    job->downtime_limit_ms = 300; /* QEMU's own default */
    job->bandwidth = p->bandwidth;
    for (i = 0; i < init->n_actions; i++) {
        if (init->actions[i].kind == POLICY_ACTION_SET_DOWNTIME) {
            job->downtime_limit_ms = init->actions[i].value;
        } else if (init->actions[i].kind == POLICY_ACTION_SET_BANDWIDTH) {
            job->bandwidth = init->actions[i].value;
        }
    }
    params = json_pack("{s:I, s:I}", "downtime-limit",
                       (json_int_t)job->downtime_limit_ms, "max-bandwidth",
                       (json_int_t)qemu_max_bandwidth(job->bandwidth));
    if (p->auto_converge_permitted && p->kind == POLICY_ADAPTIVE) {
        /* Held back until the policy releases it; see docs/policy.md. */
        json_object_set_new(params, "throttle-trigger-threshold",
                            json_integer(100));
    }
    if (job_tls_setup(job, job->src, params) < 0) {
        json_decref(params);
        return;
    }
    if (job_send(job, job->src, "migrate-set-capabilities",
                 caps_json(true, p->auto_converge_permitted,
                           p->postcopy_permitted,
                           job->opts.disk == DISK_MIRROR),
                 setup_reply) < 0) {
        json_decref(params);
        return;
    }
    if (job_send(job, job->src, "migrate-set-parameters", params, setup_reply) <
        0) {
        return;
    }
    if (job->dst != NULL) {
        json_t *dparams = json_object();

        if (job_tls_setup(job, job->dst, dparams) < 0 ||
            job_send(job, job->dst, "migrate-set-capabilities",
                     caps_json(true, false, p->postcopy_permitted, false),
                     setup_reply) < 0) {
            json_decref(dparams);
            return;
        }
        /* TLS must be in place before the destination listens */
        if (json_object_size(dparams) > 0) {
            if (job_send(job, job->dst, "migrate-set-parameters", dparams,
                         setup_reply) < 0) {
                return;
            }
        } else {
            json_decref(dparams);
        }
        if (job->dst_needs_incoming) {
            job_send(job, job->dst, "migrate-incoming",
                     json_pack("{s:s}", "uri", job->opts.uri), setup_reply);
        }
    }
}

/*
 * TLS: with --tls-dir, a tls-creds-x509 object on each side (client on the
 * source, server on the destination, peers verified), then QEMU's
 * tls-creds parameter names it; with --tls-creds, the operator's object.
 * Adds the parameters to params; -1 when the job ended.
 */
static int
job_tls_setup(struct job *job, struct qmp_client *side, json_t *params)
{
    const char *id = job->opts.tls_creds;

    if (job->opts.tls_dir[0] != '\0') {
        id = job->tls_object;
        if (job_send(job, side, "object-add",
                     json_pack("{s:s, s:s, s:s, s:s, s:b}", "qom-type",
                               "tls-creds-x509", "id", id, "dir",
                               job->opts.tls_dir, "endpoint",
                               side == job->src ? "client" : "server",
                               "verify-peer", 1),
                     setup_reply) < 0) {
            return -1;
        }
    }
    if (id[0] == '\0') {
        return 0;
    }
    json_object_set_new(params, "tls-creds", json_string(id));
    if (side == job->src && job->opts.tls_hostname[0] != '\0') {
        json_object_set_new(params, "tls-hostname",
                            json_string(job->opts.tls_hostname));
    }
    return 0;
}

/* A clear-text stream that leaves this machine deserves a word. */
static void
job_warn_clear_text(struct job *job)
{
    const char *uri = job->opts.uri;
    const char *host;

    if (job->opts.tls_creds[0] != '\0' || job->opts.tls_dir[0] != '\0') {
        return;
    }
    if (strncmp(uri, "tcp:", 4) == 0) {
        host = uri + 4;
    } else if (strncmp(uri, "rdma:", 5) == 0) {
        host = uri + 5;
    } else {
        return; /* unix: and file: stay on this machine */
    }
    if (strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
        strncmp(host, "[::1]:", 6) == 0) {
        return;
    }
    output_note(job->out, 0,
                "%s%swarning: the migration stream to %s is not encrypted: "
                "guest memory crosses the network in clear text (use "
                "--tls-dir or --tls-creds)",
                job_vm(job) ? job_vm(job) : "", job_vm(job) ? ": " : "", uri);
}

/* --- preflight: is this a guest we may migrate? ------------------------- */

static void
job_after_preflight(struct job *job)
{
    if (job->opts.disk != DISK_NONE) {
        disk_discover(job); /* then job_setup() */
    } else {
        job_setup(job);
    }
}

static void
dst_query_migrate_reply(struct job *job, json_t *ret,
                        const struct qmp_error *err)
{
    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    /* Listening already (-incoming URI) or waiting for migrate-incoming. */
    job->dst_needs_incoming = json_object_get(ret, "socket-address") == NULL &&
                              json_object_get(ret, "status") == NULL;
    job_after_preflight(job);
}

static void
dst_status_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    const char *status;

    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    status = json_string_value(json_object_get(ret, "status"));
    if (status == NULL || strcmp(status, "inmigrate") != 0) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "--dest %s is not waiting for an incoming migration "
                   "(its status is '%s'); start it with -incoming",
                   job->opts.dest, status ? status : "unknown");
        return;
    }
    job_send(job, job->dst, "query-migrate", NULL, dst_query_migrate_reply);
}

static void
memory_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    json_t *base;

    /* Optional: older QEMUs lack it; the first sample has ram.total. */
    base = json_object_get(ret, "base-memory");
    if (err == NULL && json_is_integer(base) && json_integer_value(base) > 0) {
        job->ram_size = (uint64_t)json_integer_value(base);
    }
    if (job->dst != NULL) {
        job_send(job, job->dst, "query-status", NULL, dst_status_reply);
    } else {
        job_after_preflight(job);
    }
}

/* A query-migrate reply before anything runs: -1 when the job ended. */
static int
setup_sample(struct job *job, json_t *ret, const struct qmp_error *err,
             struct policy_sample *s)
{
    char why[256];

    if (err != NULL) {
        job_setup_failed(job, err);
        return -1;
    }
    if (sample_from_query_migrate(ret, s, why, sizeof(why)) < 0) {
        job_finish(job, QM_EXIT_MONITOR, "error", "monitor %s: %s",
                   job->opts.source, why);
        return -1;
    }
    return 0;
}

static void
src_query_migrate_reply(struct job *job, json_t *ret,
                        const struct qmp_error *err)
{
    struct policy_sample s;

    if (setup_sample(job, ret, err, &s) < 0) {
        return;
    }
    if (s.status != MIGRATION_STATUS_NONE &&
        !migration_status_is_final(s.status)) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "a migration is already in progress on %s (status %s); "
                   "use 'qmigrate watch' to follow it or 'qmigrate cancel' "
                   "to stop it",
                   job->opts.source, migration_status_name(s.status));
        return;
    }
    job_send(job, job->src, "query-memory-size-summary", NULL, memory_reply);
}

static void
src_status_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    const char *status;

    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    status = json_string_value(json_object_get(ret, "status"));
    if (status == NULL) {
        job_finish(job, QM_EXIT_MONITOR, "error",
                   "monitor %s: query-status has no 'status' string",
                   job->opts.source);
        return;
    }
    if (strcmp(status, "running") == 0) {
        job->source_was_running = true;
    } else if (strcmp(status, "paused") == 0 ||
               strcmp(status, "prelaunch") == 0) {
        job->source_was_running = false;
    } else if (strcmp(status, "inmigrate") == 0) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "--source %s is waiting for an incoming migration: it is "
                   "a destination, not a source",
                   job->opts.source);
        return;
    } else if (strcmp(status, "postmigrate") == 0) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "the guest behind %s was already migrated away (status "
                   "postmigrate); it runs elsewhere, not here",
                   job->opts.source);
        return;
    } else {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "the guest behind %s cannot be migrated in run state "
                   "'%s'",
                   job->opts.source, status);
        return;
    }
    job_send(job, job->src, "query-migrate", NULL, src_query_migrate_reply);
}

static void
job_preflight(struct job *job)
{
    job_warn_clear_text(job);
    job->phase = PHASE_PREFLIGHT;
    job_send(job, job->src, "query-status", NULL, src_status_reply);
}

/* --- watch and cancel: attach to a migration started elsewhere ------------ */

static void
attach_params_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    json_t *v;

    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    v = json_object_get(ret, "downtime-limit");
    job->downtime_limit_ms =
        json_is_integer(v) ? (uint64_t)json_integer_value(v) : 300;
    v = json_object_get(ret, "max-bandwidth");
    job->bandwidth = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    job->migrate_sent = true;
    job->migrate_time = job_now(job);
    job->phase = PHASE_MONITOR;
    output_note(job->out, 0, "%s%s%s the migration on %s",
                job_vm(job) ? job_vm(job) : "", job_vm(job) ? ": " : "",
                job->opts.command == CMD_WATCH ? "watching" : "cancelling",
                job->opts.source);
    if (job->opts.command == CMD_CANCEL) {
        job_begin_cancel(job, QM_EXIT_ABORTED,
                         "cancelled with 'qmigrate cancel'");
        return;
    }
    ev_timer_again(job->loop, &job->poll_timer);
    job_poll(job);
}

static void
attach_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    struct policy_sample s;

    if (setup_sample(job, ret, err, &s) < 0) {
        return;
    }
    if (s.status == MIGRATION_STATUS_NONE ||
        migration_status_is_final(s.status)) {
        job_finish(
            job, QM_EXIT_COMPLETED, "none",
            "no migration in progress on %s (%s%s)%s", job->opts.source,
            s.status == MIGRATION_STATUS_NONE ? "none since QEMU "
                                                "started"
                                              : "the last one: ",
            s.status == MIGRATION_STATUS_NONE ? ""
                                              : migration_status_name(s.status),
            job->opts.command == CMD_CANCEL ? "; nothing to cancel" : "");
        return;
    }
    job_send(job, job->src, "query-migrate-parameters", NULL,
             attach_params_reply);
}

static void
job_attach(struct job *job)
{
    job->phase = PHASE_PREFLIGHT;
    job_send(job, job->src, "query-migrate", NULL, attach_reply);
}

/* --- monitoring ---------------------------------------------------------- */

static void
action_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        output_note(job->out, 0, "warning: %s", err->message);
    }
}

/*
 * A refused limit is not in force: the samples go on carrying QEMU's, so
 * the policy sees it still needs setting and tries again.
 */
static void
downtime_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    action_reply(job, ret, err);
    if (err != NULL) {
        job->downtime_limit_ms = job->downtime_before;
    }
}

static void
bandwidth_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    action_reply(job, ret, err);
    if (err != NULL) {
        job->bandwidth = job->bandwidth_before;
    }
}

static void
job_apply(struct job *job, const struct policy_action *a)
{
    output_action(job->out, job_vm(job), job_now(job), a);
    trace_action(job, a);
    switch (a->kind) {
    case POLICY_ACTION_SET_DOWNTIME:
        job->downtime_before = job->downtime_limit_ms;
        job->downtime_limit_ms = a->value;
        job_send(job, job->src, "migrate-set-parameters",
                 json_pack("{s:I}", "downtime-limit", (json_int_t)a->value),
                 downtime_reply);
        break;
    case POLICY_ACTION_SET_BANDWIDTH:
        job->bandwidth_before = job->bandwidth;
        job->bandwidth = a->value;
        job_send(job, job->src, "migrate-set-parameters",
                 json_pack("{s:I}", "max-bandwidth",
                           (json_int_t)qemu_max_bandwidth(a->value)),
                 bandwidth_reply);
        break;
    case POLICY_ACTION_AUTO_CONVERGE:
        if (!job->opts.policy.auto_converge_permitted) {
            output_note(job->out, 0,
                        "warning: the policy asked for auto-converge, "
                        "which --auto-converge did not permit");
            break;
        }
        job_send(job, job->src, "migrate-set-parameters",
                 json_pack("{s:i}", "throttle-trigger-threshold", 1),
                 action_reply);
        break;
    case POLICY_ACTION_START_POSTCOPY:
        job->postcopy_requested = true;
        job_send(job, job->src, "migrate-start-postcopy", NULL, action_reply);
        break;
    case POLICY_ACTION_PAUSE:
        if (!job->paused_by_us) {
            job->paused_by_us = true;
            job_send(job, job->src, "stop", NULL, action_reply);
        }
        break;
    case POLICY_ACTION_CANCEL:
        job_begin_cancel(job, QM_EXIT_ABORTED, "%s", a->reason);
        break;
    }
}

/*
 * Post-copy cannot be cancelled (the guest runs on the destination), so no
 * policy acts on it; but a post-copy whose stream is dead must not keep
 * qmigrate polling for ever.  After the progress timeout (150 s when it
 * is off) without a byte moved, qmigrate ends, loudly, and leaves QEMU
 * alone.
 */
static bool
job_postcopy_stalled(struct job *job, const struct policy_sample *s)
{
    double limit = job->opts.policy.progress_timeout_s > 0
                       ? job->opts.policy.progress_timeout_s
                       : 150.0;
    double idle = s->t - job->pstate.track.t_moved;

    if (!migration_status_is_postcopy(s->status) || idle <= limit) {
        return false;
    }
    job_finish(job, QM_EXIT_FAILED, "failed",
               "post-copy stalled: no bytes moved for %.0f s (status %s). "
               "The guest is split: it runs on the destination, which cannot "
               "fetch its remaining pages from the source. Do not resume "
               "the source; repair the link and use QEMU's post-copy "
               "recovery (migrate-recover on the destination, migrate with "
               "resume=true on the source)",
               idle, migration_status_name(s->status));
    return true;
}

/* One sample through the policy, into the record and out to people. */
void
job_take_sample(struct job *job, const struct policy_sample *s,
                struct policy_output *out)
{
    job->last_sample = *s;
    job->have_sample = true;
    if (s->ram_transferred + s->disk_transferred > job->result.transferred) {
        job->result.transferred = s->ram_transferred + s->disk_transferred;
    }
    memset(out, 0, sizeof(*out));
    policy_step(&job->opts.policy, &job->pstate, s, out);
    job->last_report = out->report;
    trace_sample(job, s, &out->report);
    output_progress(job->out, job_vm(job), s->t, s, &out->report);
}

static void
poll_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    struct policy_sample s;
    struct policy_output out;
    char why[256];
    size_t i;

    job->poll_in_flight = false;
    if (err != NULL && err->kind == QMP_ERROR_COMMAND &&
        ++job->poll_refusals < JOB_POLL_REFUSALS_MAX) {
        /* QEMU answered, in QMP: the monitor is fine; ask again */
        output_note(job->out, 0, "warning: %s (refusal %d of %d)", err->message,
                    job->poll_refusals, JOB_POLL_REFUSALS_MAX);
        return;
    }
    if (err != NULL && err->kind == QMP_ERROR_COMMAND) {
        job_begin_cancel(job, QM_EXIT_FAILED,
                         "QEMU refused query-migrate %d times in a row (%s): "
                         "qmigrate cannot follow the migration",
                         job->poll_refusals, err->message);
        return;
    }
    if (err != NULL) {
        job_monitor_lost(job, job->src, err);
        return;
    }
    job->poll_refusals = 0;
    if (sample_from_query_migrate(ret, &s, why, sizeof(why)) < 0) {
        /* The monitor answers, but not as QEMU does: stop the migration. */
        job_begin_cancel(job, QM_EXIT_MONITOR, "monitor %s: %s",
                         job->opts.source, why);
        return;
    }
    s.t = job_now(job);
    s.downtime_limit_ms = job->downtime_limit_ms;
    s.bandwidth_limit = job->bandwidth;
    s.pass_event = job->pass_event;
    job->pass_event = false;
    disk_fill_sample(job, &s);
    if (migration_status_is_postcopy(s.status)) {
        job->postcopy_started = true;
    }
    job_take_sample(job, &s, &out);
    if (migration_status_is_final(s.status)) {
        job_after_final(job, &s, ret);
        return;
    }
    if (job->postcopy_started && job_postcopy_stalled(job, &s)) {
        return;
    }
    if (s.status == MIGRATION_STATUS_PRE_SWITCHOVER &&
        job->opts.command == CMD_MIGRATE) {
        disk_switchover(job);
    }
    if (s.status == MIGRATION_STATUS_NONE && job->migrate_sent &&
        s.t - job->migrate_time > (job->migrate_reply_lost ? 2.0 : 10.0)) {
        /* nothing runs: there is nothing to undo, only to check */
        ev_timer_stop(job->loop, &job->poll_timer);
        job->phase = PHASE_FINISH;
        job_end_on_source(job, QM_EXIT_FAILED, "failed",
                          job->migrate_reply_lost
                              ? "the reply to 'migrate' was lost and QEMU "
                                "reports no migration: none was started"
                              : "QEMU accepted 'migrate' but reports no "
                                "migration",
                          NULL);
        return;
    }
    if (job->phase == PHASE_MONITOR && job->opts.command == CMD_MIGRATE) {
        for (i = 0; i < out.n_actions && job->phase == PHASE_MONITOR; i++) {
            job_apply(job, &out.actions[i]);
        }
    } else if (job->opts.command == CMD_WATCH) {
        for (i = 0; i < out.n_actions; i++) {
            output_advice(job->out, job_vm(job), s.t, &out.actions[i]);
            trace_action(job, &out.actions[i]);
        }
    }
    if (job->poll_again && job->phase != PHASE_DONE) {
        job->poll_again = false;
        job_poll(job);
    }
}

void
job_poll(struct job *job)
{
    if (job->reconnecting) {
        return;
    }
    if (job->phase != PHASE_MONITOR && job->phase != PHASE_CANCEL) {
        return;
    }
    if (job->poll_in_flight) {
        job->poll_again = true;
        return;
    }
    job->poll_in_flight = true;
    if (job_send(job, job->src, "query-migrate", NULL, poll_reply) == 0) {
        disk_poll(job);
    }
}

static void
poll_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    if (job->phase == PHASE_MIRROR) {
        disk_poll(job);
    } else {
        job_poll(job);
    }
}

/* --- the end ------------------------------------------------------------- */

/* What a cancel of ours ends as: aborted (exit 3), or failed (exit 1). */
static const char *
cancel_result(const struct job *job)
{
    return job->cancel_code == QM_EXIT_ABORTED ? "aborted" : "failed";
}

static void
job_after_final(struct job *job, const struct policy_sample *s, json_t *reply)
{
    struct migrate_summary sum;

    summary_from_query_migrate(reply, &sum);
    job->result.downtime_ms = sum.downtime_ms;
    ev_timer_stop(job->loop, &job->poll_timer);
    job->phase = PHASE_FINISH;
    switch (s->status) {
    case MIGRATION_STATUS_COMPLETED:
        /*
         * QEMU says completed before it has computed the downtime and
         * moved the source to postmigrate: ask again a moment later.
         */
        ev_timer_set(&job->settle_timer, 0.2, 0.0);
        ev_timer_start(job->loop, &job->settle_timer);
        break;
    case MIGRATION_STATUS_FAILED:
        job_end_on_source(
            job, job->cancelling ? job->cancel_code : QM_EXIT_FAILED,
            job->cancelling ? cancel_result(job) : "failed",
            job->cancelling ? job->cancel_reason : NULL, sum.error_desc);
        break;
    default: /* cancelled */
        job_end_on_source(job,
                          job->cancelling ? job->cancel_code : QM_EXIT_ABORTED,
                          job->cancelling ? cancel_result(job) : "cancelled",
                          job->cancelling ? job->cancel_reason
                                          : "the migration was cancelled by "
                                            "another monitor client",
                          NULL);
        break;
    }
}

static void
settle_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    struct migrate_summary sum;

    if (err == NULL) {
        summary_from_query_migrate(ret, &sum);
        if (sum.downtime_ms >= 0) {
            job->result.downtime_ms = sum.downtime_ms;
        }
    }
    sum.downtime_ms = job->result.downtime_ms;
    job_end_completed(job, &sum);
}

static void
settle_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    job_send(job, job->src, "query-migrate", NULL, settle_reply);
}

/* --- connection --------------------------------------------------------- */

static void
client_ready(struct qmp_client *c, void *opaque)
{
    struct job *job = opaque;
    const struct qmp_greeting *g = qmp_client_greeting(c);

    output_note(job->out, 1, "connected to %s: QEMU %d.%d.%d %s",
                qmp_client_address(c), g->major, g->minor, g->micro,
                g->package);
    if (c == job->src) {
        job->src_ready = true;
        job->qemu_major = g->major;
        job->qemu_minor = g->minor;
        if (job->reconnecting) {
            job_reconnected(job);
            return;
        }
    } else {
        job->dst_ready = true;
    }
    if (job->phase == PHASE_CONNECT && job->src_ready &&
        (job->dst == NULL || job->dst_ready)) {
        if (job->cancel_requested) {
            job_finish(job, job->cancel_code, "cancelled", "%s",
                       job->cancel_reason);
            return;
        }
        if (job->opts.command == CMD_MIGRATE) {
            job_preflight(job);
        } else {
            job_attach(job);
        }
    }
}

static void
client_event(struct qmp_client *c, const char *name, json_t *data,
             double timestamp, void *opaque)
{
    struct job *job = opaque;

    (void)data;
    (void)timestamp;
    if (c != job->src) {
        output_note(job->out, 2, "destination event %s", name);
        return;
    }
    output_note(job->out, 2, "event %s", name);
    if (strcmp(name, "MIGRATION_PASS") == 0) {
        job->pass_event = true;
        job_poll(job);
    } else if (strcmp(name, "MIGRATION") == 0) {
        job_poll(job);
    }
}

static void
client_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    struct job *job = opaque;

    job_monitor_lost(job, c, why);
}

struct job *
job_new(struct ev_loop *loop, const struct qm_options *o, const char *name,
        struct qm_output *out, job_done_fn *done, void *opaque)
{
    struct job *job = calloc(1, sizeof(*job));
    const char *ssh_options[QM_SSH_OPTIONS_MAX];
    struct qmp_options qo;
    unsigned i;
    struct qmp_handlers h = {
        .ready = client_ready,
        .event = client_event,
        .closed = client_closed,
    };

    if (job == NULL) {
        return NULL;
    }
    job->loop = loop;
    job->opts = *o;
    snprintf(job->name, sizeof(job->name), "%s", name ? name : "");
    job->out = out;
    job->done = done;
    job->opaque = opaque;
    job->result.downtime_ms = -1;
    job->result.result = "error";
    h.opaque = job;
    qmp_options_init(&qo);
    qo.greeting_timeout = o->greeting_timeout_s;
    qo.command_timeout = o->command_timeout_s;
    for (i = 0; i < o->n_ssh_options && i < QM_SSH_OPTIONS_MAX; i++) {
        ssh_options[i] = o->ssh_options[i]; /* copied by qmp_client_new */
    }
    qo.ssh_options = ssh_options;
    qo.n_ssh_options = i;
    job->src = qmp_client_new(loop, &qo, &h);
    if (job->src == NULL) {
        free(job);
        return NULL;
    }
    if (o->dest[0] != '\0') {
        job->dst = qmp_client_new(loop, &qo, &h);
        if (job->dst == NULL) {
            qmp_client_free(job->src);
            free(job);
            return NULL;
        }
    }
    ev_init(&job->poll_timer, poll_timer_cb);
    job->poll_timer.repeat = o->interval_ms / 1000.0;
    job->poll_timer.data = job;
    ev_init(&job->cancel_timer, job_cancel_timeout_cb);
    job->cancel_timer.data = job;
    snprintf(job->tls_object, sizeof(job->tls_object), "qmigrate-tls-%ld-%p",
             (long)getpid(), (void *)job);
    ev_init(&job->reconnect_timer, job_reconnect_cb);
    job->reconnect_timer.data = job;
    ev_init(&job->settle_timer, settle_timer_cb);
    job->settle_timer.data = job;
    ev_init(&job->disk_timer, NULL);
    job->disk_timer.data = job;
    policy_state_init(&job->pstate, &job->opts.policy);
    return job;
}

bool
job_last(const struct job *job, struct policy_sample *s,
         struct policy_report *r)
{
    if (!job->have_sample) {
        return false;
    }
    *s = job->last_sample;
    *r = job->last_report;
    return true;
}

void
job_start(struct job *job)
{
    struct qmp_error err;

    job->t0 = ev_now(job->loop);
    job->phase = PHASE_CONNECT;
    if (trace_open(job) < 0) {
        return;
    }
    if (qmp_client_connect(job->src, job->opts.source, &err) < 0) {
        job_finish(job, QM_EXIT_MONITOR, "error", "%s", err.message);
        return;
    }
    if (job->dst != NULL &&
        qmp_client_connect(job->dst, job->opts.dest, &err) < 0) {
        job_finish(job, QM_EXIT_MONITOR, "error", "%s", err.message);
    }
}

void
job_free(struct job *job)
{
    if (job == NULL) {
        return;
    }
    job->phase = PHASE_DONE;
    ev_timer_stop(job->loop, &job->poll_timer);
    ev_timer_stop(job->loop, &job->cancel_timer);
    ev_timer_stop(job->loop, &job->settle_timer);
    ev_timer_stop(job->loop, &job->disk_timer);
    ev_timer_stop(job->loop, &job->reconnect_timer);
    trace_close(job);
    qmp_client_free(job->src);
    qmp_client_free(job->dst);
    free(job);
}
