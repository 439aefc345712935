/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/trace_sink: every sample and action of an engine as JSON lines, for
 * replay and plots. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* The trace format's version, in the start line (docs/json.md). */
#define TRACE_FORMAT 2

struct trace_writer {
    FILE *f;
};

struct trace_writer *
trace_writer_open(const char *path, char *err, size_t errlen)
{
    struct trace_writer *t = calloc(1, sizeof(*t));
    int fd = -1, saved;

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0 && (t->f = fdopen(fd, "w")) != NULL) {
        return t;
    }
    saved = errno;
    if (fd >= 0) {
        close(fd);
    }
    free(t);
    snprintf(err, errlen, "--trace: cannot write '%s': %s", path,
             strerror(saved));
    return NULL;
}

void
trace_writer_free(struct trace_writer *t)
{
    if (t == NULL) {
        return;
    }
    if (t->f != NULL) {
        fclose(t->f);
    }
    free(t);
}

/* One line: the event, when (ms), then obj's members (obj is stolen). */
static void
trace_write(struct trace_writer *t, const char *event, double when, json_t *obj)
{
    json_t *line;
    char *text;

    if (t->f == NULL) {
        json_decref(obj);
        return;
    }
    line = json_pack("{s:s, s:f}", "event", event, "t",
                     round(when * 1000.0) / 1000.0);
    json_object_update(line, obj);
    json_decref(obj);
    /* full precision: replay must see the very same numbers */
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (text != NULL) {
        fputs(text, t->f);
        fputc('\n', t->f);
        fflush(t->f);
        free(text);
    }
}

static void
sink_start(struct engine *e, void *opaque, double t,
           const struct engine_start *st)
{
    json_t *obj = start_json(st);

    (void)e;
    json_object_set_new(obj, "trace_format", json_integer(TRACE_FORMAT));
    trace_write(opaque, "start", t, obj);
}

static void
sink_sample(struct engine *e, void *opaque, double t,
            const struct policy_sample *s, const struct policy_report *r)
{
    json_t *obj = sample_to_json(s);

    (void)e;
    json_object_set_new(obj, "percent", json_real(r->percent));
    json_object_set_new(obj, "eta_s",
                        r->eta_s >= 0 ? json_real(r->eta_s) : json_null());
    trace_write(opaque, "sample", t, obj);
}

static void
sink_action(struct engine *e, void *opaque, double t,
            const struct policy_action *a, bool advice)
{
    bool has_value = policy_action_has_value(a->kind);

    (void)e;
    (void)advice; /* recorded alike: replay compares decisions */
    trace_write(
        opaque, "action", t,
        json_pack("{s:s, s:o, s:s}", "action", policy_action_name(a->kind),
                  "value",
                  has_value ? json_integer((json_int_t)a->value) : json_null(),
                  "reason", a->reason));
}

static void
sink_preflight(struct engine *e, void *opaque, double t,
               const struct policy_preflight_report *r)
{
    (void)e;
    trace_write(opaque, "preflight", t, preflight_json(r));
}

static void
sink_measure(struct engine *e, void *opaque,
             const struct engine_measure_event *ev)
{
    (void)e;
    trace_write(opaque, "measure", ev->t, measure_to_json(ev));
}

static void
sink_end(struct engine *e, void *opaque, const struct engine_result *res)
{
    struct trace_writer *t = opaque;

    (void)e;
    trace_write(t, "end", res->total_time_s, end_json(res));
    fclose(t->f);
    t->f = NULL;
}

const struct engine_sink trace_sink = {
    .start = sink_start,
    .sample = sink_sample,
    .action = sink_action,
    .preflight = sink_preflight,
    .measure = sink_measure,
    .end = sink_end,
};
