/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/disk: local disks copied with the migration: block migration, or NBD
 * mirrors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/job_internal.h"

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

static const char *
job_vm_prefix(const struct job *job)
{
    return job->name[0] ? job->name : "";
}

/* --- discovery ---------------------------------------------------------- */

static bool
disk_included(const struct job *job, const char *device)
{
    const char *list = job->opts.disk_include;
    size_t len = strlen(device);

    if (list[0] == '\0') {
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

/* The name a disk goes by in block commands: the device, else its node. */
static const char *
disk_name(json_t *entry)
{
    const char *device = json_string_value(json_object_get(entry, "device"));
    json_t *inserted = json_object_get(entry, "inserted");

    if (device != NULL && device[0] != '\0') {
        return device;
    }
    return json_string_value(json_object_get(inserted, "node-name"));
}

static void
dst_block_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    size_t i, k;
    json_t *entry;

    if (err != NULL) {
        job_finish(job, QM_EXIT_MONITOR, "error", "destination: %s",
                   err->message);
        return;
    }
    for (k = 0; k < job->n_disks; k++) {
        struct job_disk *d = &job->disks[k];

        json_array_foreach (ret, i, entry) {
            json_t *inserted = json_object_get(entry, "inserted");
            const char *name = disk_name(entry);
            const char *node =
                json_string_value(json_object_get(inserted, "node-name"));
            json_t *size = json_object_get(json_object_get(inserted, "image"),
                                           "virtual-size");

            if (name == NULL || node == NULL || strcmp(name, d->device) != 0) {
                continue;
            }
            if (json_is_true(json_object_get(inserted, "ro"))) {
                job_finish(job, QM_EXIT_USAGE, "error",
                           "--disk mirror: the destination's disk '%s' is "
                           "read-only",
                           d->device);
                return;
            }
            if (json_integer_value(size) < (json_int_t)d->size) {
                job_finish(job, QM_EXIT_USAGE, "error",
                           "--disk mirror: the destination's disk '%s' has "
                           "%lld bytes, the source's %llu",
                           d->device, (long long)json_integer_value(size),
                           (unsigned long long)d->size);
                return;
            }
            snprintf(d->dst_node, sizeof(d->dst_node), "%s", node);
        }
        if (d->dst_node[0] == '\0') {
            job_finish(job, QM_EXIT_USAGE, "error",
                       "--disk mirror: the destination has no disk named "
                       "'%s' (start it with the same drive ids)",
                       d->device);
            return;
        }
    }
    job_setup(job);
}

static void
src_block_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    struct policy_config *p = &job->opts.policy;
    json_t *entry;
    size_t i;

    if (err != NULL) {
        job_setup_failed(job, err);
        return;
    }
    job->n_disks = 0;
    json_array_foreach (ret, i, entry) {
        json_t *inserted = json_object_get(entry, "inserted");
        const char *name = disk_name(entry);
        struct job_disk *d;

        /* writable disks with media; CD-ROMs and read-only ones stay */
        if (inserted == NULL || name == NULL ||
            json_is_true(json_object_get(inserted, "ro")) ||
            !disk_included(job, name)) {
            continue;
        }
        if (job->n_disks >= JOB_MAX_DISKS) {
            job_finish(job, QM_EXIT_USAGE, "error",
                       "more than %d disks to copy; name them with "
                       "--disk-include",
                       JOB_MAX_DISKS);
            return;
        }
        d = &job->disks[job->n_disks++];
        memset(d, 0, sizeof(*d));
        snprintf(d->device, sizeof(d->device), "%s", name);
        snprintf(d->job_id, sizeof(d->job_id), "qmigrate-%s", name);
        d->size = (uint64_t)json_integer_value(json_object_get(
            json_object_get(inserted, "image"), "virtual-size"));
    }
    if (job->n_disks == 0) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "--disk %s: the source has no writable disk%s%s",
                   job->opts.disk == DISK_BLK ? "blk" : "mirror",
                   job->opts.disk_include[0] ? " named " : "",
                   job->opts.disk_include);
        return;
    }
    /* Nova counts each copied disk, at least 2 GiB; see docs/policy.md */
    p->n_disks =
        job->n_disks < POLICY_MAX_DISKS ? job->n_disks : POLICY_MAX_DISKS;
    for (i = 0; i < p->n_disks; i++) {
        p->disk_bytes[i] = job->disks[i].size;
    }
    output_note(job->out, 1, "%s%scopying %zu disk(s), first '%s'",
                job_vm_prefix(job), job->name[0] ? ": " : "", job->n_disks,
                job->disks[0].device);
    if (job->opts.disk == DISK_MIRROR) {
        job_send(job, job->dst, "query-block", NULL, dst_block_reply);
    } else {
        job_setup(job);
    }
}

