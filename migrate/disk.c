/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/disk: local disks copied with the migration: block migration, or
 * NBD mirrors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/internal.h"

/*
 * --disk blk: QEMU's block migration (migrate with blk: true), QEMU < 9.1.
 * Its progress is query-migrate's "disk".
 *
 * --disk mirror (needs --dest): the destination exports its disks over
 * NBD; the source mirrors each disk onto them; once every mirror is
 * ready, RAM migrates with pause-before-switchover; at pre-switchover
 * (the guest stopped, no more writes) the mirrors are completed with
 * block-job-cancel, then migrate-continue.  After completion the NBD
 * server stops and the destination runs.  On failure or abort the mirrors
 * are cancelled and the source keeps its own disks, untouched.
 */

/* --- DISKS: which to copy ------------------------------------------------ */

static bool
disk_included(const struct engine *e, const char *device)
{
    const char *list = e->cfg.disk_include;
    size_t len = strlen(device);

    if (list == NULL) {
        return true;
    }
    while (*list != '\0') {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);

        if (n == len && strncmp(list, device, n) == 0) {
            return true;
        }
        list += n + (comma ? 1 : 0);
    }
    return false;
}

/* The destination's disk for d, checked: -1 when the engine ended. */
static int
dst_disk_match(struct engine *e, struct engine_disk_copy *d, json_t *ret)
{
    struct qemu_block_info info;
    json_t *entry;
    size_t i;

    json_array_foreach (ret, i, entry) {
        qemu_block_info(entry, &info);
        if (info.name == NULL || info.node == NULL ||
            strcmp(info.name, d->device) != 0) {
            continue;
        }
        if (info.read_only) {
            engine_finish(e, QM_EXIT_USAGE, "error",
                          "--disk mirror: the destination's disk '%s' is "
                          "read-only",
                          d->device);
            return -1;
        }
        if (info.size < d->size) {
            engine_finish(e, QM_EXIT_USAGE, "error",
                          "--disk mirror: the destination's disk '%s' has "
                          "%llu bytes, the source's %llu",
                          d->device, (unsigned long long)info.size,
                          (unsigned long long)d->size);
            return -1;
        }
        snprintf(d->dst_node, sizeof(d->dst_node), "%s", info.node);
    }
    if (d->dst_node[0] == '\0') {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--disk mirror: the destination has no disk named "
                      "'%s' (start it with the same drive ids)",
                      d->device);
        return -1;
    }
    return 0;
}

static void
dst_block_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    size_t k;

    if (err != NULL) {
        engine_finish(e, QM_EXIT_MONITOR, "error", "destination: %s",
                      err->message);
        return;
    }
    for (k = 0; k < e->n_disks; k++) {
        if (dst_disk_match(e, &e->disks[k], ret) < 0) {
            return;
        }
    }
    engine_enter(e, PHASE_SETUP);
}

static void
src_block_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct policy_config *p = &e->policy;
    struct qemu_block_info info;
    json_t *entry;
    size_t i;

    if (err != NULL) {
        engine_setup_failed(e, err);
        return;
    }
    e->n_disks = 0;
    json_array_foreach (ret, i, entry) {
        struct engine_disk_copy *d;

        qemu_block_info(entry, &info);
        /* writable disks with media; CD-ROMs and read-only ones stay */
        if (!info.inserted || info.name == NULL || info.read_only ||
            !disk_included(e, info.name)) {
            continue;
        }
        if (e->n_disks >= POLICY_MAX_DISKS) {
            engine_finish(e, QM_EXIT_USAGE, "error",
                          "more than %d disks to copy; name them with "
                          "--disk-include",
                          POLICY_MAX_DISKS);
            return;
        }
        d = &e->disks[e->n_disks++];
        memset(d, 0, sizeof(*d));
        snprintf(d->device, sizeof(d->device), "%s", info.name);
        snprintf(d->job_id, sizeof(d->job_id), "qmigrate-%s", info.name);
        d->size = info.size;
    }
    if (e->n_disks == 0) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--disk %s: the source has no writable disk%s%s",
                      e->cfg.disk == ENGINE_DISK_BLK ? "blk" : "mirror",
                      e->cfg.disk_include ? " named " : "",
                      e->cfg.disk_include ? e->cfg.disk_include : "");
        return;
    }
    /* Nova counts each copied disk, at least 2 GiB; see docs/policy.md */
    p->n_disks = e->n_disks;
    for (i = 0; i < p->n_disks; i++) {
        p->disk_bytes[i] = e->disks[i].size;
    }
    engine_note(e, 1, "%scopying %zu disk(s), first '%s'", engine_prefix(e),
                e->n_disks, e->disks[0].device);
    if (e->cfg.disk == ENGINE_DISK_MIRROR) {
        engine_send(e, e->dst, qemu_query_block(), dst_block_reply);
    } else {
        engine_enter(e, PHASE_SETUP);
    }
}

