/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/replay: run a recorded trace through a policy and set its decisions
 * beside the recorded ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/util.h"

#define TRACE_MAX_BYTES (512u << 20)

/*
 * A trace is the JSON lines --trace wrote: "start" (with the settings),
 * "sample", "action" (or "advice", from watch) and "end".  The policy is
 * pure, so the same samples through the same settings give the same
 * decisions; other settings answer "what would nova have done here?".
 */

struct decision {
    double t;
    bool replayed;
    char action[32];
    long long value; /* -1: none */
    char reason[POLICY_REASON_MAX];
};

struct replay {
    struct decision *d;
    size_t n, cap;
    size_t recorded, replayed;
};

static int
decision_add(struct replay *r, double t, bool replayed, const char *action,
             long long value, const char *reason)
{
    struct decision *d;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;

        d = realloc(r->d, cap * sizeof(*d));
        if (d == NULL) {
            return -1;
        }
        r->d = d;
        r->cap = cap;
    }
    d = &r->d[r->n++];
    d->t = round(t * 1000.0) / 1000.0;
    d->replayed = replayed;
    snprintf(d->action, sizeof(d->action), "%s", action);
    d->value = value;
    snprintf(d->reason, sizeof(d->reason), "%s", reason);
    if (replayed) {
        r->replayed++;
    } else {
        r->recorded++;
    }
    return 0;
}

static void
emit(struct replay *r, struct qm_output *out, double t,
     const struct policy_output *po)
{
    size_t i;

    for (i = 0; i < po->n_actions; i++) {
        const struct policy_action *a = &po->actions[i];

        if (out->json != NULL) {
            output_action(out, NULL, t, a);
        }
        decision_add(r, t, true, policy_action_name(a->kind),
                     policy_action_has_value(a->kind) ? (long long)a->value
                                                      : -1,
                     a->reason);
    }
}

/*
 * What the policy was told of the dirty rate, told again at the same
 * moments: a preflight's start, each measurement it asked for (its state
 * moves as it asks), each result before migrate, a refusal, the verdict
 * (whose actions are decisions like any other).
 */
static int
replay_measure(struct replay *r, struct qm_output *out,
               const struct qm_options *o, struct policy_state *st,
               json_t *line, char *err, size_t errlen)
{
    struct engine_measure_event ev;
    struct policy_measure_caps caps;
    struct policy_measure_request req;
    struct policy_dirty_rate result;
    struct policy_output po;

    if (measure_from_json(line, &ev, &caps, &result, err, errlen) < 0) {
        return -1;
    }
    switch (ev.kind) {
    case ENGINE_MEASURE_BEGIN:
        policy_preflight_start(&o->policy, st, &caps, ev.ram_bytes, ev.t);
        break;
    case ENGINE_MEASURE_REQUEST:
        (void)policy_measure_next(&o->policy, st, ev.t, &req);
        break;
    case ENGINE_MEASURE_RESULT:
        policy_preflight_feed(&o->policy, st, &result);
        break;
    case ENGINE_MEASURE_FAILED:
        policy_measure_failed(st, ev.t, ev.why);
        break;
    case ENGINE_MEASURE_FINISH:
        memset(&po, 0, sizeof(po));
        policy_preflight_finish(&o->policy, st, ev.t, &po);
        emit(r, out, ev.t, &po);
        break;
    }
    return 0;
}

json_t *
trace_load(const char *path, char *err, size_t errlen)
{
    char *text = util_read_file(path, TRACE_MAX_BYTES, err, errlen);
    json_t *lines;
    char *p, *nl;
    int lineno = 0;

    if (text == NULL) {
        return NULL;
    }
    lines = json_array();
    for (p = text; *p != '\0'; p = nl ? nl + 1 : p + strlen(p)) {
        json_error_t jerr;
        json_t *obj;

        nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        lineno++;
        if (*p == '\0') {
            continue;
        }
        obj = json_loads(p, 0, &jerr);
        if (!json_is_object(obj) ||
            !json_is_string(json_object_get(obj, "event"))) {
            snprintf(err, errlen, "%s:%d: not a trace line: %s", path, lineno,
                     obj == NULL ? jerr.text : "no \"event\"");
            json_decref(obj);
            json_decref(lines);
            free(text);
            return NULL;
        }
        json_array_append_new(lines, obj);
    }
    free(text);
    return lines;
}

int
replay_load_settings(struct qm_options *o, const char *path, char *err,
                     size_t errlen)
{
    json_t *lines = trace_load(path, err, errlen);
    json_t *line;
    size_t i;
    int rc = 0;

    if (lines == NULL) {
        return -1;
    }
    json_array_foreach (lines, i, line) {
        const char *event = json_string_value(json_object_get(line, "event"));

        if (strcmp(event, "start") == 0) {
            rc = options_apply_settings(o, json_object_get(line, "settings"),
                                        err, errlen);
            break;
        }
    }
    json_decref(lines);
    return rc;
}