void
disk_discover(struct job *job)
{
    if (job->opts.disk == DISK_BLK &&
        (job->qemu_major > 9 ||
         (job->qemu_major == 9 && job->qemu_minor >= 1))) {
        job_finish(job, QM_EXIT_USAGE, "error",
                   "--disk blk: QEMU %d.%d has no block migration (removed "
                   "in 9.1); use --disk mirror with --dest",
                   job->qemu_major, job->qemu_minor);
        return;
    }
    job_send(job, job->src, "query-block", NULL, src_block_reply);
}

/* --- the NBD address ---------------------------------------------------- */

/* Where the destination's NBD server listens: --nbd, or next to --to. */
static int
nbd_address(const struct job *job, json_t **addr, char *target_prefix,
            size_t size, char *err, size_t errlen)
{
    const char *spec = job->opts.nbd;
    char buf[QM_PATH_MAX + 8];

    if (spec[0] == '\0') {
        if (strncmp(job->opts.uri, "unix:", 5) == 0) {
            snprintf(buf, sizeof(buf), "unix:%s.nbd", job->opts.uri + 5);
        } else if (strncmp(job->opts.uri, "tcp:", 4) == 0) {
            const char *colon = strrchr(job->opts.uri, ':');

            snprintf(buf, sizeof(buf), "tcp:%.*s:%ld",
                     (int)(colon - job->opts.uri - 4), job->opts.uri + 4,
                     strtol(colon + 1, NULL, 10) + 1);
        } else {
            snprintf(err, errlen,
                     "--disk mirror: give the NBD address with --nbd");
            return -1;
        }
        spec = buf;
    }
    if (strncmp(spec, "unix:", 5) == 0) {
        *addr = json_pack("{s:s, s:{s:s}}", "type", "unix", "data", "path",
                          spec + 5);
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
        *addr = json_pack("{s:s, s:{s:s, s:s}}", "type", "inet", "data", "host",
                          host, "port", colon + 1);
        snprintf(target_prefix, size, "nbd:%s:%s", host, colon + 1);
        return 0;
    }
    snprintf(err, errlen, "--nbd: '%.200s' is not unix:PATH or tcp:HOST:PORT",
             spec);
    return -1;
}

/* --- starting the mirrors --------------------------------------------- */

static void
mirror_step_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        /* nothing migrates yet: undo the mirrors, the source is untouched */
        disk_abort_begin(job, QM_EXIT_FAILED, "failed",
                         "starting the disk mirrors failed: %s", err->message);
        return;
    }
    if (--job->disk_pending > 0) {
        return;
    }
    job->phase = PHASE_MIRROR;
    output_note(job->out, 0, "%s%smirroring %zu disk(s) to %s",
                job_vm_prefix(job), job->name[0] ? ": " : "", job->n_disks,
                job->nbd_target);
    ev_timer_again(job->loop, &job->poll_timer);
    disk_poll(job);
}

static void
exports_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    size_t i;

    (void)ret;
    if (err != NULL) {
        disk_abort_begin(job, QM_EXIT_FAILED, "failed",
                         "exporting the destination's disks failed: %s",
                         err->message);
        return;
    }
    if (--job->disk_pending > 0) {
        return;
    }
    job->disk_pending = (int)job->n_disks;
    for (i = 0; i < job->n_disks; i++) {
        struct job_disk *d = &job->disks[i];
        char target[QM_PATH_MAX + 128];
        json_t *args;

        snprintf(target, sizeof(target), "%s:exportname=%s", job->nbd_target,
                 d->device);
        args = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "job-id",
                         d->job_id, "device", d->device, "target", target,
                         "format", "nbd", "mode", "existing", "sync", "full",
                         "auto-dismiss", 0);
        if (job->bandwidth > 0) {
            json_object_set_new(args, "speed",
                                json_integer((json_int_t)job->bandwidth));
        }
        d->started = true;
        if (job_send(job, job->src, "drive-mirror", args, mirror_step_reply) <
            0) {
            return;
        }
    }
}

