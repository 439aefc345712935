/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/output: JSON lines for tools, text for people. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/util.h"

void
output_init(struct qm_output *out, const struct qm_options *o)
{
    memset(out, 0, sizeof(*out));
    out->json = o->json ? stdout : NULL;
    /* People read stderr when stdout carries JSON. */
    out->human = o->quiet ? NULL : (o->json ? stderr : stdout);
    out->human_tty = out->human != NULL && isatty(fileno(out->human));
    if (out->human_tty) {
        struct winsize ws;

        if (ioctl(fileno(out->human), TIOCGWINSZ, &ws) == 0) {
            out->columns = ws.ws_col;
        }
    }
    out->verbose = o->verbose;
}

void
output_line_end(struct qm_output *out)
{
    if (out->block_lines > 0 && out->human != NULL) {
        /* up to the block's first line, then clear to the end */
        fprintf(out->human, "\r\033[%dA\033[J", out->block_lines);
        fflush(out->human);
        out->block_lines = 0;
        out->line_open = false;
        return;
    }
    if (out->line_open && out->human != NULL) {
        fputc('\n', out->human);
        fflush(out->human);
    }
    out->line_open = false;
}

static void output_vtext(struct qm_output *out, FILE *f, const char *prefix,
                         const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
output_vtext(struct qm_output *out, FILE *f, const char *prefix,
             const char *fmt, va_list ap)
{
    output_line_end(out);
    fputs(prefix, f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void
output_note(struct qm_output *out, int level, const char *fmt, ...)
{
    va_list ap;

    if (out->human == NULL || level > out->verbose) {
        return;
    }
    va_start(ap, fmt);
    output_vtext(out, out->human, "qmigrate: ", fmt, ap);
    va_end(ap);
}

void
output_error(struct qm_output *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    output_vtext(out, stderr, "qmigrate: error: ", fmt, ap);
    va_end(ap);
}

void
output_json(struct qm_output *out, const char *vm, const char *event, double t,
            json_t *obj)
{
    json_t *line;
    char *text;

    if (out->json == NULL) {
        json_decref(obj);
        return;
    }
    line = json_object();
    json_object_set_new(line, "event", json_string(event));
    json_object_set_new(line, "t", json_real(round(t * 1000.0) / 1000.0));
    if (vm != NULL) {
        json_object_set_new(line, "vm", json_string(vm));
    }
    if (obj != NULL) {
        json_object_update(line, obj);
        json_decref(obj);
    }
    text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                JSON_REAL_PRECISION(10));
    json_decref(line);
    if (text != NULL) {
        fputs(text, out->json);
        fputc('\n', out->json);
        fflush(out->json);
        free(text);
    }
}

static json_t *
stats_json(uint64_t total, uint64_t remaining, uint64_t transferred,
           double percent)
{
    return json_pack("{s:I, s:I, s:I, s:f}", "total", (json_int_t)total,
                     "remaining", (json_int_t)remaining, "transferred",
                     (json_int_t)transferred, "percent",
                     round(percent * 10.0) / 10.0);
}

static void
progress_json(struct qm_output *out, const char *vm, double t,
              const struct policy_sample *s, const struct policy_report *r)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "status",
                        json_string(migration_status_name(s->status)));
    json_object_set_new(obj, "memory",
                        stats_json(s->ram_total, s->ram_remaining,
                                   s->ram_transferred, r->memory_percent));
    json_object_set_new(obj, "disk",
                        stats_json(s->disk_total, s->disk_remaining,
                                   s->disk_transferred, r->disk_percent));
    json_object_set_new(obj, "percent",
                        json_real(round(r->percent * 10.0) / 10.0));
    json_object_set_new(obj, "downtime_limit_ms",
                        json_integer((json_int_t)s->downtime_limit_ms));
    json_object_set_new(obj, "expected_downtime_ms",
                        s->expected_downtime_ms >= 0
                            ? json_integer(s->expected_downtime_ms)
                            : json_null());
    json_object_set_new(obj, "dirty_rate",
                        json_integer((json_int_t)r->dirty_rate));
    json_object_set_new(obj, "bandwidth",
                        json_integer((json_int_t)r->bandwidth));
    json_object_set_new(obj, "iteration",
                        json_integer((json_int_t)r->iteration));
    json_object_set_new(obj, "eta_s",
                        r->eta_s >= 0 ? json_real(round(r->eta_s * 10) / 10)
                                      : json_null());
    if (r->eta_note[0] != '\0') {
        json_object_set_new(obj, "eta_note", json_string(r->eta_note));
    }
    json_object_set_new(obj, "throttle_percent",
                        json_integer(s->throttle_percent));
    json_object_set_new(obj, "since_low_watermark_s",
                        json_real(round(r->since_low_watermark_s * 10) / 10));
    json_object_set_new(obj, "multifd_bytes",
                        json_integer((json_int_t)s->ram_multifd_bytes));
    json_object_set_new(obj, "dirty_limit_mib_s",
                        s->dirty_limit_mib_s != 0
                            ? json_integer((json_int_t)s->dirty_limit_mib_s)
                            : json_null());
    json_object_set_new(obj, "dirty_limit_throttle_us",
                        s->dirty_limit_throttle_us >= 0
                            ? json_integer(s->dirty_limit_throttle_us)
                            : json_null());
    output_json(out, vm, "progress", t, obj);
}

