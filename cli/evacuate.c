/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/evacuate: many migrations from one loop, at most N at a time, at most M
 * to one destination host. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/util.h"

/*
 * The plan is INI: a section per VM, named by the VM, with source, to,
 * optional dest and any migrate option as a per-VM override.  Every VM is
 * checked before anything starts.  One failure does not stop the others;
 * SIGINT or SIGTERM cancels what runs and starts nothing more, so every
 * guest stays on its source.  The exit code is the worst of the VMs', in
 * the order 4 (a monitor lost: state unknown), 1 (failed), 3 (aborted or
 * cancelled), 2 (refused before starting), 0.
 *
 * A destination is the host of a VM's `to` as written (tcp:HOST:PORT,
 * rdma:HOST:PORT; "local" for unix: and file:), because that is where
 * the stream goes: the link and CPU the limit protects.  VMs start in plan
 * order, except that one whose destination is full waits while later ones to
 * other destinations start (docs/config.md).
 */

enum vm_state {
    VM_QUEUED = 0,
    VM_RUNNING,
    VM_DONE,
};

struct vm {
    char name[128];
    struct qm_options opts;
    enum vm_state state;
    struct engine *engine;
    struct engine_result result;
    struct evacuation *ev;
    struct dest *dest;
};

/* One destination host and its queue of VMs, in plan order. */
struct dest {
    char host[256];
    size_t running, max_running_seen;
    size_t *queue; /* indices into the VMs */
    size_t n_queue, head;
};

struct evacuation {
    struct ev_loop *loop;
    const struct qm_options *global;
    struct qm_output out;
    struct metrics *metrics; /* --metrics FILE, or NULL */
    struct vm *vms;
    size_t n;
    struct dest *dests;
    size_t n_dests;
    unsigned max_parallel, per_dest; /* per_dest 0: no limit */
    size_t queued;
    size_t running;
    size_t done;
    size_t max_running_seen;
    bool stopping;
    double t0;
    ev_timer summary_timer;
    ev_signal sigint_w, sigterm_w;
};

/* --- the plan ------------------------------------------------------------ */

static int
vm_index_by_dest(const void *a, const void *b, void *opaque)
{
    const struct evacuation *ev = opaque;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(ev->vms[i].dest->host, ev->vms[j].dest->host);

    if (c != 0) {
        return c;
    }
    return i < j ? -1 : i > j;
}

/* Groups the VMs by destination host; each group keeps the plan's order. */
static int
dests_build(struct evacuation *ev)
{
    size_t *order = calloc(ev->n ? ev->n : 1, sizeof(*order));
    struct dest *hosts = calloc(ev->n ? ev->n : 1, sizeof(*hosts));
    size_t i, d = 0;

    if (order == NULL || hosts == NULL) {
        free(order);
        free(hosts);
        return -1;
    }
    /* a scratch dest per VM holds its host while sorting */
    for (i = 0; i < ev->n; i++) {
        util_uri_host(ev->vms[i].opts.uri, hosts[i].host,
                      sizeof(hosts[i].host));
        ev->vms[i].dest = &hosts[i];
        order[i] = i;
    }
    qsort_r(order, ev->n, sizeof(*order), vm_index_by_dest, ev);
    ev->dests = calloc(ev->n ? ev->n : 1, sizeof(*ev->dests));
    if (ev->dests == NULL) {
        free(order);
        free(hosts);
        return -1;
    }
    for (i = 0; i < ev->n; i++) {
        struct vm *vm = &ev->vms[order[i]];

        if (i == 0 || strcmp(ev->dests[d - 1].host, vm->dest->host) != 0) {
            memcpy(ev->dests[d].host, vm->dest->host,
                   sizeof(ev->dests[d].host));
            ev->dests[d].queue = &order[i]; /* a slice of order */
            d++;
        }
        ev->dests[d - 1].n_queue++;
        vm->dest = &ev->dests[d - 1];
    }
    ev->n_dests = d;
    free(hosts);
    if (d == 0) {
        free(order);
    }
    return 0;
}

static void
dests_free(struct evacuation *ev)
{
    if (ev->n_dests > 0) {
        free(ev->dests[0].queue); /* the whole order array */
    }
    free(ev->dests);
}

