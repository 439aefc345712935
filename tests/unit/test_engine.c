/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for migrate/: the engine driven against in-process QMP monitors
 * (tests/unit/lib/peer): its sequence, its sinks, and the one lever path in
 * the disk-mirror phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "migrate/internal.h"
#include "tests/unit/lib/peer.h"

/* --- a QEMU, as far as these tests need one --------------------------------
 */

struct qemu {
    bool dest;          /* waiting for an incoming migration */
    bool migrating;     /* migrate was accepted */
    int polls;          /* query-migrate since migrate */
    int complete_after; /* polls before completed; 0: never */
    bool refuse_downtime_700;
    int job_polls;      /* query-block-jobs answered */
    bool job_cancelled; /* block-job-cancel force was sent */
};

static json_t *
answer(struct peer *p, const char *command, json_t *args, const char **error)
{
    struct qemu *q = p->opaque;
    json_t *v;

    if (strcmp(command, "query-status") == 0) {
        return json_pack("{s:s, s:b}", "status",
                         q->dest ? "inmigrate"
                         : q->migrating && q->polls > q->complete_after &&
                                 q->complete_after > 0
                             ? "postmigrate"
                             : "running",
                         "running", !q->dest);
    }
    if (strcmp(command, "query-memory-size-summary") == 0) {
        return json_pack("{s:I}", "base-memory", (json_int_t)1 << 30);
    }
    if (strcmp(command, "query-migrate") == 0) {
        if (q->dest) {
            return json_pack("{s:s}", "status", "setup");
        }
        if (!q->migrating) {
            return json_object();
        }
        q->polls++;
        if (q->complete_after > 0 && q->polls > q->complete_after) {
            return json_pack("{s:s, s:I, s:I, s:{s:I, s:I, s:I}}", "status",
                             "completed", "downtime", (json_int_t)42,
                             "total-time", (json_int_t)900, "ram", "total",
                             (json_int_t)1 << 30, "remaining", (json_int_t)0,
                             "transferred", (json_int_t)1 << 30);
        }
        return json_pack("{s:s, s:{s:I, s:I, s:I, s:I}}", "status", "active",
                         "ram", "total", (json_int_t)1 << 30, "remaining",
                         (json_int_t)(1 << 29), "transferred",
                         (json_int_t)(1 << 29), "dirty-sync-count",
                         (json_int_t)1);
    }
    if (strcmp(command, "migrate") == 0) {
        q->migrating = true;
        return NULL;
    }
    if (strcmp(command, "migrate-set-parameters") == 0) {
        v = json_object_get(args, "downtime-limit");
        if (q->refuse_downtime_700 && json_integer_value(v) == 700) {
            *error = "Parameter 'downtime-limit' refused by the test";
        }
        return NULL;
    }
    if (strcmp(command, "query-block") == 0) {
        return json_pack("[{s:s, s:{s:s, s:b, s:{s:I}}}]", "device", "disk0",
                         "inserted", "node-name", "node0", "ro", 0, "image",
                         "virtual-size", (json_int_t)1 << 20);
    }
    if (strcmp(command, "query-block-jobs") == 0) {
        q->job_polls++;
        if (q->job_cancelled) {
            return json_pack("[{s:s, s:s, s:I, s:I, s:b, s:s}]", "device",
                             "qmigrate-disk0", "status", "concluded", "len",
                             (json_int_t)1 << 20, "offset", (json_int_t)1 << 19,
                             "ready", 0, "io-status", "ok");
        }
        return json_pack("[{s:s, s:s, s:I, s:I, s:b, s:s}]", "device",
                         "qmigrate-disk0", "status", "running", "len",
                         (json_int_t)1 << 20, "offset", (json_int_t)1 << 19,
                         "ready", 0, "io-status", "ok");
    }
    if (strcmp(command, "block-job-cancel") == 0) {
        q->job_cancelled = json_is_true(json_object_get(args, "force"));
        return NULL;
    }
    return NULL; /* everything else: {} */
}

/* --- a sink that keeps what it is told --------------------------------------
 */