static void
nbd_started_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    size_t i;

    (void)ret;
    if (err != NULL) {
        job_finish(job, QM_EXIT_FAILED, "failed",
                   "starting the destination's NBD server failed: %s; the "
                   "guest runs on the source",
                   err->message);
        return;
    }
    job->nbd_started = true;
    job->disk_pending = (int)job->n_disks;
    for (i = 0; i < job->n_disks; i++) {
        struct job_disk *d = &job->disks[i];

        if (job_send(job, job->dst, "block-export-add",
                     json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "nbd", "id",
                               d->job_id, "node-name", d->dst_node, "name",
                               d->device, "writable", 1),
                     exports_reply) < 0) {
            return;
        }
    }
}

void
disk_mirror_start(struct job *job)
{
    json_t *addr = NULL;
    char why[512];

    if (nbd_address(job, &addr, job->nbd_target, sizeof(job->nbd_target), why,
                    sizeof(why)) < 0) {
        job_finish(job, QM_EXIT_USAGE, "error", "%s", why);
        return;
    }
    job->phase = PHASE_MIRROR;
    job_announce_start(job);
    job_send(job, job->dst, "nbd-server-start",
             json_pack("{s:o}", "addr", addr), nbd_started_reply);
}

/* --- progress ----------------------------------------------------------- */

/* Folds query-block-jobs into the disks; -1 when a mirror has failed. */
static int
disk_update(struct job *job, json_t *jobs, char *why, size_t size)
{
    size_t i, k;
    json_t *entry;

    for (k = 0; k < job->n_disks; k++) {
        struct job_disk *d = &job->disks[k];
        bool seen = false;

        if (!d->started || d->concluded) {
            continue;
        }
        json_array_foreach (jobs, i, entry) {
            const char *id =
                json_string_value(json_object_get(entry, "device"));
            const char *status =
                json_string_value(json_object_get(entry, "status"));
            const char *io =
                json_string_value(json_object_get(entry, "io-status"));

            if (id == NULL || strcmp(id, d->job_id) != 0) {
                continue;
            }
            seen = true;
            d->len =
                (uint64_t)json_integer_value(json_object_get(entry, "len"));
            d->offset =
                (uint64_t)json_integer_value(json_object_get(entry, "offset"));
            d->ready = json_is_true(json_object_get(entry, "ready"));
            if (status != NULL && strcmp(status, "concluded") == 0) {
                d->concluded = true;
            }
            if ((io != NULL && strcmp(io, "ok") != 0) ||
                json_object_get(entry, "error") != NULL) {
                snprintf(
                    why, size, "the mirror of disk '%s' failed: %s", d->device,
                    json_string_value(json_object_get(entry, "error")) ?: io);
                return -1;
            }
        }
        if (!seen && !job->switchover_started) {
            snprintf(why, size, "the mirror of disk '%s' went away", d->device);
            return -1;
        }
    }
    return 0;
}

void
disk_fill_sample(const struct job *job, struct policy_sample *s)
{
    size_t i;

    if (job->opts.disk != DISK_MIRROR) {
        return; /* blk: query-migrate's own "disk" */
    }
    s->disk_total = s->disk_transferred = s->disk_remaining = 0;
    for (i = 0; i < job->n_disks; i++) {
        const struct job_disk *d = &job->disks[i];
        uint64_t len = d->len ? d->len : d->size;
        uint64_t off = d->offset < len ? d->offset : len;

        s->disk_total += len;
        s->disk_transferred += off;
        s->disk_remaining += len - off;
    }
}

static bool
disks_ready(const struct job *job)
{
    size_t i;

    for (i = 0; i < job->n_disks; i++) {
        if (!job->disks[i].ready) {
            return false;
        }
    }
    return true;
}

