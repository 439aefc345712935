/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/metrics: every job's current figures for node_exporter's textfile
 * collector. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

struct metrics_entry {
    char vm[128];
    bool have_sample;
    struct policy_sample sample;
    struct policy_report report;
    bool done;
    struct engine_result result;
};

struct metrics {
    struct ev_loop *loop;
    char path[QM_PATH_MAX];
    struct metrics_entry *entries;
    size_t n, cap;
    bool dirty;
    bool failed_once;
    ev_timer timer;
};

static void
metrics_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct metrics *m = w->data;

    (void)loop;
    (void)revents;
    if (m->dirty) {
        metrics_flush(m);
    }
}

struct metrics *
metrics_new(struct ev_loop *loop, const char *path, char *err, size_t errlen)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->loop = loop;
    snprintf(m->path, sizeof(m->path), "%s", path);
    ev_timer_init(&m->timer, metrics_timer_cb, 1.0, 1.0);
    m->timer.data = m;
    ev_timer_start(loop, &m->timer);
    ev_unref(loop); /* the timer alone does not keep the loop running */
    return m;
}

static struct metrics_entry *
metrics_entry(struct metrics *m, const char *vm)
{
    size_t i;

    if (vm == NULL) {
        vm = "";
    }
    for (i = 0; i < m->n; i++) {
        if (strcmp(m->entries[i].vm, vm) == 0) {
            return &m->entries[i];
        }
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct metrics_entry *e = realloc(m->entries, cap * sizeof(*e));

        if (e == NULL) {
            return NULL;
        }
        m->entries = e;
        m->cap = cap;
    }
    memset(&m->entries[m->n], 0, sizeof(m->entries[0]));
    snprintf(m->entries[m->n].vm, sizeof(m->entries[0].vm), "%s", vm);
    return &m->entries[m->n++];
}

void
metrics_sample(struct metrics *m, const char *vm, const struct policy_sample *s,
               const struct policy_report *r)
{
    struct metrics_entry *e;

    if (m == NULL || (e = metrics_entry(m, vm)) == NULL) {
        return;
    }
    e->have_sample = true;
    e->sample = *s;
    e->report = *r;
    m->dirty = true;
}

void
metrics_result(struct metrics *m, const char *vm,
               const struct engine_result *res)
{
    struct metrics_entry *e;

    if (m == NULL || (e = metrics_entry(m, vm)) == NULL) {
        return;
    }
    e->done = true;
    e->result = *res;
    m->dirty = true;
    metrics_flush(m);
}

/* A label value, escaped as the text format asks. */
static void
put_label(FILE *f, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            fputc('\\', f);
            fputc(*v, f);
        } else if (*v == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*v, f);
        }
    }
}

struct gauge {
    const char *name;
    const char *help;
};

static const struct gauge gauges[] = {
    {"qmigrate_memory_total_bytes", "guest RAM being migrated"},
    {"qmigrate_memory_remaining_bytes", "RAM still to send"},
    {"qmigrate_memory_transferred_bytes", "RAM sent so far"},
    {"qmigrate_disk_total_bytes", "disk data being copied"},
    {"qmigrate_disk_remaining_bytes", "disk data still to copy"},
    {"qmigrate_disk_transferred_bytes", "disk data copied so far"},
    {"qmigrate_progress_ratio", "combined progress, never goes back"},
    {"qmigrate_downtime_limit_seconds", "downtime limit in force"},
    {"qmigrate_expected_downtime_seconds", "QEMU's expected downtime"},
    {"qmigrate_dirty_rate_bytes_per_second", "guest dirty rate"},
    {"qmigrate_bandwidth_bytes_per_second", "measured bandwidth"},
    {"qmigrate_iteration", "pre-copy pass number"},
    {"qmigrate_eta_seconds", "estimated time to completion (when known)"},
    {"qmigrate_throttle_ratio", "auto-converge CPU throttle"},
    {"qmigrate_elapsed_seconds", "seconds since the job started"},
};

