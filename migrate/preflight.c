/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/preflight: is this a guest we may migrate, and to there?  And for
 * watch and cancel: the migration that already runs. */
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/* A clear-text stream that leaves this machine deserves a word. */
static void
warn_clear_text(struct engine *e)
{
    const char *uri = e->cfg.uri;
    const char *host;

    if (e->cfg.tls_creds != NULL || e->cfg.tls_dir != NULL || uri == NULL) {
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
    engine_note(e, 0,
                "%swarning: the migration stream to %s is not encrypted: "
                "guest memory crosses the network in clear text (use "
                "--tls-dir or --tls-creds)",
                engine_prefix(e), uri);
}

void
preflight_clear(struct engine_preflight *pre)
{
    json_decref(pre->src_status);
    json_decref(pre->src_migrate);
    json_decref(pre->src_memory);
    json_decref(pre->dst_status);
    json_decref(pre->dst_migrate);
    json_decref(pre->src_caps);
    json_decref(pre->src_cpus);
    json_decref(pre->dst_caps);
    memset(pre, 0, sizeof(*pre));
}

/* --- the judgement, once every answer is in ------------------------------ */

/* The source's run state: may it be migrated?  -1 when the engine ended. */
static int
judge_source_status(struct engine *e, json_t *ret)
{
    const char *name;

    switch (qemu_runstate_of(ret, &name)) {
    case QEMU_RUN_RUNNING:
        e->source_was_running = true;
        return 0;
    case QEMU_RUN_PAUSED:
    case QEMU_RUN_PRELAUNCH:
        e->source_was_running = false;
        return 0;
    case QEMU_RUN_INMIGRATE:
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--source %s is waiting for an incoming migration: it "
                      "is a destination, not a source",
                      e->cfg.source);
        return -1;
    case QEMU_RUN_POSTMIGRATE:
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "the guest behind %s was already migrated away (status "
                      "postmigrate); it runs elsewhere, not here",
                      e->cfg.source);
        return -1;
    default:
        break;
    }
    if (json_string_value(json_object_get(ret, "status")) == NULL) {
        engine_finish(e, QM_EXIT_MONITOR, "error",
                      "monitor %s: query-status has no 'status' string",
                      e->cfg.source);
    } else {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "the guest behind %s cannot be migrated in run state "
                      "'%s'",
                      e->cfg.source, name);
    }
    return -1;
}

/* A query-migrate reply read as a sample: -1 when the engine ended. */
static int
judge_sample(struct engine *e, json_t *ret, struct policy_sample *s)
{
    char why[256];

    if (sample_from_query_migrate(ret, s, why, sizeof(why)) < 0) {
        engine_finish(e, QM_EXIT_MONITOR, "error", "monitor %s: %s",
                      e->cfg.source, why);
        return -1;
    }
    return 0;
}

static int
judge_no_migration(struct engine *e, json_t *ret)
{
    struct policy_sample s;

    if (judge_sample(e, ret, &s) < 0) {
        return -1;
    }
    if (s.status != MIGRATION_STATUS_NONE &&
        !migration_status_is_final(s.status)) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "a migration is already in progress on %s (status %s); "
                      "use 'qmigrate watch' to follow it or 'qmigrate cancel' "
                      "to stop it",
                      e->cfg.source, migration_status_name(s.status));
        return -1;
    }
    return 0;
}

static int
judge_dest_status(struct engine *e, json_t *ret)
{
    const char *name;

    if (qemu_runstate_of(ret, &name) != QEMU_RUN_INMIGRATE) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--dest %s is not waiting for an incoming migration "
                      "(its status is '%s'); start it with -incoming",
                      e->cfg.dest, name);
        return -1;
    }
    return 0;
}

static void
preflight_judge(struct engine *e)
{
    struct engine_preflight *pre = &e->pre;
    json_t *base = json_object_get(pre->src_memory, "base-memory");

    if (pre->failed) {
        engine_setup_failed(e, &pre->error);
        return;
    }
    if (judge_source_status(e, pre->src_status) < 0 ||
        judge_no_migration(e, pre->src_migrate) < 0) {
        return;
    }
    /* Optional: older QEMUs lack it; the first sample has ram.total. */
    if (json_is_integer(base) && json_integer_value(base) > 0) {
        e->ram_size = (uint64_t)json_integer_value(base);
    }
    if (e->policy.vcpus == 0) {
        e->policy.vcpus = qemu_vcpu_count(pre->src_cpus);
    }
    if (e->dst != NULL) {
        if (judge_dest_status(e, pre->dst_status) < 0) {
            return;
        }
        e->dst_needs_incoming = qemu_incoming_needs_uri(pre->dst_migrate);
    }
    engine_negotiate(e); /* then DISKS or SETUP */
}