static void
block_jobs_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    struct policy_sample s;
    struct policy_output out;
    char why[512];
    size_t i;

    job->disk_poll_in_flight = false;
    if (err != NULL) {
        job_monitor_lost(job, job->src, err);
        return;
    }
    if (disk_update(job, ret, why, sizeof(why)) < 0) {
        if (job->phase == PHASE_MIRROR) {
            disk_abort_begin(job, QM_EXIT_FAILED, "failed", "%s", why);
        } else if (job->phase == PHASE_MONITOR) {
            job_begin_cancel(job, QM_EXIT_FAILED, "%s", why);
        }
        return;
    }
    if (job->phase != PHASE_MIRROR) {
        return; /* RAM runs: poll_reply takes the figures */
    }
    /* The bulk copy: to the policy, a migration in its disk phase. */
    memset(&s, 0, sizeof(s));
    s.t = ev_now(job->loop) - job->t0;
    s.status = MIGRATION_STATUS_ACTIVE;
    s.ram_total = s.ram_remaining = job->ram_size;
    s.ram_page_size = 4096;
    s.expected_downtime_ms = -1;
    s.downtime_limit_ms = job->downtime_limit_ms;
    s.bandwidth_limit = job->bandwidth;
    disk_fill_sample(job, &s);
    job_take_sample(job, &s, &out);
    for (i = 0; i < out.n_actions; i++) {
        const struct policy_action *a = &out.actions[i];

        output_action(job->out, job->name[0] ? job->name : NULL, s.t, a);
        trace_action(job, a);
        if (a->kind == POLICY_ACTION_CANCEL) {
            disk_abort_begin(job, QM_EXIT_ABORTED, "aborted", "%s", a->reason);
            return;
        }
        if (a->kind == POLICY_ACTION_SET_DOWNTIME) {
            /* applied with the rest of the parameters when RAM starts */
            job->downtime_limit_ms = a->value;
            job_send(job, job->src, "migrate-set-parameters",
                     json_pack("{s:I}", "downtime-limit", (json_int_t)a->value),
                     NULL);
        }
    }
    if (job->cancel_requested) {
        disk_abort_begin(job, job->cancel_code, "aborted", "%s",
                         job->cancel_reason);
        return;
    }
    if (disks_ready(job)) {
        output_note(job->out, 0,
                    "%s%severy disk mirror is ready; "
                    "migrating RAM",
                    job_vm_prefix(job), job->name[0] ? ": " : "");
        job_migrate(job);
    }
}

void
disk_poll(struct job *job)
{
    if (job->opts.disk != DISK_MIRROR || job->disk_poll_in_flight ||
        job->n_disks == 0) {
        return;
    }
    job->disk_poll_in_flight = true;
    job_send(job, job->src, "query-block-jobs", NULL, block_jobs_reply);
}

/* --- switch-over: complete the mirrors while the guest is stopped ------- */

static void
continue_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        job_begin_cancel(job, QM_EXIT_FAILED, "migrate-continue failed: %s",
                         err->message);
        return;
    }
    job_poll(job);
}

static void switchover_check(struct job *job);

static void
switchover_jobs_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    char why[512];
    size_t i;

    if (err != NULL || disk_update(job, ret, why, sizeof(why)) < 0) {
        job_begin_cancel(job, QM_EXIT_FAILED, "completing the mirrors: %s",
                         err ? err->message : why);
        return;
    }
    for (i = 0; i < job->n_disks; i++) {
        if (!job->disks[i].concluded) {
            switchover_check(job); /* again, shortly */
            return;
        }
    }
    for (i = 0; i < job->n_disks; i++) {
        job_send(job, job->src, "job-dismiss",
                 json_pack("{s:s}", "id", job->disks[i].job_id), NULL);
    }
    job->mirrors_completed = true;
    job_send(job, job->src, "migrate-continue",
             json_pack("{s:s}", "state", "pre-switchover"), continue_reply);
}

static void
switchover_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    job_send(job, job->src, "query-block-jobs", NULL, switchover_jobs_reply);
}

static void
switchover_check(struct job *job)
{
    ev_timer_set(&job->disk_timer, 0.02, 0.0);
    ev_timer_start(job->loop, &job->disk_timer);
}

static void
mirror_cancel_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        job_begin_cancel(job, QM_EXIT_FAILED, "completing the mirrors: %s",
                         err->message);
        return;
    }
    if (--job->disk_pending == 0) {
        switchover_check(job);
    }
}

void
disk_switchover(struct job *job)
{
    size_t i;

    if (job->opts.disk != DISK_MIRROR || job->switchover_started) {
        return;
    }
    job->switchover_started = true;
    output_note(job->out, 1,
                "%s%sthe guest is stopped: completing the "
                "disk mirrors",
                job_vm_prefix(job), job->name[0] ? ": " : "");
    ev_init(&job->disk_timer, switchover_timer_cb);
    job->disk_timer.data = job;
    job->disk_pending = (int)job->n_disks;
    /* on a ready mirror, block-job-cancel completes it: a point-in-time copy */
    for (i = 0; i < job->n_disks; i++) {
        if (job_send(job, job->src, "block-job-cancel",
                     json_pack("{s:s}", "device", job->disks[i].job_id),
                     mirror_cancel_reply) < 0) {
            return;
        }
    }
}

/* --- the end ------------------------------------------------------------ */

static void
cleanup_done(struct job *job)
{
    void (*then)(struct job *) = job->disk_then;

    job->disk_then = NULL;
    if (then != NULL) {
        then(job);
    }
}

static void
nbd_stopped_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        output_note(job->out, 0, "warning: nbd-server-stop on %s: %s",
                    job->opts.dest, err->message);
    }
    job->nbd_started = false;
    cleanup_done(job);
}

