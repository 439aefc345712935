/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/measure: the guest's dirty rate, measured with calc-dirty-rate as
 * the policy asks: before migrate (MEASURE), and again during the
 * migration. */
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/*
 * The policy says which measurement to take next (policy_measure_next()),
 * the engine runs it: calc-dirty-rate, then query-dirty-rate when its
 * period is over and again after 10, 20, 40, 80, then every 160 ms, until
 * QEMU says "measured" (hashing the sampled pages takes QEMU from a
 * millisecond to seconds; a thousand migrations polling every 10 ms cost
 * the controller more than their migrations do).
 * Before migrate each result goes to policy_preflight_feed() and the
 * verdict to policy_preflight_finish(), whose actions are applied like
 * any other (a cancel refuses the migration: nothing was sent); during the
 * migration a result rides in the next sample.  watch never measures: it
 * sends nothing but queries.
 */

#define MEASURE_REPOLL_S 0.01
#define MEASURE_REPOLL_MAX_S 0.16

static void measure_next(struct engine *e);

/* Tells the sinks (a trace) what the policy is told. */
static void
measure_event(struct engine *e, enum engine_measure_kind kind,
              const struct policy_dirty_rate *result, const char *why)
{
    struct engine_measure_event ev = {
        .kind = kind,
        .t = engine_now(e),
        .caps = &e->measure.caps,
        .ram_bytes = e->ram_size,
        .result = result,
        .why = why,
    };

    engine_emit_measure(e, &ev);
}

static bool
measure_ms(const struct engine *e)
{
    return e->measure.req.milliseconds;
}

/* The measurement is over (or failed): before migrate, on to the next. */
static void
measure_done(struct engine *e)
{
    e->measure.running = false;
    if (e->phase == PHASE_MEASURE) {
        measure_next(e);
    }
}

static void
measure_failed(struct engine *e, const char *what, const char *why)
{
    char text[600];

    snprintf(text, sizeof(text), "%s: %s", what, why);
    engine_note(e, 1, "%spreflight: %s", engine_prefix(e), text);
    measure_event(e, ENGINE_MEASURE_FAILED, NULL, text);
    policy_measure_failed(&e->pstate, engine_now(e), text);
    measure_done(e);
}

static void measure_query(struct engine *e);

static void
query_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    struct qemu_dirty_rate r;
    struct policy_dirty_rate m;

    if (err != NULL) {
        measure_failed(e, "query-dirty-rate", err->message);
        return;
    }
    if (qemu_dirty_rate_of(ret, &r) < 0) {
        measure_failed(e, "query-dirty-rate", "the reply has no status");
        return;
    }
    if (!r.measured) {
        /* "unstarted" right after the command, or still "measuring" */
        ev_timer_set(&e->measure.timer, e->measure.repoll_s, 0.0);
        ev_timer_start(e->loop, &e->measure.timer);
        if (e->measure.repoll_s < MEASURE_REPOLL_MAX_S) {
            e->measure.repoll_s *= 2;
        }
        return;
    }
    memset(&m, 0, sizeof(m));
    m.t_start = e->measure.t_start;
    m.t_end = engine_now(e);
    m.calc_time_ms = r.calc_time_ms;
    m.dirty_rate = r.dirty_rate_mib;
    m.sample_pages = r.sample_pages;
    m.mode = e->measure.req.mode;
    engine_note(e, 2, "%sdirty rate %lld MiB/s over %llu ms", engine_prefix(e),
                (long long)m.dirty_rate, (unsigned long long)m.calc_time_ms);
    if (e->phase == PHASE_MEASURE) {
        measure_event(e, ENGINE_MEASURE_RESULT, &m, NULL);
        policy_preflight_feed(&e->policy, &e->pstate, &m);
    } else {
        e->measure.result = m; /* for the next sample */
        e->measure.have_result = true;
    }
    measure_done(e);
}

static void
measure_query(struct engine *e)
{
    engine_send(e, e->src, qemu_query_dirty_rate(measure_ms(e)), query_reply);
}