struct record {
    struct ev_loop *loop;
    struct engine *e;
    int starts, samples, actions, ends;
    struct engine_result res;
    struct policy_sample last;
    int mirror_samples;
    uint64_t limit_after_refusal; /* a sample's limit after the refusal */
    bool pulled;                  /* the crafted actions went in */
};

static void
rec_start(struct engine *e, void *opaque, double t,
          const struct engine_start *st)
{
    struct record *r = opaque;

    (void)e;
    (void)t;
    (void)st;
    r->starts++;
}

static void
rec_action(struct engine *e, void *opaque, double t,
           const struct policy_action *a, bool advice)
{
    struct record *r = opaque;

    (void)e;
    (void)t;
    (void)a;
    (void)advice;
    r->actions++;
}

static void
rec_end(struct engine *e, void *opaque, const struct engine_result *res)
{
    struct record *r = opaque;

    (void)e;
    r->ends++;
    r->res = *res;
}

static void
rec_sample(struct engine *e, void *opaque, double t,
           const struct policy_sample *s, const struct policy_report *rep)
{
    struct record *r = opaque;

    (void)e;
    (void)t;
    (void)rep;
    r->samples++;
    r->last = *s;
}

static void
done(struct engine *e, const struct engine_result *res, void *opaque)
{
    struct record *r = opaque;

    (void)e;
    (void)res;
    ev_break(r->loop, EVBREAK_ALL);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void
run_until_done(struct record *r, double seconds)
{
    ev_timer deadline;

    ev_timer_init(&deadline, deadline_cb, seconds, 0);
    ev_timer_start(r->loop, &deadline);
    ev_run(r->loop, 0);
    ev_timer_stop(r->loop, &deadline);
}

static void
config_for(struct engine_config *cfg, const char *source, const char *dest)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = ENGINE_MIGRATE;
    cfg->source = source;
    cfg->dest = dest;
    cfg->uri = "unix:/nonexistent/mig.sock";
    policy_config_init(&cfg->policy);
    assert_int_equal(policy_config_validate(&cfg->policy, NULL, 0), 0);
    cfg->interval_ms = 20;
    cfg->greeting_timeout_s = 3;
    cfg->command_timeout_s = 5;
    cfg->cancel_timeout_s = 5;
}

/* --- the sequence of a plain migration --------------------------------------
 */

static void
test_idle_sequence(void **unused)
{
    static const struct engine_sink sink = {.start = rec_start,
                                            .sample = rec_sample,
                                            .action = rec_action,
                                            .end = rec_end};
    char dir[] = "/tmp/qmigrate-engine.XXXXXX";
    struct qemu src_q = {.complete_after = 3};
    struct record r;
    struct engine_config cfg;
    struct peer src;
    char err[256];
    int i_caps, i_params, i_migrate, i_status, i_query;

    (void)unused;
    memset(&r, 0, sizeof(r));
    r.loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(peer_start(&src, r.loop, dir, "src", answer, &src_q), 0);
    config_for(&cfg, src.path, NULL);
    r.e = engine_new(r.loop, &cfg, done, &r, err, sizeof(err));
    assert_non_null(r.e);
    assert_int_equal(engine_add_sink(r.e, &sink, &r), 0);
    engine_start(r.e);
    run_until_done(&r, 10);

    assert_int_equal(r.ends, 1);
    assert_int_equal(r.res.code, QM_EXIT_COMPLETED);
    assert_string_equal(r.res.result, "completed");
    assert_int_equal(r.res.downtime_ms, 42);
    assert_non_null(strstr(r.res.reason, "downtime 42 ms"));
    assert_int_equal(r.starts, 1);
    assert_true(r.samples >= 3);
    /* the initial set-bandwidth and set-downtime of adaptive, as actions */
    assert_int_equal(r.actions, 2);
    /* docs/engine.md's order: questions, capabilities, parameters, migrate,
     * polls, then the source's run state checked */
    i_query = peer_find(&src, "query-status", 0);
    i_caps = peer_find(&src, "migrate-set-capabilities", 0);
    i_params = peer_find(&src, "migrate-set-parameters", 0);
    i_migrate = peer_find(&src, "migrate {", 0);
    assert_true(i_query >= 0 && i_caps > i_query);
    assert_true(i_params > i_caps && i_migrate > i_params);
    assert_true(peer_find(&src, "query-migrate", (size_t)i_migrate) >
                i_migrate);
    i_status = peer_find(&src, "query-status", (size_t)i_migrate);
    assert_true(i_status > i_migrate);
    assert_int_equal(peer_count(&src, "migrate_cancel"), 0);
    assert_int_equal(peer_count(&src, "cont"), 0);
    assert_non_null(strstr(src.log[i_caps], "\"events\""));
    assert_non_null(strstr(src.log[i_params], "\"downtime-limit\":300"));

    engine_free(r.e);
    peer_stop(&src);
    rmdir(dir);
    ev_loop_destroy(r.loop);
}