static double
gauge_value(size_t g, const struct metrics_entry *e, bool *present)
{
    const struct policy_sample *s = &e->sample;
    const struct policy_report *r = &e->report;

    *present = true;
    switch (g) {
    case 0:
        return (double)s->ram_total;
    case 1:
        return (double)s->ram_remaining;
    case 2:
        return (double)s->ram_transferred;
    case 3:
        return (double)s->disk_total;
    case 4:
        return (double)s->disk_remaining;
    case 5:
        return (double)s->disk_transferred;
    case 6:
        return r->percent / 100.0;
    case 7:
        return (double)s->downtime_limit_ms / 1000.0;
    case 8:
        *present = s->expected_downtime_ms >= 0;
        return (double)s->expected_downtime_ms / 1000.0;
    case 9:
        return (double)r->dirty_rate;
    case 10:
        return (double)r->bandwidth;
    case 11:
        return (double)r->iteration;
    case 12:
        *present = r->eta_s >= 0;
        return r->eta_s;
    case 13:
        return s->throttle_percent / 100.0;
    default:
        return s->t;
    }
}

static void
metrics_write(struct metrics *m, FILE *f)
{
    size_t g, i;
    bool present;

    for (g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
                gauges[g].help, gauges[g].name);
        for (i = 0; i < m->n; i++) {
            const struct metrics_entry *e = &m->entries[i];
            double v;

            if (!e->have_sample) {
                continue;
            }
            v = gauge_value(g, e, &present);
            if (!present) {
                continue;
            }
            fprintf(f, "%s{vm=\"", gauges[g].name);
            put_label(f, e->vm);
            fprintf(f, "\"} %.17g\n", v);
        }
    }
    fputs("# HELP qmigrate_status QEMU's migration status (1 for the "
          "current one)\n# TYPE qmigrate_status gauge\n",
          f);
    for (i = 0; i < m->n; i++) {
        if (m->entries[i].have_sample) {
            fputs("qmigrate_status{vm=\"", f);
            put_label(f, m->entries[i].vm);
            fprintf(f, "\",status=\"%s\"} 1\n",
                    migration_status_name(m->entries[i].sample.status));
        }
    }
    fputs("# HELP qmigrate_exit_code the job's exit code, once it ended\n"
          "# TYPE qmigrate_exit_code gauge\n",
          f);
    for (i = 0; i < m->n; i++) {
        if (m->entries[i].done) {
            fputs("qmigrate_exit_code{vm=\"", f);
            put_label(f, m->entries[i].vm);
            fprintf(f, "\",result=\"%s\"} %d\n", m->entries[i].result.result,
                    (int)m->entries[i].result.code);
        }
    }
}

int
metrics_flush(struct metrics *m)
{
    char tmp[QM_PATH_MAX + 32];
    FILE *f;
    int fd;

    if (m == NULL) {
        return 0;
    }
    m->dirty = false;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", m->path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        goto fail;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        int saved = errno;

        close(fd);
        unlink(tmp);
        errno = saved;
        goto fail;
    }
    metrics_write(m, f);
    if (fflush(f) != 0 || ferror(f)) {
        fclose(f);
        unlink(tmp);
        goto fail;
    }
    fclose(f);
    if (rename(tmp, m->path) < 0) {
        unlink(tmp);
        goto fail;
    }
    return 0;
fail:
    if (!m->failed_once) {
        m->failed_once = true;
        fprintf(stderr, "qmigrate: warning: --metrics: cannot write '%s': %s\n",
                m->path, strerror(errno));
    }
    return -1;
}

void
metrics_free(struct metrics *m)
{
    if (m == NULL) {
        return;
    }
    if (m->dirty) {
        metrics_flush(m);
    }
    ev_ref(m->loop);
    ev_timer_stop(m->loop, &m->timer);
    free(m->entries);
    free(m);
}

/* --- the engine's sink ---------------------------------------------------- */

static void
sink_sample(struct engine *e, void *opaque, double t,
            const struct policy_sample *s, const struct policy_report *r)
{
    (void)t;
    metrics_sample(opaque, engine_name(e), s, r);
}

static void
sink_end(struct engine *e, void *opaque, const struct engine_result *res)
{
    metrics_result(opaque, engine_name(e), res);
}

const struct engine_sink metrics_sink = {
    .sample = sink_sample,
    .end = sink_end,
};