static void
measure_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    measure_query(w->data);
}

static void
calc_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    const struct policy_measure_request *req = &e->measure.req;
    double period = (double)req->calc_time / (req->milliseconds ? 1000 : 1);

    (void)ret;
    if (err != NULL) {
        measure_failed(e, "calc-dirty-rate", err->message);
        return;
    }
    e->measure.t_start = engine_now(e);
    e->measure.repoll_s = MEASURE_REPOLL_S;
    ev_set_cb(&e->measure.timer, measure_timer_cb);
    ev_timer_set(&e->measure.timer, period, 0.0);
    ev_timer_start(e->loop, &e->measure.timer);
}

/* Starts what the policy asks for now: false when it asks for nothing. */
static bool
measure_start(struct engine *e)
{
    struct policy_measure_request *req = &e->measure.req;

    if (e->measure.running ||
        !policy_measure_next(&e->policy, &e->pstate, engine_now(e), req)) {
        return false;
    }
    e->measure.running = true;
    measure_event(e, ENGINE_MEASURE_REQUEST, NULL, NULL);
    engine_send(e, e->src,
                qemu_calc_dirty_rate(
                    req->calc_time, req->milliseconds, req->sample_pages,
                    e->measure.caps.sample_pages
                        ? (req->mode == POLICY_DIRTY_RING ? "dirty-ring"
                                                          : "page-sampling")
                        : NULL),
                calc_reply);
    return true;
}

/* The verdict, reported when it or what it stands on changed. */
static void
measure_report(struct engine *e)
{
    const struct policy_preflight_report *r =
        policy_preflight_report(&e->pstate);

    if (r->verdict == POLICY_VERDICT_NONE ||
        (r->verdict == e->measure.reported_verdict &&
         r->est.n == e->measure.reported_n)) {
        return;
    }
    e->measure.reported_verdict = r->verdict;
    e->measure.reported_n = r->est.n;
    engine_emit_preflight(e, r);
}

/* The verdict before migrate: reported, applied, then on to migrate. */
static void
measure_finish(struct engine *e)
{
    struct policy_output out;

    memset(&out, 0, sizeof(out));
    measure_event(e, ENGINE_MEASURE_FINISH, NULL, NULL);
    policy_preflight_finish(&e->policy, &e->pstate, engine_now(e), &out);
    measure_report(e);
    engine_apply_actions(e, &out, engine_now(e));
    if (e->phase == PHASE_MEASURE) {
        engine_enter(e, e->cfg.disk == ENGINE_DISK_MIRROR ? PHASE_MIRROR
                                                          : PHASE_MIGRATE);
    }
}

static void
measure_next(struct engine *e)
{
    if (!measure_start(e)) {
        measure_finish(e);
    }
}

void
engine_enter_measure(struct engine *e)
{
    qemu_measure_caps(&e->version, &e->measure.caps);
    engine_emit_start(e); /* the start line, then what is measured */
    measure_event(e, ENGINE_MEASURE_BEGIN, NULL, NULL);
    policy_preflight_start(&e->policy, &e->pstate, &e->measure.caps,
                           e->ram_size, engine_now(e));
    measure_next(e);
}

void
engine_measure_abandon(struct engine *e, const char *why)
{
    ev_timer_stop(e->loop, &e->measure.timer);
    if (e->measure.running) {
        e->measure.running = false;
        measure_event(e, ENGINE_MEASURE_FAILED, NULL, why);
        policy_measure_failed(&e->pstate, engine_now(e), why);
    }
}

void
engine_measure_more(struct engine *e)
{
    if (e->cfg.mode == ENGINE_MIGRATE && phase_desc(e->phase)->acts &&
        e->phase != PHASE_MEASURE) {
        measure_report(e);
        (void)measure_start(e);
    }
}

void
sample_measured(struct engine *e, struct policy_sample *s)
{
    if (e->measure.have_result) {
        s->dirty_measured = true;
        s->dirty = e->measure.result;
        e->measure.have_result = false;
    }
}