/*
 * Each answer is kept; a refusal or loss of a required one is kept too
 * (the first in the order of the judgement wins, as the answers come in
 * that order).  The memory summary is optional.
 */
static void
keep(struct engine *e, json_t **slot, json_t *ret, const struct qmp_error *err,
     bool optional)
{
    if (err != NULL && !optional && !e->pre.failed) {
        e->pre.failed = true;
        e->pre.error = *err;
    }
    if (ret != NULL) {
        *slot = json_incref(ret);
    }
    if (e->pending == 0) {
        preflight_judge(e);
    }
}

static void
src_status_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.src_status, ret, err, false);
}

static void
src_migrate_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.src_migrate, ret, err, false);
}

static void
src_memory_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.src_memory, ret, err, true);
}

static void
src_caps_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.src_caps, ret, err, true);
}

static void
src_cpus_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.src_cpus, ret, err, true);
}

static void
dst_caps_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.dst_caps, ret, err, true);
}

static void
dst_status_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.dst_status, ret, err, false);
}

static void
dst_migrate_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    keep(e, &e->pre.dst_migrate, ret, err, false);
}

/*
 * Only questions, all at once: the run state, no migration running, the
 * RAM size, the capabilities offered, the vCPUs; on the destination,
 * that it waits and how, and its capabilities.
 */
void
engine_enter_preflight(struct engine *e)
{
    warn_clear_text(e);
    if (engine_send(e, e->src, qemu_query_status(), src_status_reply) < 0 ||
        engine_send(e, e->src, qemu_query_migrate(), src_migrate_reply) < 0 ||
        engine_send(e, e->src, qemu_query_memory_size_summary(),
                    src_memory_reply) < 0 ||
        engine_send(e, e->src, qemu_query_migrate_capabilities(),
                    src_caps_reply) < 0 ||
        engine_send(e, e->src, qemu_query_cpus_fast(), src_cpus_reply) < 0 ||
        e->dst == NULL) {
        return;
    }
    if (engine_send(e, e->dst, qemu_query_status(), dst_status_reply) == 0 &&
        engine_send(e, e->dst, qemu_query_migrate(), dst_migrate_reply) == 0) {
        engine_send(e, e->dst, qemu_query_migrate_capabilities(),
                    dst_caps_reply);
    }
}

/* --- watch and cancel: attach to a migration started elsewhere ------------ */

static void
attach_params_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    json_t *v;

    if (err != NULL) {
        engine_setup_failed(e, err);
        return;
    }
    v = json_object_get(ret, "downtime-limit");
    e->levers.downtime_ms = json_is_integer(v) ? (uint64_t)json_integer_value(v)
                                               : QEMU_DEFAULT_DOWNTIME_LIMIT_MS;
    v = json_object_get(ret, "max-bandwidth");
    e->levers.bandwidth =
        json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    e->migrate_sent = true;
    e->migrate_time = engine_now(e);
    policy_state_init(&e->pstate, &e->policy);
    engine_note(e, 0, "%s%s the migration on %s", engine_prefix(e),
                e->cfg.mode == ENGINE_WATCH ? "watching" : "cancelling",
                e->cfg.source);
    if (e->cfg.mode == ENGINE_CANCEL) {
        e->cancel_code = QM_EXIT_ABORTED;
        snprintf(e->cancel_reason, sizeof(e->cancel_reason),
                 "cancelled with 'qmigrate cancel'");
        e->cancelling = true;
        engine_enter(e, PHASE_CANCEL);
        return;
    }
    engine_enter(e, PHASE_MONITOR);
}

static void
attach_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct policy_sample s;

    if (err != NULL) {
        engine_setup_failed(e, err);
        return;
    }
    if (judge_sample(e, ret, &s) < 0) {
        return;
    }
    if (s.status == MIGRATION_STATUS_NONE ||
        migration_status_is_final(s.status)) {
        engine_finish(
            e, QM_EXIT_COMPLETED, "none",
            "no migration in progress on %s (%s%s)%s", e->cfg.source,
            s.status == MIGRATION_STATUS_NONE ? "none since QEMU started"
                                              : "the last one: ",
            s.status == MIGRATION_STATUS_NONE ? ""
                                              : migration_status_name(s.status),
            e->cfg.mode == ENGINE_CANCEL ? "; nothing to cancel" : "");
        return;
    }
    engine_send(e, e->src, qemu_query_migrate_parameters(),
                attach_params_reply);
}

void
engine_enter_attach(struct engine *e)
{
    engine_send(e, e->src, qemu_query_migrate(), attach_reply);
}