static int
plan_load(struct evacuation *ev, const char *path)
{
    struct plan plan;
    char err[1024];
    char *text = util_read_file(path, 64u << 20, err, sizeof(err));
    size_t i;
    int rc;

    if (text == NULL) {
        fprintf(stderr, "qmigrate: error: --plan: %s\n", err);
        return -1;
    }
    rc = plan_parse(text, path, ev->global, &plan, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "qmigrate: error: plan %s\n", err);
        return -1;
    }
    ev->vms = calloc(plan.n, sizeof(*ev->vms));
    if (ev->vms == NULL) {
        plan_free(&plan);
        fprintf(stderr, "qmigrate: error: out of memory\n");
        return -1;
    }
    for (i = 0; i < plan.n; i++) {
        snprintf(ev->vms[i].name, sizeof(ev->vms[i].name), "%s",
                 plan.vms[i].name);
        ev->vms[i].opts = plan.vms[i].opts;
        ev->vms[i].ev = ev;
        util_warn_exposed_monitor(plan.vms[i].name, plan.vms[i].opts.source);
        util_warn_exposed_monitor(plan.vms[i].name, plan.vms[i].opts.dest);
    }
    ev->n = ev->queued = plan.n;
    /* the command line over the plan over the config file */
    ev->max_parallel =
        plan.has_max_parallel && ev->global->max_parallel_layer == 0
            ? plan.max_parallel
            : ev->global->max_parallel;
    ev->per_dest =
        plan.has_max_parallel_per_dest && ev->global->per_dest_layer == 0
            ? plan.max_parallel_per_dest
            : ev->global->max_parallel_per_dest;
    plan_free(&plan);
    if (dests_build(ev) < 0) {
        fprintf(stderr, "qmigrate: error: out of memory\n");
        return -1;
    }
    return 0;
}

/* --- running ------------------------------------------------------------- */

static int
severity(enum qm_exit code)
{
    switch (code) {
    case QM_EXIT_MONITOR:
        return 4;
    case QM_EXIT_FAILED:
        return 3;
    case QM_EXIT_ABORTED:
        return 2;
    case QM_EXIT_USAGE:
        return 1;
    default:
        return 0;
    }
}

static void evacuation_fill(struct evacuation *ev);

static void
vm_done(struct engine *e, const struct engine_result *res, void *opaque)
{
    struct vm *vm = opaque;
    struct evacuation *ev = vm->ev;

    (void)e;
    vm->result = *res;
    vm->state = VM_DONE;
    ev->running--;
    vm->dest->running--;
    ev->done++;
    /* start the next one from the loop, not from inside this job */
    ev_feed_event(ev->loop, &ev->summary_timer, EV_CUSTOM);
}

static void
vm_start(struct evacuation *ev, struct vm *vm)
{
    vm->state = VM_RUNNING;
    ev->running++;
    if (ev->running > ev->max_running_seen) {
        ev->max_running_seen = ev->running;
    }
    if (++vm->dest->running > vm->dest->max_running_seen) {
        vm->dest->max_running_seen = vm->dest->running;
    }
    output_json(&ev->out, vm->name, "begin", ev_now(ev->loop) - ev->t0,
                json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "source",
                          vm->opts.source, "uri", vm->opts.uri, "dest",
                          vm->dest->host, "running", (json_int_t)ev->running,
                          "running_to_dest", (json_int_t)vm->dest->running,
                          "queued", (json_int_t)ev->queued));
    vm->engine = launch_engine(ev->loop, &vm->opts, vm->name, &ev->out,
                               ev->metrics, NULL, vm_done, vm,
                               vm->result.reason, sizeof(vm->result.reason));
    if (vm->engine == NULL) {
        vm->state = VM_DONE;
        vm->result.code = QM_EXIT_FAILED;
        vm->result.result = "error";
        ev->running--;
        vm->dest->running--;
        ev->done++;
        return;
    }
    engine_start(vm->engine);
}