/* --- the mirror phase: one lever path ----------------------------------------
 */

static struct qemu mirror_src_q, mirror_dst_q;

/* At the first sample of the mirror phase, as a policy would. */
static void
pull_levers(struct engine *e, void *opaque, double t,
            const struct policy_sample *s, const struct policy_report *rep)
{
    struct record *r = opaque;
    struct policy_output out;

    rec_sample(e, opaque, t, s, rep);
    if (e->phase != PHASE_MIRROR) {
        return;
    }
    r->mirror_samples++;
    if (r->mirror_samples == 1) {
        memset(&out, 0, sizeof(out));
        out.n_actions = 3;
        out.actions[0].kind = POLICY_ACTION_SET_BANDWIDTH;
        out.actions[0].value = 50 << 20;
        out.actions[1].kind = POLICY_ACTION_AUTO_CONVERGE;
        out.actions[2].kind = POLICY_ACTION_SET_DOWNTIME;
        out.actions[2].value = 700;
        engine_apply_actions(e, &out, t);
        r->pulled = true;
    } else if (r->mirror_samples == 3) {
        r->limit_after_refusal = s->downtime_limit_ms;
        memset(&out, 0, sizeof(out));
        out.n_actions = 1;
        out.actions[0].kind = POLICY_ACTION_CANCEL;
        snprintf(out.actions[0].reason, sizeof(out.actions[0].reason),
                 "the test gives up");
        engine_apply_actions(e, &out, t);
    }
}

static void
test_mirror_phase_levers(void **unused)
{
    static const struct engine_sink sink = {.start = rec_start,
                                            .sample = pull_levers,
                                            .action = rec_action,
                                            .end = rec_end};
    char dir[] = "/tmp/qmigrate-engine.XXXXXX";
    struct record r;
    struct engine_config cfg;
    struct peer src, dst;
    char err[256];

    (void)unused;
    memset(&r, 0, sizeof(r));
    memset(&mirror_src_q, 0, sizeof(mirror_src_q));
    memset(&mirror_dst_q, 0, sizeof(mirror_dst_q));
    mirror_src_q.refuse_downtime_700 = true;
    mirror_dst_q.dest = true;
    r.loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(
        peer_start(&src, r.loop, dir, "src", answer, &mirror_src_q), 0);
    assert_int_equal(
        peer_start(&dst, r.loop, dir, "dst", answer, &mirror_dst_q), 0);
    config_for(&cfg, src.path, dst.path);
    cfg.disk = ENGINE_DISK_MIRROR;
    cfg.policy.auto_converge_permitted = true;
    r.e = engine_new(r.loop, &cfg, done, &r, err, sizeof(err));
    assert_non_null(r.e);
    assert_int_equal(engine_add_sink(r.e, &sink, &r), 0);
    engine_start(r.e);
    run_until_done(&r, 10);

    assert_true(r.pulled);
    /* set-bandwidth reached QEMU's parameter and the running mirror */
    assert_true(peer_find(&src,
                          "migrate-set-parameters {\"max-bandwidth\":"
                          "52428800}",
                          0) >= 0);
    assert_true(peer_find(&src,
                          "block-job-set-speed {\"device\":"
                          "\"qmigrate-disk0\",\"speed\":52428800}",
                          0) >= 0);
    /* auto-converge: QEMU's throttle released */
    assert_true(peer_find(&src,
                          "migrate-set-parameters "
                          "{\"throttle-trigger-threshold\":1}",
                          0) >= 0);
    /* the refused downtime is undone: the samples carry QEMU's again */
    assert_true(peer_find(&src,
                          "migrate-set-parameters "
                          "{\"downtime-limit\":700}",
                          0) >= 0);
    assert_int_equal(r.limit_after_refusal, 300);
    /* the cancel undid the mirrors and the export; RAM never started */
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.res.code, QM_EXIT_ABORTED);
    assert_non_null(strstr(r.res.reason, "the test gives up"));
    assert_non_null(strstr(r.res.reason, "disk mirrors were cancelled"));
    assert_true(peer_find(&src,
                          "block-job-cancel {\"device\":"
                          "\"qmigrate-disk0\",\"force\":true}",
                          0) >= 0);
    assert_int_equal(peer_count(&dst, "nbd-server-stop"), 1);
    assert_int_equal(peer_count(&src, "migrate"), 0);

    engine_free(r.e);
    peer_stop(&src);
    peer_stop(&dst);
    rmdir(dir);
    ev_loop_destroy(r.loop);
}

