/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/trace: every sample and action of a job as JSON lines, for replay and
 * plots. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/job_internal.h"

int
trace_open(struct job *job)
{
    int fd;

    if (job->opts.trace[0] == '\0') {
        return 0;
    }
    fd = open(job->opts.trace, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || (job->trace = fdopen(fd, "w")) == NULL) {
        int saved = errno;

        if (fd >= 0) {
            close(fd);
        }
        job_finish(job, QM_EXIT_USAGE, "error",
                   "--trace: cannot write '%s': %s", job->opts.trace,
                   strerror(saved));
        return -1;
    }
    return 0;
}

void
trace_close(struct job *job)
{
    if (job->trace != NULL) {
        fclose(job->trace);
        job->trace = NULL;
    }
}

void
trace_write(struct job *job, const char *event, json_t *obj)
{
    json_t *line;
    char *text;

    if (job->trace == NULL) {
        json_decref(obj);
        return;
    }
    line = json_pack("{s:s, s:f}", "event", event, "t",
                     round((ev_now(job->loop) - job->t0) * 1000.0) / 1000.0);
    if (obj != NULL) {
        json_object_update(line, obj);
        json_decref(obj);
    }
    /* full precision: replay must see the very same numbers */
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (text != NULL) {
        fputs(text, job->trace);
        fputc('\n', job->trace);
        fflush(job->trace);
        free(text);
    }
}

void
trace_sample(struct job *job, const struct policy_sample *s,
             const struct policy_report *r)
{
    json_t *obj;

    if (job->trace == NULL) {
        return;
    }
    obj = sample_to_json(s);
    json_object_set_new(obj, "percent", json_real(r->percent));
    json_object_set_new(obj, "eta_s",
                        r->eta_s >= 0 ? json_real(r->eta_s) : json_null());
    trace_write(job, "sample", obj);
}

void
trace_action(struct job *job, const struct policy_action *a)
{
    bool has_value = a->kind == POLICY_ACTION_SET_DOWNTIME ||
                     a->kind == POLICY_ACTION_SET_BANDWIDTH;

    trace_write(
        job, "action",
        json_pack("{s:s, s:o, s:s}", "action", policy_action_name(a->kind),
                  "value",
                  has_value ? json_integer((json_int_t)a->value) : json_null(),
                  "reason", a->reason));
}

json_t *
job_settings_json(const struct job *job)
{
    return options_settings_json(&job->opts);
}
