/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/run: migrate, watch and cancel: one job on one loop, with signals. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct run {
    struct ev_loop *loop;
    struct job *job;
    struct job_result result;
    bool done;
};

static void
run_done(struct job *job, const struct job_result *res, void *opaque)
{
    struct run *run = opaque;

    (void)job;
    run->result = *res;
    run->done = true;
    ev_break(run->loop, EVBREAK_ALL);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct run *run = w->data;

    (void)loop;
    (void)revents;
    job_cancel(run->job, w->signum == SIGINT ? "interrupted (SIGINT)"
                                             : "terminated (SIGTERM)");
}

/* Runs one job to its end; returns its exit code. */
static int
run_one(struct qm_options *o)
{
    struct qm_output out;
    struct run run;
    ev_signal sigint_w, sigterm_w;
    char err[512];

    output_init(&out, o);
    memset(&run, 0, sizeof(run));
    run.loop = ev_default_loop(EVFLAG_AUTO);
    if (run.loop == NULL) {
        fprintf(stderr, "qmigrate: error: cannot start the event loop\n");
        return QM_EXIT_FAILED;
    }
    if (o->metrics[0] != '\0') {
        out.metrics = metrics_new(run.loop, o->metrics, err, sizeof(err));
        if (out.metrics == NULL) {
            fprintf(stderr, "qmigrate: error: --metrics: %s\n", err);
            return QM_EXIT_USAGE;
        }
    }
    run.job = job_new(run.loop, o, NULL, &out, run_done, &run);
    if (run.job == NULL) {
        fprintf(stderr, "qmigrate: error: out of memory\n");
        metrics_free(out.metrics);
        return QM_EXIT_FAILED;
    }
    /* watch never acts: a signal just ends it, leaving QEMU alone */
    if (o->command != CMD_WATCH) {
        ev_signal_init(&sigint_w, signal_cb, SIGINT);
        sigint_w.data = &run;
        ev_signal_start(run.loop, &sigint_w);
        ev_signal_init(&sigterm_w, signal_cb, SIGTERM);
        sigterm_w.data = &run;
        ev_signal_start(run.loop, &sigterm_w);
    }
    job_start(run.job);
    if (!run.done) {
        ev_run(run.loop, 0);
    }
    if (o->command != CMD_WATCH) {
        ev_signal_stop(run.loop, &sigint_w);
        ev_signal_stop(run.loop, &sigterm_w);
    }
    job_free(run.job);
    metrics_free(out.metrics);
    ev_loop_destroy(run.loop);
    return run.done ? (int)run.result.code : QM_EXIT_FAILED;
}

int
cmd_migrate(struct qm_options *o)
{
    return run_one(o);
}

int
cmd_watch(struct qm_options *o)
{
    return run_one(o);
}

int
cmd_cancel(struct qm_options *o)
{
    return run_one(o);
}