/* The first queued VM in plan order whose destination has room. */
static struct vm *
evacuation_next(struct evacuation *ev)
{
    struct vm *best = NULL;
    size_t i;

    for (i = 0; i < ev->n_dests; i++) {
        struct dest *d = &ev->dests[i];
        struct vm *vm;

        if (d->head == d->n_queue ||
            (ev->per_dest && d->running >= ev->per_dest)) {
            continue;
        }
        vm = &ev->vms[d->queue[d->head]];
        if (best == NULL || vm < best) {
            best = vm;
        }
    }
    return best;
}

/* Starts queued VMs while slots are free; ends the loop when all are done. */
static void
evacuation_fill(struct evacuation *ev)
{
    struct vm *vm;

    while (!ev->stopping && ev->running < ev->max_parallel &&
           (vm = evacuation_next(ev)) != NULL) {
        vm->dest->head++;
        ev->queued--;
        vm_start(ev, vm);
    }
    if (ev->done == ev->n || (ev->stopping && ev->running == 0)) {
        ev_break(ev->loop, EVBREAK_ALL);
    }
}

/*
 * On a terminal: one line per running VM and a summary line, redrawn in
 * place every second (notes and actions print above it).
 */
static void
summary_block(struct evacuation *ev)
{
    FILE *f = ev->out.human;
    size_t i, ok = 0;
    int lines = 0;

    if (f == NULL || !ev->out.human_tty) {
        return;
    }
    output_line_end(&ev->out);
    for (i = 0; i < ev->n; i++) {
        struct policy_sample s;
        struct policy_report r;
        char line[512];

        ok += ev->vms[i].state == VM_DONE && ev->vms[i].result.code == 0;
        if (ev->vms[i].state != VM_RUNNING ||
            !engine_last(ev->vms[i].engine, &s, &r)) {
            continue;
        }
        output_status_line(line, sizeof(line), ev->vms[i].name, &s, &r);
        if (ev->out.columns > 1 && strlen(line) >= (size_t)ev->out.columns) {
            line[ev->out.columns - 1] = '\0'; /* no wrapping: see above */
        }
        fprintf(f, "\033[K%s\n", line);
        lines++;
    }
    fprintf(f,
            "\033[Kevacuate: %zu running, %zu queued, %zu done (%zu "
            "completed, %zu not)\n",
            ev->running, ev->queued, ev->done, ok, ev->done - ok);
    fflush(f);
    ev->out.block_lines = lines + 1;
}

static void
summary_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct evacuation *ev = w->data;

    (void)loop;
    if (revents & EV_CUSTOM) {
        evacuation_fill(ev);
    }
    summary_block(ev);
}

static void
evacuation_stop(struct evacuation *ev, const char *why)
{
    size_t i;

    if (!ev->stopping) {
        output_note(&ev->out, 0,
                    "%s: cancelling %zu running migrations, starting no "
                    "more",
                    why, ev->running);
    }
    ev->stopping = true;
    for (i = 0; i < ev->n; i++) {
        struct vm *vm = &ev->vms[i];

        if (vm->state != VM_QUEUED) {
            continue;
        }
        vm->state = VM_DONE;
        vm->result.code = QM_EXIT_ABORTED;
        vm->result.result = "cancelled";
        vm->result.downtime_ms = -1;
        snprintf(vm->result.reason, sizeof(vm->result.reason),
                 "not started: %s", why);
        ev->done++;
    }
    for (i = 0; i < ev->n_dests; i++) {
        ev->dests[i].head = ev->dests[i].n_queue;
    }
    ev->queued = 0;
    for (i = 0; i < ev->n; i++) {
        if (ev->vms[i].state == VM_RUNNING) {
            engine_cancel(ev->vms[i].engine, why);
        }
    }
    evacuation_fill(ev);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct evacuation *ev = w->data;

    (void)loop;
    (void)revents;
    evacuation_stop(ev, w->signum == SIGINT ? "interrupted (SIGINT)"
                                            : "terminated (SIGTERM)");
}

