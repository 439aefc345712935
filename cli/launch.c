/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/launch: an engine for one VM, with the program's sinks attached. */
#include "cli/cli.h"

struct engine *
launch_engine(struct ev_loop *loop, const struct qm_options *o,
              const char *name, struct qm_output *out, struct metrics *metrics,
              struct trace_writer *trace, engine_done_fn *done, void *opaque,
              char *err, size_t errlen)
{
    struct engine_config cfg;
    struct engine *e;

    options_engine_config(o, name, &cfg);
    e = engine_new(loop, &cfg, done, opaque, err, errlen);
    if (e == NULL) {
        return NULL;
    }
    /* trace first: a sample is on disk before it is on the screen */
    if (trace != NULL) {
        engine_add_sink(e, &trace_sink, trace);
    }
    engine_add_sink(e, &output_sink, out);
    if (metrics != NULL) {
        engine_add_sink(e, &metrics_sink, metrics);
    }
    return e;
}