static void
bar(char *buf, size_t width, double percent)
{
    size_t full = (size_t)(percent / 100.0 * (double)width + 0.5);
    size_t i;

    if (full > width) {
        full = width;
    }
    for (i = 0; i < width; i++) {
        buf[i] = i < full ? '#' : '.';
    }
    buf[width] = '\0';
}

void
output_status_line(char *buf, size_t size, const char *vm,
                   const struct policy_sample *s, const struct policy_report *r)
{
    char membar[21], diskpart[64], rem[32], dirty[32], bw[32], eta[48],
        need[32] = "", limit[64] = "";

    bar(membar, 20, r->memory_percent);
    if (s->disk_total > 0) {
        char dbar[11];

        bar(dbar, 10, r->disk_percent);
        snprintf(diskpart, sizeof(diskpart), " disk [%s] %5.1f%%", dbar,
                 r->disk_percent);
    } else {
        diskpart[0] = '\0';
    }
    if (r->eta_s >= 0) {
        snprintf(eta, sizeof(eta), "ETA %.0fs", r->eta_s);
    } else {
        snprintf(eta, sizeof(eta), "ETA -");
    }
    if (s->expected_downtime_ms >= 0) {
        snprintf(need, sizeof(need), " (needs %lld)",
                 (long long)s->expected_downtime_ms);
    }
    if (s->dirty_limit_mib_s != 0) {
        snprintf(limit, sizeof(limit), " limit %llu MiB/s/vCPU",
                 (unsigned long long)s->dirty_limit_mib_s);
        if (s->dirty_limit_throttle_us > 0) {
            size_t used = strlen(limit);

            snprintf(limit + used, sizeof(limit) - used, " (throttle %lld us)",
                     (long long)s->dirty_limit_throttle_us);
        }
    }
    util_format_bytes(s->ram_remaining, rem, sizeof(rem));
    util_format_bytes(r->dirty_rate, dirty, sizeof(dirty));
    util_format_bytes(r->bandwidth, bw, sizeof(bw));
    snprintf(buf, size,
             "%s%s%6.1fs %-15s mem [%s] %5.1f%% %s left%s pass %llu "
             "dirty %s/s bw %s/s downtime %llu ms%s%s %s",
             vm ? vm : "", vm ? " " : "", s->t,
             migration_status_name(s->status), membar, r->memory_percent, rem,
             diskpart, (unsigned long long)r->iteration, dirty, bw,
             (unsigned long long)s->downtime_limit_ms, need, limit, eta);
}