/* --- post-copy recovery: the sequence against two monitors -----------------
 */

/* A post-copy whose stream breaks once, shared by both monitors. */
struct world {
    struct peer *src, *dst;
    bool migrating, postcopy, paused, recovering, resumed;
    bool stall;       /* post-copy moves no bytes until migrate-pause */
    bool break_after; /* else: the stream breaks by itself */
    int polls;        /* source query-migrate in post-copy */
    int recover_polls;
    uint64_t sent;
};

static json_t *
pc_stats(struct world *w, const char *status)
{
    return json_pack("{s:s, s:{s:I, s:I, s:I, s:I}}", "status", status, "ram",
                     "total", (json_int_t)1 << 30, "remaining",
                     (json_int_t)(1 << 28), "transferred", (json_int_t)w->sent,
                     "dirty-sync-count", (json_int_t)5);
}

static json_t *
pc_source(struct world *w, const char *command, json_t *args)
{
    if (strcmp(command, "migrate") == 0) {
        if (json_is_true(json_object_get(args, "resume"))) {
            w->resumed = true;
            w->paused = false;
            w->recovering = true;
            return NULL;
        }
        w->migrating = w->postcopy = true; /* straight to post-copy */
        return NULL;
    }
    if (strcmp(command, "migrate-pause") == 0) {
        w->paused = true;
        return NULL;
    }
    if (strcmp(command, "query-migrate") != 0 || !w->migrating) {
        return strcmp(command, "query-migrate") == 0 ? json_object() : NULL;
    }
    if (w->paused) {
        return pc_stats(w, "postcopy-paused");
    }
    if (w->recovering && ++w->recover_polls < 2) {
        return pc_stats(w, "postcopy-recover");
    }
    w->polls++;
    if (!w->stall || w->resumed) {
        w->sent += 1 << 20;
    }
    if (w->break_after && w->polls == 3 && !w->resumed) {
        w->paused = true;
        return pc_stats(w, "postcopy-paused");
    }
    if (w->resumed && w->polls > 8) {
        return json_pack("{s:s, s:I, s:{s:I, s:I, s:I}}", "status", "completed",
                         "downtime", (json_int_t)7, "ram", "total",
                         (json_int_t)1 << 30, "remaining", (json_int_t)0,
                         "transferred", (json_int_t)w->sent);
    }
    return pc_stats(w, "postcopy-active");
}

static json_t *
answer_pc(struct peer *p, const char *command, json_t *args, const char **error)
{
    struct world *w = p->opaque;

    if (strcmp(command, "query-status") == 0) {
        return json_pack("{s:s}", "status",
                         p == w->dst
                             ? (w->postcopy ? "running" : "inmigrate")
                             : (w->postcopy ? "finish-migrate" : "running"));
    }
    if (p == w->src) {
        return pc_source(w, command, args);
    }
    if (strcmp(command, "query-migrate") == 0) {
        return json_pack("{s:s}", "status",
                         !w->postcopy ? "setup"
                         : w->paused  ? "postcopy-paused"
                                      : "postcopy-active");
    }
    if (strcmp(command, "migrate-recover") == 0 && !w->paused) {
        *error = "Migrate recover can only be run when postcopy is paused.";
    }
    return NULL;
}