void
engine_enter_disks(struct engine *e)
{
    engine_send(e, e->src, qemu_query_block(), src_block_reply);
}

/* --- the NBD address ---------------------------------------------------- */

/* Where the destination's NBD server listens: --nbd, or next to --to. */
static int
nbd_address(const struct engine *e, struct qemu_command *start,
            char *target_prefix, size_t size, char *err, size_t errlen)
{
    const char *spec = e->cfg.nbd;
    const char *uri = e->cfg.uri;
    char buf[1100];

    if (spec == NULL) {
        if (strncmp(uri, "unix:", 5) == 0) {
            snprintf(buf, sizeof(buf), "unix:%s.nbd", uri + 5);
        } else if (strncmp(uri, "tcp:", 4) == 0) {
            const char *colon = strrchr(uri, ':');

            snprintf(buf, sizeof(buf), "tcp:%.*s:%ld", (int)(colon - uri - 4),
                     uri + 4, strtol(colon + 1, NULL, 10) + 1);
        } else {
            snprintf(err, errlen,
                     "--disk mirror: give the NBD address with --nbd");
            return -1;
        }
        spec = buf;
    }
    if (strncmp(spec, "unix:", 5) == 0) {
        *start = qemu_nbd_server_start(NULL, spec + 5);
        snprintf(target_prefix, size, "nbd:unix:%s", spec + 5);
        return 0;
    }
    if (strncmp(spec, "tcp:", 4) == 0) {
        const char *colon = strrchr(spec, ':');
        char host[256];

        if (colon == spec + 3 || (size_t)(colon - spec - 4) >= sizeof(host)) {
            snprintf(err, errlen, "--nbd: '%.200s' is not tcp:HOST:PORT", spec);
            return -1;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec - 4), spec + 4);
        *start = qemu_nbd_server_start(host, colon + 1);
        snprintf(target_prefix, size, "nbd:%s:%s", host, colon + 1);
        return 0;
    }
    snprintf(err, errlen, "--nbd: '%.200s' is not unix:PATH or tcp:HOST:PORT",
             spec);
    return -1;
}

/* --- MIRROR: start the mirrors, follow them --------------------------------
 */

static void
mirror_step_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        /* nothing migrates yet: undo the mirrors, the source is untouched */
        disk_abort(e, QM_EXIT_FAILED, "failed",
                   "starting the disk mirrors failed: %s", err->message);
        return;
    }
    if (--e->disk_pending > 0) {
        return;
    }
    engine_note(e, 0, "%smirroring %zu disk(s) to %s", engine_prefix(e),
                e->n_disks, e->nbd_target);
    ev_timer_again(e->loop, &e->poll_timer);
    disk_poll(e);
}

static void
exports_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    size_t i;

    (void)ret;
    if (err != NULL) {
        disk_abort(e, QM_EXIT_FAILED, "failed",
                   "exporting the destination's disks failed: %s",
                   err->message);
        return;
    }
    if (--e->disk_pending > 0) {
        return;
    }
    e->disk_pending = (int)e->n_disks;
    for (i = 0; i < e->n_disks; i++) {
        struct engine_disk_copy *d = &e->disks[i];
        char target[1300];

        snprintf(target, sizeof(target), "%s:exportname=%s", e->nbd_target,
                 d->device);
        d->started = true;
        if (engine_send(e, e->src,
                        qemu_drive_mirror(d->job_id, d->device, target,
                                          e->levers.bandwidth),
                        mirror_step_reply) < 0) {
            return;
        }
    }
}

static void
nbd_started_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    size_t i;

    (void)ret;
    if (err != NULL) {
        engine_finish(e, QM_EXIT_FAILED, "failed",
                      "starting the destination's NBD server failed: %s; the "
                      "guest runs on the source",
                      err->message);
        return;
    }
    e->nbd_started = true;
    e->disk_pending = (int)e->n_disks;
    for (i = 0; i < e->n_disks; i++) {
        struct engine_disk_copy *d = &e->disks[i];

        if (engine_send(
                e, e->dst,
                qemu_block_export_add(d->job_id, d->dst_node, d->device),
                exports_reply) < 0) {
            return;
        }
    }
}

void
engine_enter_mirror(struct engine *e)
{
    struct qemu_command start;
    char why[512];

    if (nbd_address(e, &start, e->nbd_target, sizeof(e->nbd_target), why,
                    sizeof(why)) < 0) {
        engine_finish(e, QM_EXIT_USAGE, "error", "%s", why);
        return;
    }
    engine_emit_start(e);
    engine_send(e, e->dst, start, nbd_started_reply);
}