static int
cmp_decision(const void *a, const void *b)
{
    const struct decision *x = a, *y = b;

    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }
    return (int)x->replayed - (int)y->replayed;
}

static void
describe(char *buf, size_t size, const struct decision *d)
{
    if (d == NULL) {
        snprintf(buf, size, "-");
    } else if (d->value >= 0) {
        snprintf(buf, size, "%s %lld", d->action, d->value);
    } else {
        snprintf(buf, size, "%s", d->action);
    }
}

/* The side-by-side table for people; returns the rows that differ. */
static size_t
print_table(struct replay *r, FILE *f)
{
    size_t i = 0, differ = 0;

    qsort(r->d, r->n, sizeof(r->d[0]), cmp_decision);
    fprintf(f, "%9s  %-26s %-26s\n", "t", "recorded", "replayed");
    while (i < r->n) {
        /* one group: the decisions at one instant, recorded ones first */
        size_t start = i, n_rec = 0, n_rep, k;
        double t = r->d[i].t;

        while (i < r->n && r->d[i].t == t) {
            n_rec += !r->d[i].replayed;
            i++;
        }
        n_rep = (i - start) - n_rec;
        for (k = 0; k < n_rec || k < n_rep; k++) {
            const struct decision *rec = k < n_rec ? &r->d[start + k] : NULL;
            const struct decision *rep =
                k < n_rep ? &r->d[start + n_rec + k] : NULL;
            char a[64], b[64];
            bool same;

            describe(a, sizeof(a), rec);
            describe(b, sizeof(b), rep);
            same = rec != NULL && rep != NULL && strcmp(a, b) == 0;
            differ += !same;
            fprintf(f, "%9.3f  %-26s %-26s%s\n", t, a, b, same ? "" : "  <>");
            if (rep != NULL) {
                fprintf(f, "%9s  why: %s\n", "", rep->reason);
            }
        }
    }
    return differ;
}

int
cmd_replay(struct qm_options *o)
{
    struct qm_output out;
    struct replay r;
    struct policy_state st;
    struct policy_output po;
    json_t *lines, *line;
    char err[1024];
    size_t i, samples = 0;
    int code = 0;

    output_init(&out, o);
    memset(&r, 0, sizeof(r));
    lines = trace_load(o->input, err, sizeof(err));
    if (lines == NULL) {
        fprintf(stderr, "qmigrate: error: replay: %s\n", err);
        return QM_EXIT_USAGE;
    }
    policy_state_init(&st, &o->policy);
    json_array_foreach (lines, i, line) {
        const char *event = json_string_value(json_object_get(line, "event"));
        double t = json_number_value(json_object_get(line, "t"));
        struct policy_sample s;

        if (strcmp(event, "start") == 0) {
            memset(&po, 0, sizeof(po));
            policy_initial_actions(&o->policy, &st, &po);
            emit(&r, &out, t, &po);
        } else if (strcmp(event, "sample") == 0) {
            if (sample_from_json(line, &s, err, sizeof(err)) < 0) {
                fprintf(stderr, "qmigrate: error: replay: %s line %zu: %s\n",
                        o->input, i + 1, err);
                code = QM_EXIT_USAGE;
                break;
            }
            samples++;
            memset(&po, 0, sizeof(po));
            policy_step(&o->policy, &st, &s, &po);
            emit(&r, &out, s.t, &po);
        } else if (strcmp(event, "measure") == 0) {
            if (replay_measure(&r, &out, o, &st, line, err, sizeof(err)) < 0) {
                fprintf(stderr, "qmigrate: error: replay: %s line %zu: %s\n",
                        o->input, i + 1, err);
                code = QM_EXIT_USAGE;
                break;
            }
        } else if (strcmp(event, "action") == 0 ||
                   strcmp(event, "advice") == 0) {
            json_t *value = json_object_get(line, "value");

            decision_add(
                &r, t, false,
                json_string_value(json_object_get(line, "action")) ?: "?",
                json_is_integer(value) ? (long long)json_integer_value(value)
                                       : -1,
                json_string_value(json_object_get(line, "reason")) ?: "");
        }
    }
    if (code == 0 && out.human != NULL) {
        size_t differ;

        fprintf(out.human, "replayed %zu samples of %s through policy %s\n",
                samples, o->input, policy_kind_name(o->policy.kind));
        differ = print_table(&r, out.human);
        fprintf(out.human, "%zu recorded actions, %zu replayed; %s\n",
                r.recorded, r.replayed,
                differ == 0 ? "the decisions agree"
                            : "the decisions differ (rows marked <>)");
    }
    free(r.d);
    json_decref(lines);
    return code;
}