static void
progress_human(struct qm_output *out, const char *vm,
               const struct policy_sample *s, const struct policy_report *r)
{
    char line[512];

    if (out->human == NULL || (out->summary && out->verbose == 0)) {
        return;
    }
    output_status_line(line, sizeof(line), vm, s, r);
    if (out->human_tty) {
        /* an updating line must not wrap, or \r cannot rewrite it */
        if (out->columns > 1 && strlen(line) >= (size_t)out->columns) {
            line[out->columns - 1] = '\0';
        }
        fputs("\r\033[K", out->human);
    }
    fputs(line, out->human);
    if (out->human_tty) {
        out->line_open = true;
    } else {
        fputc('\n', out->human);
    }
    fflush(out->human);
}

void
output_progress(struct qm_output *out, const char *vm, double t,
                const struct policy_sample *s, const struct policy_report *r)
{
    progress_json(out, vm, t, s, r);
    progress_human(out, vm, s, r);
}

static void
output_decision(struct qm_output *out, const char *vm, double t,
                const struct policy_action *a, const char *event)
{
    json_t *obj = json_object();
    bool has_value = policy_action_has_value(a->kind);

    json_object_set_new(obj, "action",
                        json_string(policy_action_name(a->kind)));
    json_object_set_new(obj, "value",
                        has_value ? json_integer((json_int_t)a->value)
                                  : json_null());
    json_object_set_new(obj, "reason", json_string(a->reason));
    output_json(out, vm, event, t, obj);
    if (out->human != NULL) {
        output_line_end(out);
        fprintf(out->human, "%s%s%6.1fs %s %s", vm ? vm : "", vm ? " " : "", t,
                event, policy_action_name(a->kind));
        if (has_value) {
            fprintf(out->human, " %llu", (unsigned long long)a->value);
        }
        fprintf(out->human, ": %s\n", a->reason);
        fflush(out->human);
    }
}

void
output_action(struct qm_output *out, const char *vm, double t,
              const struct policy_action *a)
{
    output_decision(out, vm, t, a, "action");
}

void
output_advice(struct qm_output *out, const char *vm, double t,
              const struct policy_action *a)
{
    output_decision(out, vm, t, a, "advice");
}

/* --- the engine's sink ---------------------------------------------------- */

static void
sink_start(struct engine *e, void *opaque, double t,
           const struct engine_start *st)
{
    output_json(opaque, engine_name(e), "start", t, start_json(st));
}

static void
sink_sample(struct engine *e, void *opaque, double t,
            const struct policy_sample *s, const struct policy_report *r)
{
    output_progress(opaque, engine_name(e), t, s, r);
}

static void
sink_action(struct engine *e, void *opaque, double t,
            const struct policy_action *a, bool advice)
{
    if (advice) {
        output_advice(opaque, engine_name(e), t, a);
    } else {
        output_action(opaque, engine_name(e), t, a);
    }
}

static void
sink_preflight(struct engine *e, void *opaque, double t,
               const struct policy_preflight_report *r)
{
    output_json(opaque, engine_name(e), "preflight", t, preflight_json(r));
}

static void
sink_note(struct engine *e, void *opaque, int level, const char *text)
{
    (void)e;
    output_note(opaque, level, "%s", text);
}

static void
sink_error(struct engine *e, void *opaque, const char *text)
{
    (void)e;
    output_error(opaque, "%s", text);
}

static void
sink_end(struct engine *e, void *opaque, const struct engine_result *res)
{
    struct qm_output *out = opaque;
    const char *vm = engine_name(e);

    output_json(out, vm, "end", res->total_time_s, end_json(res));
    output_line_end(out);
    if (res->code == QM_EXIT_COMPLETED) {
        output_note(out, 0, "%s%s%s", vm ? vm : "", vm ? ": " : "",
                    res->reason);
    } else {
        output_error(out, "%s%s%s", vm ? vm : "", vm ? ": " : "", res->reason);
    }
}

const struct engine_sink output_sink = {
    .start = sink_start,
    .sample = sink_sample,
    .action = sink_action,
    .preflight = sink_preflight,
    .note = sink_note,
    .error = sink_error,
    .end = sink_end,
};