static bool
disks_ready(const struct engine *e)
{
    size_t i;

    for (i = 0; i < e->n_disks; i++) {
        if (!e->disks[i].ready) {
            return false;
        }
    }
    return true;
}

static void
block_jobs_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct policy_output out;
    struct policy_sample s;
    char why[512];

    e->disk_poll_in_flight = false;
    if (err != NULL) {
        engine_monitor_lost(e, e->src, err);
        return;
    }
    if (sample_block_jobs(e, ret, e->switchover_started, why, sizeof(why)) <
        0) {
        if (e->phase == PHASE_MIRROR) {
            disk_abort(e, QM_EXIT_FAILED, "failed", "%s", why);
        } else if (phase_desc(e->phase)->acts) {
            engine_begin_cancel(e, QM_EXIT_FAILED, "%s", why);
        }
        return;
    }
    if (e->phase != PHASE_MIRROR) {
        return; /* RAM runs: the query-migrate samples carry the figures */
    }
    /* The bulk copy: to the policy, a migration in its disk phase. */
    sample_mirror_phase(e, &s);
    engine_take_sample(e, &s, &out);
    engine_apply_actions(e, &out, s.t);
    if (e->phase == PHASE_MIRROR && disks_ready(e)) {
        engine_note(e, 0, "%severy disk mirror is ready; migrating RAM",
                    engine_prefix(e));
        engine_enter(e, PHASE_MIGRATE);
    }
}

void
disk_poll(struct engine *e)
{
    if (e->cfg.disk != ENGINE_DISK_MIRROR || e->disk_poll_in_flight ||
        e->n_disks == 0) {
        return;
    }
    e->disk_poll_in_flight = true;
    engine_send(e, e->src, qemu_query_block_jobs(), block_jobs_reply);
}

static void
set_speed_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_note(e, 0, "warning: block-job-set-speed: %s", err->message);
    }
}

void
disk_set_speed(struct engine *e, uint64_t bandwidth)
{
    size_t i;

    if (e->cfg.disk != ENGINE_DISK_MIRROR || e->mirrors_completed) {
        return;
    }
    for (i = 0; i < e->n_disks; i++) {
        if (e->disks[i].started && !e->disks[i].concluded &&
            engine_send(e, e->src,
                        qemu_block_job_set_speed(e->disks[i].job_id, bandwidth),
                        set_speed_reply) < 0) {
            return;
        }
    }
}

/* --- SWITCHOVER: complete the mirrors while the guest is stopped ---------- */

static void
continue_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_begin_cancel(e, QM_EXIT_FAILED, "migrate-continue failed: %s",
                            err->message);
        return;
    }
    if (e->phase == PHASE_SWITCHOVER) {
        engine_enter(e, PHASE_MONITOR);
    }
}

static void switchover_check(struct engine *e);

static void
switchover_jobs_reply(struct engine *e, json_t *ret,
                      const struct qmp_error *err)
{
    char why[512];
    size_t i;

    if (err != NULL || sample_block_jobs(e, ret, true, why, sizeof(why)) < 0) {
        engine_begin_cancel(e, QM_EXIT_FAILED, "completing the mirrors: %s",
                            err ? err->message : why);
        return;
    }
    for (i = 0; i < e->n_disks; i++) {
        if (!e->disks[i].concluded) {
            switchover_check(e); /* again, shortly */
            return;
        }
    }
    for (i = 0; i < e->n_disks; i++) {
        engine_send(e, e->src, qemu_job_dismiss(e->disks[i].job_id), NULL);
    }
    e->mirrors_completed = true;
    engine_send(e, e->src, qemu_migrate_continue_pre_switchover(),
                continue_reply);
}

static void
jobs_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct engine *e = w->data;

    (void)loop;
    (void)revents;
    engine_send(e, e->src, qemu_query_block_jobs(), e->jobs_reply);
}

/* query-block-jobs again after delay seconds, its answer to reply. */
static void
jobs_later(struct engine *e, double delay, engine_reply_fn *reply)
{
    e->jobs_reply = reply;
    ev_set_cb(&e->disk_timer, jobs_timer_cb);
    ev_timer_set(&e->disk_timer, delay, 0.0);
    ev_timer_start(e->loop, &e->disk_timer);
}

static void
switchover_check(struct engine *e)
{
    jobs_later(e, 0.02, switchover_jobs_reply);
}

static void
mirror_cancel_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_begin_cancel(e, QM_EXIT_FAILED, "completing the mirrors: %s",
                            err->message);
        return;
    }
    if (--e->disk_pending == 0) {
        switchover_check(e);
    }
}