static void
run_recovery(struct world *w, struct engine_config *cfg, struct record *r,
             struct peer *src, struct peer *dst)
{
    static const struct engine_sink sink = {.start = rec_start,
                                            .sample = rec_sample,
                                            .action = rec_action,
                                            .end = rec_end};
    char dir[] = "/tmp/qmigrate-engine.XXXXXX";
    char err[256];

    memset(r, 0, sizeof(*r));
    r->loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(mkdtemp(dir));
    w->src = src;
    w->dst = dst;
    assert_int_equal(peer_start(src, r->loop, dir, "src", answer_pc, w), 0);
    assert_int_equal(peer_start(dst, r->loop, dir, "dst", answer_pc, w), 0);
    cfg->source = src->path;
    cfg->dest = dst->path;
    cfg->policy.postcopy_permitted = true;
    cfg->recover_timeout_s = 10;
    r->e = engine_new(r->loop, cfg, done, r, err, sizeof(err));
    assert_non_null(r->e);
    assert_int_equal(engine_add_sink(r->e, &sink, r), 0);
    engine_start(r->e);
    run_until_done(r, 20);
    engine_free(r->e);
    rmdir(dir);
}

static void
end_recovery(struct record *r, struct peer *src, struct peer *dst)
{
    peer_stop(src);
    peer_stop(dst);
    ev_loop_destroy(r->loop);
}

/* The stream breaks: migrate-recover on the destination, then resume. */
static void
test_recover_after_break(void **unused)
{
    struct world w = {.break_after = true};
    struct engine_config cfg;
    struct record r;
    struct peer src, dst;
    int i_recover, i_resume;

    (void)unused;
    config_for(&cfg, NULL, NULL);
    cfg.recover_uri = "unix:/nonexistent/recover.sock";
    run_recovery(&w, &cfg, &r, &src, &dst);
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.res.code, QM_EXIT_COMPLETED);
    i_recover = peer_find(&dst,
                          "migrate-recover {\"uri\":"
                          "\"unix:/nonexistent/recover.sock\"}",
                          0);
    assert_true(i_recover >= 0);
    i_resume = peer_find(&src,
                         "migrate {\"resume\":true,\"uri\":"
                         "\"unix:/nonexistent/recover.sock\"}",
                         0);
    assert_true(i_resume > 0);
    /* the source was never told to pause, nor cancelled */
    assert_int_equal(peer_count(&src, "migrate-pause"), 0);
    assert_int_equal(peer_count(&src, "migrate_cancel"), 0);
    assert_int_equal(peer_count(&src, "cont"), 0);
    /* the capabilities asked for post-copy, its preempt channel not (the
     * destination listens already), and recovery is no capability */
    assert_true(peer_find(&src, "migrate-set-capabilities", 0) >= 0);
    assert_null(strstr(src.log[peer_find(&src, "migrate-set-capabilities", 0)],
                       "preempt"));
    end_recovery(&r, &src, &dst);
}

/* A post-copy that moves nothing for the progress timeout is broken. */
static void
test_stall_breaks_stream(void **unused)
{
    struct world w = {.stall = true};
    struct engine_config cfg;
    struct record r;
    struct peer src, dst;
    int i_pause, i_recover;

    (void)unused;
    config_for(&cfg, NULL, NULL);
    cfg.policy.progress_timeout_s = 0.3;
    run_recovery(&w, &cfg, &r, &src, &dst);
    assert_int_equal(r.res.code, QM_EXIT_COMPLETED);
    i_pause = peer_find(&src, "migrate-pause", 0);
    assert_true(i_pause >= 0);
    i_recover = peer_find(&dst,
                          "migrate-recover {\"uri\":"
                          "\"unix:/nonexistent/mig.sock\"}",
                          0);
    assert_true(i_recover >= 0);
    assert_int_equal(peer_count(&src, "migrate_cancel"), 0);
    /* pause, recover, resume: three actions beside adaptive's two */
    assert_int_equal(r.actions, 5);
    end_recovery(&r, &src, &dst);
}