static void
cleanup_nbd(struct job *job)
{
    if (!job->nbd_started || job->dst == NULL || job->dst_lost) {
        cleanup_done(job);
        return;
    }
    job_send(job, job->dst, "nbd-server-stop", NULL, nbd_stopped_reply);
}

static void cleanup_wait(struct job *job);

static void
dismiss_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        output_note(job->out, 0, "warning: job-dismiss: %s", err->message);
    }
    if (--job->disk_pending == 0) {
        cleanup_nbd(job);
    }
}

static void
cleanup_jobs_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    bool waiting = false;
    json_t *entry;
    size_t i, k;

    if (err != NULL) {
        cleanup_nbd(job); /* the source is gone or deaf: nothing to undo */
        return;
    }
    json_array_foreach (ret, i, entry) {
        const char *id = json_string_value(json_object_get(entry, "device"));
        const char *status =
            json_string_value(json_object_get(entry, "status"));

        for (k = 0; k < job->n_disks; k++) {
            if (id == NULL || strcmp(id, job->disks[k].job_id) != 0) {
                continue;
            }
            if (status == NULL || strcmp(status, "concluded") != 0) {
                waiting = true;
            }
        }
    }
    if (waiting && ev_now(job->loop) < job->cleanup_deadline) {
        cleanup_wait(job);
        return;
    }
    if (waiting) {
        output_error(job->out, "the disk mirrors did not end within %.0f s",
                     job->opts.cancel_timeout_s);
    }
    /* dismiss the concluded ones, and wait for that before going on */
    job->disk_pending = 0;
    json_array_foreach (ret, i, entry) {
        const char *id = json_string_value(json_object_get(entry, "device"));
        const char *status =
            json_string_value(json_object_get(entry, "status"));

        for (k = 0; k < job->n_disks; k++) {
            if (id != NULL && strcmp(id, job->disks[k].job_id) == 0 &&
                status != NULL && strcmp(status, "concluded") == 0) {
                job->disk_pending++;
                job_send(job, job->src, "job-dismiss",
                         json_pack("{s:s}", "id", id), dismiss_reply);
            }
        }
    }
    if (job->disk_pending == 0) {
        cleanup_nbd(job);
    }
}

static void
cleanup_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct job *job = w->data;

    (void)loop;
    (void)revents;
    job_send(job, job->src, "query-block-jobs", NULL, cleanup_jobs_reply);
}

static void
cleanup_wait(struct job *job)
{
    ev_init(&job->disk_timer, cleanup_timer_cb);
    job->disk_timer.data = job;
    ev_timer_set(&job->disk_timer, 0.05, 0.0);
    ev_timer_start(job->loop, &job->disk_timer);
}

static void
cleanup_cancel_reply(struct job *job, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    (void)err; /* a job already gone is fine */
    if (--job->disk_pending == 0) {
        cleanup_wait(job);
    }
}

void
disk_cleanup(struct job *job, void (*then)(struct job *))
{
    size_t i;

    ev_timer_stop(job->loop, &job->disk_timer);
    job->disk_then = then;
    job->cleanup_deadline = ev_now(job->loop) + job->opts.cancel_timeout_s;
    if (job->opts.disk != DISK_MIRROR || job->mirrors_completed) {
        cleanup_nbd(job);
        return;
    }
    job->mirrors_completed = true;
    job->disk_pending = 0;
    for (i = 0; i < job->n_disks; i++) {
        if (job->disks[i].started && !job->disks[i].concluded) {
            job->disk_pending++;
            job_send(job, job->src, "block-job-cancel",
                     json_pack("{s:s, s:b}", "device", job->disks[i].job_id,
                               "force", 1),
                     cleanup_cancel_reply);
        }
    }
    if (job->disk_pending == 0) {
        cleanup_wait(job);
    }
}

static void
abort_done(struct job *job)
{
    job_finish(job, job->end_code, job->end_result,
               "%s; the disk mirrors were cancelled and the guest runs on "
               "the source, on its own disks",
               job->end_reason);
}

void
disk_abort_begin(struct job *job, enum qm_exit code, const char *result,
                 const char *fmt, ...)
{
    va_list ap;

    job->end_code = code;
    job->end_result = result;
    va_start(ap, fmt);
    vsnprintf(job->end_reason, sizeof(job->end_reason), fmt, ap);
    va_end(ap);
    ev_timer_stop(job->loop, &job->poll_timer);
    job->phase = PHASE_FINISH;
    disk_cleanup(job, abort_done);
}
