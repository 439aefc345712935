/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/run: migrate, watch and cancel: one engine on one loop, with signals. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct run {
    struct ev_loop *loop;
    struct engine *engine;
    struct engine_result result;
    bool done;
};

static void
run_done(struct engine *e, const struct engine_result *res, void *opaque)
{
    struct run *run = opaque;

    (void)e;
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
    engine_cancel(run->engine, w->signum == SIGINT ? "interrupted (SIGINT)"
                                                   : "terminated (SIGTERM)");
}

/* Runs one engine to its end; returns its exit code. */
static int
run_one(struct qm_options *o)
{
    struct trace_writer *trace = NULL;
    struct metrics *metrics = NULL;
    char trace_err[1200] = "";
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
        metrics = metrics_new(run.loop, o->metrics, err, sizeof(err));
        if (metrics == NULL) {
            fprintf(stderr, "qmigrate: error: --metrics: %s\n", err);
            return QM_EXIT_USAGE;
        }
    }
    if (o->trace[0] != '\0') {
        trace = trace_writer_open(o->trace, trace_err, sizeof(trace_err));
    }
    run.engine = launch_engine(run.loop, o, NULL, &out, metrics, trace,
                               run_done, &run, err, sizeof(err));
    if (run.engine == NULL) {
        fprintf(stderr, "qmigrate: error: %s\n", err);
        trace_writer_free(trace);
        metrics_free(metrics);
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
    if (trace_err[0] != '\0') {
        engine_refuse(run.engine, QM_EXIT_USAGE, "%s", trace_err);
    } else {
        engine_start(run.engine);
    }
    if (!run.done) {
        ev_run(run.loop, 0);
    }
    if (o->command != CMD_WATCH) {
        ev_signal_stop(run.loop, &sigint_w);
        ev_signal_stop(run.loop, &sigterm_w);
    }
    engine_free(run.engine);
    trace_writer_free(trace);
    metrics_free(metrics);
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