void
engine_enter_switchover(struct engine *e)
{
    size_t i;

    e->switchover_started = true;
    engine_note(e, 1, "%sthe guest is stopped: completing the disk mirrors",
                engine_prefix(e));
    e->disk_pending = (int)e->n_disks;
    /* on a ready mirror, block-job-cancel completes it: a point-in-time copy */
    for (i = 0; i < e->n_disks; i++) {
        if (engine_send(e, e->src,
                        qemu_block_job_cancel(e->disks[i].job_id, false),
                        mirror_cancel_reply) < 0) {
            return;
        }
    }
}

/* --- the end: undo what is left ------------------------------------------- */

static void
cleanup_done(struct engine *e)
{
    engine_step_fn *then = e->disk_then;

    e->disk_then = NULL;
    if (then != NULL) {
        then(e);
    }
}

static void
nbd_stopped_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_note(e, 0, "warning: nbd-server-stop on %s: %s", e->cfg.dest,
                    err->message);
    }
    e->nbd_started = false;
    cleanup_done(e);
}

static void
cleanup_nbd(struct engine *e)
{
    if (!e->nbd_started || e->dst == NULL || e->dst_lost) {
        cleanup_done(e);
        return;
    }
    engine_send(e, e->dst, qemu_nbd_server_stop(), nbd_stopped_reply);
}

static void cleanup_wait(struct engine *e);

static void
dismiss_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_note(e, 0, "warning: job-dismiss: %s", err->message);
    }
    if (--e->disk_pending == 0) {
        cleanup_nbd(e);
    }
}

/* The mirror of ours that a query-block-jobs entry is, or NULL. */
static const struct engine_disk_copy *
our_job(const struct engine *e, const struct qemu_block_job *job)
{
    size_t k;

    for (k = 0; job->id != NULL && k < e->n_disks; k++) {
        if (strcmp(job->id, e->disks[k].job_id) == 0) {
            return &e->disks[k];
        }
    }
    return NULL;
}

static void
cleanup_jobs_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct qemu_block_job job;
    bool waiting = false;
    json_t *entry;
    size_t i;

    if (err != NULL) {
        cleanup_nbd(e); /* the source is gone or deaf: nothing to undo */
        return;
    }
    json_array_foreach (ret, i, entry) {
        qemu_block_job(entry, &job);
        if (our_job(e, &job) != NULL && !job.concluded) {
            waiting = true;
        }
    }
    if (waiting && ev_now(e->loop) < e->cleanup_deadline) {
        cleanup_wait(e);
        return;
    }
    if (waiting) {
        engine_error(e, "the disk mirrors did not end within %.0f s",
                     e->cfg.cancel_timeout_s);
    }
    /* dismiss the concluded ones, and wait for that before going on */
    e->disk_pending = 0;
    json_array_foreach (ret, i, entry) {
        qemu_block_job(entry, &job);
        if (our_job(e, &job) != NULL && job.concluded) {
            e->disk_pending++;
            engine_send(e, e->src, qemu_job_dismiss(job.id), dismiss_reply);
        }
    }
    if (e->disk_pending == 0) {
        cleanup_nbd(e);
    }
}

static void
cleanup_wait(struct engine *e)
{
    jobs_later(e, 0.05, cleanup_jobs_reply);
}

static void
cleanup_cancel_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    (void)err; /* a job already gone is fine */
    if (--e->disk_pending == 0) {
        cleanup_wait(e);
    }
}

void
disk_cleanup(struct engine *e, engine_step_fn *then)
{
    size_t i;

    ev_timer_stop(e->loop, &e->disk_timer);
    e->disk_then = then;
    e->cleanup_deadline = ev_now(e->loop) + e->cfg.cancel_timeout_s;
    if (e->cfg.disk != ENGINE_DISK_MIRROR || e->mirrors_completed) {
        cleanup_nbd(e);
        return;
    }
    e->mirrors_completed = true;
    e->disk_pending = 0;
    for (i = 0; i < e->n_disks; i++) {
        if (e->disks[i].started && !e->disks[i].concluded) {
            e->disk_pending++;
            engine_send(e, e->src,
                        qemu_block_job_cancel(e->disks[i].job_id, true),
                        cleanup_cancel_reply);
        }
    }
    if (e->disk_pending == 0) {
        cleanup_wait(e);
    }
}

void
disk_abort(struct engine *e, enum qm_exit code, const char *result,
           const char *fmt, ...)
{
    va_list ap;

    e->end_code = code;
    e->end_result = result;
    va_start(ap, fmt);
    vsnprintf(e->end_reason, sizeof(e->end_reason), fmt, ap);
    va_end(ap);
    e->finish_how = FINISH_DISKS_ONLY;
    engine_enter(e, PHASE_FINISH);
}