/* Without --dest: exit 1, the steps to recover by hand. */
static void
test_recover_impossible(void **unused)
{
    struct world w = {.break_after = true};
    struct engine_config cfg;
    struct record r;
    struct peer src;

    (void)unused;
    memset(&r, 0, sizeof(r));
    r.loop = ev_loop_new(EVFLAG_AUTO);
    {
        static const struct engine_sink sink = {.end = rec_end};
        char dir[] = "/tmp/qmigrate-engine.XXXXXX";
        char err[256];

        assert_non_null(mkdtemp(dir));
        w.src = &src;
        w.dst = NULL;
        assert_int_equal(peer_start(&src, r.loop, dir, "src", answer_pc, &w),
                         0);
        config_for(&cfg, src.path, NULL);
        cfg.policy.postcopy_permitted = true;
        cfg.recover_timeout_s = 10;
        r.e = engine_new(r.loop, &cfg, done, &r, err, sizeof(err));
        assert_non_null(r.e);
        assert_int_equal(engine_add_sink(r.e, &sink, &r), 0);
        engine_start(r.e);
        run_until_done(&r, 20);
        engine_free(r.e);
        rmdir(dir);
    }
    assert_int_equal(r.res.code, QM_EXIT_FAILED);
    assert_non_null(strstr(r.res.reason, "without --dest"));
    assert_non_null(strstr(r.res.reason, "The guest is split"));
    assert_non_null(strstr(r.res.reason, "\"execute\": \"migrate-recover\""));
    assert_non_null(strstr(r.res.reason, "\"resume\": true"));
    assert_int_equal(peer_count(&src, "migrate_cancel"), 0);
    peer_stop(&src);
    ev_loop_destroy(r.loop);
}

/* --- negotiation: what QEMU does not offer is refused -----------------------
 */

static json_t *
answer_no_multifd(struct peer *p, const char *command, json_t *args,
                  const char **error)
{
    if (strcmp(command, "query-migrate-capabilities") == 0) {
        return json_pack("[{s:s, s:b}, {s:s, s:b}]", "capability", "events",
                         "state", 0, "capability", "postcopy-ram", "state", 0);
    }
    return answer(p, command, args, error);
}

static void
test_not_offered_refused(void **unused)
{
    static const struct engine_sink sink = {.end = rec_end};
    char dir[] = "/tmp/qmigrate-engine.XXXXXX";
    struct qemu q = {0};
    struct engine_config cfg;
    struct record r;
    struct peer src;
    char err[256];

    (void)unused;
    memset(&r, 0, sizeof(r));
    r.loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(
        peer_start(&src, r.loop, dir, "src", answer_no_multifd, &q), 0);
    config_for(&cfg, src.path, NULL);
    cfg.parallel = 2;
    r.e = engine_new(r.loop, &cfg, done, &r, err, sizeof(err));
    assert_non_null(r.e);
    assert_int_equal(engine_add_sink(r.e, &sink, &r), 0);
    engine_start(r.e);
    run_until_done(&r, 10);
    assert_int_equal(r.res.code, QM_EXIT_USAGE);
    assert_non_null(strstr(r.res.reason,
                           "--parallel: the source (QEMU 7.2) does not offer "
                           "the 'multifd' capability"));
    assert_int_equal(peer_count(&src, "migrate-set-capabilities"), 0);
    assert_int_equal(peer_count(&src, "migrate"), 0);
    engine_free(r.e);
    peer_stop(&src);
    rmdir(dir);
    ev_loop_destroy(r.loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_sequence),
        cmocka_unit_test(test_mirror_phase_levers),
        cmocka_unit_test(test_recover_after_break),
        cmocka_unit_test(test_stall_breaks_stream),
        cmocka_unit_test(test_recover_impossible),
        cmocka_unit_test(test_not_offered_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