static int
print_table(struct evacuation *ev)
{
    FILE *f = ev->out.human;
    int worst = 0;
    enum qm_exit code = QM_EXIT_COMPLETED;
    size_t i, width = 4, per_dest_seen = 0;

    for (i = 0; i < ev->n; i++) {
        size_t len = strlen(ev->vms[i].name);

        width = len > width ? len : width;
        if (severity(ev->vms[i].result.code) > worst) {
            worst = severity(ev->vms[i].result.code);
            code = ev->vms[i].result.code;
        }
    }
    for (i = 0; i < ev->n_dests; i++) {
        if (ev->dests[i].max_running_seen > per_dest_seen) {
            per_dest_seen = ev->dests[i].max_running_seen;
        }
    }
    output_line_end(&ev->out);
    if (f != NULL) {
        fprintf(f, "%-*s  %-10s %8s %9s  %s\n", (int)width, "name", "result",
                "time", "downtime", "reason");
        for (i = 0; i < ev->n; i++) {
            const struct vm *vm = &ev->vms[i];
            char dt[32];

            if (vm->result.downtime_ms >= 0) {
                snprintf(dt, sizeof(dt), "%lld ms",
                         (long long)vm->result.downtime_ms);
            } else {
                snprintf(dt, sizeof(dt), "-");
            }
            fprintf(f, "%-*s  %-10s %7.1fs %9s  %s\n", (int)width, vm->name,
                    vm->result.result ? vm->result.result : "?",
                    vm->result.total_time_s, dt, vm->result.reason);
        }
        fflush(f);
    }
    output_json(&ev->out, NULL, "summary", ev_now(ev->loop) - ev->t0,
                json_pack("{s:I, s:I, s:I, s:I, s:i}", "vms", (json_int_t)ev->n,
                          "destinations", (json_int_t)ev->n_dests,
                          "max_running", (json_int_t)ev->max_running_seen,
                          "max_running_per_dest", (json_int_t)per_dest_seen,
                          "exit_code", (int)code));
    return (int)code;
}

int
cmd_evacuate(struct qm_options *o)
{
    struct evacuation ev;
    char err[512];
    size_t i;
    int code;

    memset(&ev, 0, sizeof(ev));
    ev.global = o;
    output_init(&ev.out, o);
    ev.out.summary = true;
    if (plan_load(&ev, o->plan) < 0) {
        free(ev.vms);
        dests_free(&ev);
        return QM_EXIT_USAGE;
    }
    ev.loop = ev_default_loop(EVFLAG_AUTO);
    if (o->metrics[0] != '\0') {
        ev.metrics = metrics_new(ev.loop, o->metrics, err, sizeof(err));
        if (ev.metrics == NULL) {
            fprintf(stderr, "qmigrate: error: --metrics: %s\n", err);
            free(ev.vms);
            dests_free(&ev);
            return QM_EXIT_USAGE;
        }
    }
    ev.t0 = ev_now(ev.loop);
    if (ev.per_dest > 0) {
        output_note(&ev.out, 0,
                    "evacuating %zu VMs from plan %s to %zu destinations, %u "
                    "at a time, %u to one destination",
                    ev.n, o->plan, ev.n_dests, ev.max_parallel, ev.per_dest);
    } else {
        output_note(&ev.out, 0,
                    "evacuating %zu VMs from plan %s to %zu destinations, %u "
                    "at a time",
                    ev.n, o->plan, ev.n_dests, ev.max_parallel);
    }
    ev_timer_init(&ev.summary_timer, summary_timer_cb, 1.0, 1.0);
    ev.summary_timer.data = &ev;
    ev_timer_start(ev.loop, &ev.summary_timer);
    ev_signal_init(&ev.sigint_w, signal_cb, SIGINT);
    ev.sigint_w.data = &ev;
    ev_signal_start(ev.loop, &ev.sigint_w);
    ev_signal_init(&ev.sigterm_w, signal_cb, SIGTERM);
    ev.sigterm_w.data = &ev;
    ev_signal_start(ev.loop, &ev.sigterm_w);
    evacuation_fill(&ev);
    if (ev.done < ev.n) {
        ev_run(ev.loop, 0);
    }
    ev_timer_stop(ev.loop, &ev.summary_timer);
    ev_signal_stop(ev.loop, &ev.sigint_w);
    ev_signal_stop(ev.loop, &ev.sigterm_w);
    code = print_table(&ev);
    for (i = 0; i < ev.n; i++) {
        engine_free(ev.vms[i].engine);
    }
    metrics_free(ev.metrics);
    ev_loop_destroy(ev.loop);
    free(ev.vms);
    dests_free(&ev);
    return code;
}
