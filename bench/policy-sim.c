/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/policy-sim: every policy over a scenario matrix, in-process model. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "migrate/levers.h"
#include "migrate/qemu.h"
#include "policy/policy.h"
#include "tests/fake-qemu/model.h"

/*
 * policy-sim [-o DIR] [--quick] [--cap-pray S] [--cap S] [--trace ID] [-v]
 *
 * Runs each policy over each scenario on the fake-qemu pre-copy model,
 * with no sockets: the model is stepped here, sampled as the job samples
 * QEMU (every 0.5 s of model time and at once on a MIGRATION or
 * MIGRATION_PASS event), and the policy's actions are applied to the
 * model through the engine's own levers (migrate/levers.h), as the engine
 * applies them to QEMU.  The model is deterministic, so
 * one run per scenario and policy says all there is to say.
 *
 * Writes DIR/policy-sim.csv (one row per run), DIR/policy-sim.md (the
 * tables for docs/benchmarks.md) and DIR/sim-*.dat (for gnuplot).
 */

#define MIB 1048576.0
#define GIB 1073741824.0
#define GBIT 125e6

#define POLL_S 0.5     /* the job's --interval default */
#define REACT_S 0.001  /* finest step: how soon a sample follows an event */
#define STEP_MAX_S 0.1 /* coarsest step */
#define ALLOWED_MS 500 /* the operator's downtime limit, for everyone */
#define QEMU_DOWNTIME_MS QEMU_DEFAULT_DOWNTIME_LIMIT_MS
#define QEMU_BANDWIDTH 134217728ull /* QEMU's max-bandwidth default */
#define ORACLE_GRID_MS 10
#define PROBE_MAX_PASSES 3000
#define MAX_SCENARIOS 1024
#define DISK_BYTES (8ull << 30)
#define DISK_DIRTY (2.0 * MIB)
#define DISK_WS (128ull << 20)
#define DIRTY_POLL_S 0.01 /* query-dirty-rate while a measurement runs */

enum sim_policy {
    SIM_PRAY = 0,  /* QEMU's defaults: 300 ms, 128 MiB/s, nothing else */
    SIM_PRAY_LINK, /* qmigrate --policy pray --bandwidth LINK */
    SIM_NOVA,
    SIM_VDSM,
    SIM_PROXMOX,
    SIM_KUBEVIRT,
    SIM_ADAPTIVE_PASS, /* adaptive --preflight off: pass by pass only */
    SIM_ADAPTIVE,
    /* adaptive with each lever permitted, and with escalation */
    SIM_ADAPTIVE_AC,  /* --auto-converge */
    SIM_ADAPTIVE_DL,  /* --dirty-limit */
    SIM_ADAPTIVE_PC,  /* --postcopy */
    SIM_ADAPTIVE_ESC, /* --dirty-limit --postcopy */
    SIM_ORACLE,
    SIM_N
};

static const char *const sim_names[SIM_N] = {
    "pray",        "pray-link",      "nova",     "vdsm",        "proxmox",
    "kubevirt",    "adaptive-pass",  "adaptive", "adaptive+ac", "adaptive+dl",
    "adaptive+pc", "adaptive+dl+pc", "oracle",
};

enum sim_result {
    RES_COMPLETED = 0,
    RES_ABORTED, /* the policy cancelled (or, oracle, never started) */
    RES_CAPPED,  /* still running at the model-time cap */
    RES_FAILED,  /* the model said failed (should not happen) */
};

static const char *const result_names[] = {
    "completed",
    "aborted",
    "capped",
    "failed",
};

/* What the physics allow, from the oracle's search. */
enum sim_class {
    CLASS_EASY = 0, /* completes at QEMU's 300 ms with the link's bandwidth */
    CLASS_FIXABLE,  /* needs 310..500 ms */
    CLASS_HOPELESS, /* nothing up to 500 ms completes */
    CLASS_N
};

static const char *const class_names[CLASS_N] = {
    "easy",
    "fixable",
    "hopeless",
};

/* A guest that changes after the preflight. */
enum sim_change {
    CHANGE_NONE = 0,
    CHANGE_GROW,  /* from t_change on: ws2 at dirty2, for good */
    CHANGE_BURST, /* from t_change, every period: burst_s of ws2 at dirty2 */
};

static const char *const change_names[] = {"steady", "grows", "bursts"};

struct scenario {
    int id;
    double ram_gib;
    double ws_mib;     /* working set */
    double dirty_mibs; /* distinct MiB/s the guest dirties */
    double link_gbit;
    bool disk;
    enum sim_change change;
    double t_change_s;  /* job time (from the preflight's start) */
    double ws2_mib;     /* the working set it changes to */
    double dirty2_mibs; /* and its rate */
    double burst_s;     /* CHANGE_BURST: how long each burst lasts */
    double period_s;    /* and how often one starts */
    enum sim_class cls;
    uint64_t oracle_ms; /* the least limit that completes; 0: none */
    bool nonmonotonic;  /* a higher limit fails where a lower completes */
    double fast_s;      /* total time with the most allowed, 500 ms, at t=0 */
};

struct outcome {
    enum sim_result result;
    double time_s;      /* to completed, cancelled, or the cap */
    double downtime_ms; /* QEMU's measured downtime; -1 when none */
    double bytes;       /* RAM + disk transferred */
    uint64_t passes;    /* dirty-sync-count at the end */
    double giveup_s;    /* when the policy cancelled; -1 when it did not */
    uint64_t giveup_pass;
    uint64_t max_limit_ms; /* the highest downtime limit in force */
    unsigned n_actions;
    unsigned n_samples;
    double preflight_s;  /* measuring before migrate */
    unsigned n_measured; /* calc-dirty-rate results, before and during */
    double giveup_bytes; /* RAM + disk sent before the cancel */
    bool refused;        /* cancelled before migrate */
    char reason[POLICY_REASON_MAX]; /* the last action's reason */
    struct fq_guest_cost cost;      /* what the levers cost the guest */
    bool postcopy;                  /* it switched to post-copy */
    bool dirty_limited;             /* a dirty-limit was set */
};

/* --trace ID: every sample and action of scenario ID, to stderr. */
static int trace_id = -1;

/* --qemu 7.2: calc-time in whole seconds (no calc-time-unit). */
static bool qemu_ms = true;

struct options {
    const char *dir;
    bool quick;
    double cap_pray_s;
    double cap_s;
    int verbose;
};

/* --- scenarios ---------------------------------------------------------- */

/*
 * Guests that change after the preflight (which ends by 4.5 s): calm at
 * first (128 MiB rewritten at 64 MiB/s), then a working set of up to
 * 4 GiB (half the RAM at most) rewritten at 4 GiB/s, or 1 GiB at
 * 512 MiB/s; for good from 6 s, or in bursts of 5 s every 30 s.
 */
static size_t
build_changing(struct scenario *sc, size_t max, size_t first, bool quick)
{
    static const double rams_full[] = {4, 16, 64};
    static const double rams_quick[] = {16};
    static const double links_full[] = {1, 10, 25};
    static const double links_quick[] = {1, 25};
    static const struct {
        enum sim_change change;
        double ws2, dirty2;
    } kinds[] = {
        {CHANGE_GROW, 4096, 4096},
        {CHANGE_GROW, 1024, 512},
        {CHANGE_BURST, 4096, 4096},
    };
    const double *rams = quick ? rams_quick : rams_full;
    const double *links = quick ? links_quick : links_full;
    size_t n_rams = quick ? 1 : 3, n_links = quick ? 2 : 3;
    size_t n = 0, r, l, k;

    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (l = 0; l < n_links; l++) {
            for (r = 0; r < n_rams && n < max; r++) {
                struct scenario *s = &sc[n];

                memset(s, 0, sizeof(*s));
                s->id = (int)(first + n);
                s->ram_gib = rams[r];
                s->ws_mib = 128;
                s->dirty_mibs = 64;
                s->link_gbit = links[l];
                s->change = kinds[k].change;
                s->t_change_s = 6;
                s->ws2_mib = fmin(kinds[k].ws2, rams[r] * 1024 / 2);
                s->dirty2_mibs = kinds[k].dirty2;
                s->burst_s = 5;
                s->period_s = 30;
                n++;
            }
        }
    }
    return n;
}

static size_t
build_scenarios(struct scenario *sc, size_t max, bool quick, size_t *n_steady)
{
    static const double rams_full[] = {1, 4, 16, 64};
    static const double rams_quick[] = {1, 16};
    static const double ws_list[] = {48, 128, 512, 1024, 4096, 16384};
    static const double dirty_list[] = {64, 512, 4096};
    static const double links_full[] = {1, 10, 25};
    static const double links_quick[] = {1, 25};
    const double *rams = quick ? rams_quick : rams_full;
    const double *links = quick ? links_quick : links_full;
    size_t n_rams = quick ? 2 : 4, n_links = quick ? 2 : 3;
    size_t n = 0, r, w, d, l;
    int disk;

    for (disk = 0; disk <= 1; disk++) {
        for (l = 0; l < n_links; l++) {
            for (r = 0; r < n_rams; r++) {
                /* w == 0 is the idle guest: no working set at all */
                for (w = 0; w <= sizeof(ws_list) / sizeof(ws_list[0]); w++) {
                    double ws = w == 0 ? 0 : ws_list[w - 1];
                    size_t nd = w == 0 ? 1 : 3;

                    if (ws * MIB > rams[r] * GIB / 2) {
                        continue; /* half of RAM is zero pages */
                    }
                    for (d = 0; d < nd && n < max; d++) {
                        struct scenario *s = &sc[n];

                        memset(s, 0, sizeof(*s));
                        s->id = (int)n;
                        s->ram_gib = rams[r];
                        s->ws_mib = ws;
                        s->dirty_mibs = w == 0 ? 0 : dirty_list[d];
                        s->link_gbit = links[l];
                        s->disk = disk != 0;
                        n++;
                    }
                }
            }
        }
    }
    *n_steady = n;
    return n + build_changing(sc + n, max - n, n, quick);
}

static void
scenario_label(const struct scenario *s, char *buf, size_t len)
{
    char ws[96];

    if (s->ws_mib == 0) {
        snprintf(ws, sizeof(ws), "idle");
    } else if (s->ws_mib >= 1024) {
        snprintf(ws, sizeof(ws), "WS %.0f GiB @ %.0f MiB/s", s->ws_mib / 1024,
                 s->dirty_mibs);
    } else {
        snprintf(ws, sizeof(ws), "WS %.0f MiB @ %.0f MiB/s", s->ws_mib,
                 s->dirty_mibs);
    }
    if (s->change != CHANGE_NONE) {
        size_t used = strlen(ws);

        snprintf(ws + used, sizeof(ws) - used, ", %s to %.0f MiB @ %.0f MiB/s",
                 s->change == CHANGE_GROW ? "grows" : "bursts", s->ws2_mib,
                 s->dirty2_mibs);
    }
    snprintf(buf, len, "%.0f GiB, %s, %.0f Gbit/s%s", s->ram_gib, ws,
             s->link_gbit, s->disk ? ", 8 GiB disk" : "");
}

/* The guest's working set (MiB) and rate (MiB/s) at job time t. */
static void
guest_at(const struct scenario *s, double t, double *ws, double *rate)
{
    bool changed = false;

    if (s->change == CHANGE_GROW) {
        changed = t >= s->t_change_s;
    } else if (s->change == CHANGE_BURST && t >= s->t_change_s) {
        changed = fmod(t - s->t_change_s, s->period_s) < s->burst_s;
    }
    *ws = changed ? s->ws2_mib : s->ws_mib;
    *rate = changed ? s->dirty2_mibs : s->dirty_mibs;
}

/* The next job time after t at which the guest changes; INFINITY: never. */
static double
guest_next_change(const struct scenario *s, double t)
{
    double k, into;

    if (s->change == CHANGE_NONE) {
        return INFINITY;
    }
    if (t < s->t_change_s) {
        return s->t_change_s;
    }
    if (s->change == CHANGE_GROW) {
        return INFINITY;
    }
    k = floor((t - s->t_change_s) / s->period_s);
    into = t - s->t_change_s - k * s->period_s;
    return s->t_change_s + k * s->period_s +
           (into < s->burst_s ? s->burst_s : s->period_s);
}

static void
guest_apply(const struct scenario *s, struct fq_model *m, double t)
{
    double ws, rate;

    guest_at(s, t, &ws, &rate);
    fq_model_set_working_set(m, (uint64_t)(ws * MIB));
    fq_model_set_dirty_rate(m, rate * MIB / 4096.0);
}

static int
model_for(const struct scenario *s, struct fq_model **out)
{
    struct fq_model_config mc;
    struct fq_error err;

    fq_model_config_init(&mc);
    mc.ram_bytes = (uint64_t)(s->ram_gib * GIB);
    mc.working_set_bytes = (uint64_t)(s->ws_mib * MIB);
    mc.dirty_rate = s->dirty_mibs * MIB / (double)mc.page_size;
    mc.link_bandwidth = s->link_gbit * GBIT;
    /*
     * Zero pages spread among the data, as in a guest that has run a
     * while.  With the model's other layout (zero pages above the data,
     * zero_pages_last) a limit whose threshold exceeds the zero pages plus
     * the working set syncs before the zero pages are ever scanned, and
     * the model then never reaches them: see docs/benchmarks.md.
     */
    mc.zero_pages_last = false;
    mc.dirty_ring = true; /* KVM with a dirty ring: dirty-limit works */
    if (s->disk) {
        mc.disk_bytes = DISK_BYTES;
        mc.disk_dirty_rate = DISK_DIRTY;
        mc.disk_working_set_bytes = DISK_WS;
    }
    *out = fq_model_new(&mc, &err);
    if (*out == NULL) {
        fprintf(stderr, "policy-sim: scenario %d: %s\n", s->id, err.desc);
        return -1;
    }
    return 0;
}

/* --- the job, in model time ---------------------------------------------- */

static enum migration_status
status_of(enum fq_status st)
{
    if (st == FQ_STATUS_NONE) {
        return MIGRATION_STATUS_NONE;
    }
    return migration_status_from_name(fq_status_name(st));
}

/* sample_from_query_migrate(), from the model's query-migrate. */
static void
sample_from_info(const struct fq_migration_info *in, double t,
                 uint64_t limit_ms, uint64_t bandwidth, bool pass_event,
                 struct policy_sample *s)
{
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->status = status_of(in->status);
    s->expected_downtime_ms =
        in->has_expected_downtime ? in->expected_downtime : -1;
    s->ram_page_size = 4096;
    if (in->has_ram) {
        s->ram_total = in->ram.total;
        s->ram_remaining = in->ram.remaining;
        s->ram_transferred = in->ram.transferred;
        s->ram_dirty_pages_rate = in->ram.dirty_pages_rate;
        s->ram_dirty_sync_count = in->ram.dirty_sync_count;
        s->ram_mbps = in->ram.mbps;
        if (in->ram.page_size != 0) {
            s->ram_page_size = in->ram.page_size;
        }
    }
    if (in->has_disk) {
        s->disk_total = in->disk.total;
        s->disk_remaining = in->disk.remaining;
        s->disk_transferred = in->disk.transferred;
    }
    if (in->has_cpu_throttle_percentage) {
        s->throttle_percent = (int)in->cpu_throttle_percentage;
    }
    s->downtime_limit_ms = limit_ms;
    s->bandwidth_limit = bandwidth;
    s->pass_event = pass_event;
}

struct job {
    struct fq_model *m;
    struct fq_params p;
    struct policy_config cfg;
    struct policy_state st;
    bool has_policy;
    struct levers levers; /* what the job believes is in force */
    struct outcome *o;
    double t;      /* of the action being applied */
    uint64_t sync; /* likewise */
    const struct scenario *sc;
    double next_change; /* job time the guest changes next */
    double bytes;       /* RAM + disk sent so far */
    bool measuring;     /* a calc-dirty-rate runs in the model */
    double meas_start;  /* when it was sent */
    double meas_poll;   /* the job's next query-dirty-rate */
};

/* --- the levers, on the model ----------------------------------------------
 */

static void
sim_downtime(void *opaque, uint64_t ms)
{
    struct job *j = opaque;

    j->p.downtime_limit = ms;
}

static void
sim_bandwidth(void *opaque, uint64_t bytes_per_s)
{
    struct job *j = opaque;

    j->p.max_bandwidth = bytes_per_s;
}

static void
sim_auto_converge(void *opaque)
{
    struct job *j = opaque;

    j->p.throttle_trigger_threshold = 1;
}

static void
sim_postcopy(void *opaque)
{
    struct job *j = opaque;
    struct fq_error err;

    (void)fq_model_start_postcopy(j->m, &err);
}

/* As the engine: the parameter and the trigger, then the limit at once. */
static void
sim_dirty_limit(void *opaque, uint64_t mib_s)
{
    struct job *j = opaque;
    struct fq_error err;

    j->p.vcpu_dirty_limit = mib_s;
    j->p.throttle_trigger_threshold = 1;
    fq_model_set_params(j->m, &j->p);
    (void)fq_model_set_dirty_limit(j->m, mib_s, &err);
    j->o->dirty_limited = true;
}

static void
sim_pause(void *opaque)
{
    struct job *j = opaque;

    fq_model_stop(j->m);
}

static void
sim_cancel(void *opaque, const char *reason)
{
    struct job *j = opaque;

    (void)reason;
    if (j->o->giveup_s < 0) {
        j->o->giveup_s = j->t;
        j->o->giveup_pass = j->sync;
        j->o->giveup_bytes = j->bytes;
    }
    fq_model_cancel(j->m);
}

static const struct levers_ops sim_levers = {
    .set_downtime = sim_downtime,
    .set_bandwidth = sim_bandwidth,
    .auto_converge = sim_auto_converge,
    .start_postcopy = sim_postcopy,
    .pause = sim_pause,
    .cancel = sim_cancel,
    .dirty_limit = sim_dirty_limit,
};

static void
job_apply(struct job *j, const struct policy_action *a, double t, uint64_t sync)
{
    j->o->n_actions++;
    snprintf(j->o->reason, sizeof(j->o->reason), "%s", a->reason);
    j->t = t;
    j->sync = sync;
    levers_apply(&j->levers, &sim_levers, j, a);
    fq_model_set_params(j->m, &j->p);
    if (j->p.downtime_limit > j->o->max_limit_ms) {
        j->o->max_limit_ms = j->p.downtime_limit;
    }
}

static void
policy_for(enum sim_policy kind, const struct scenario *sc,
           struct policy_config *cfg)
{
    char err[256];

    policy_config_init(cfg);
    switch (kind) {
    case SIM_NOVA:
        cfg->kind = POLICY_NOVA;
        break;
    case SIM_VDSM:
        cfg->kind = POLICY_VDSM;
        break;
    case SIM_PROXMOX:
        cfg->kind = POLICY_PROXMOX;
        break;
    case SIM_KUBEVIRT:
        cfg->kind = POLICY_KUBEVIRT;
        break;
    case SIM_ADAPTIVE_PASS:
        cfg->kind = POLICY_ADAPTIVE;
        cfg->preflight = POLICY_PREFLIGHT_OFF;
        break;
    case SIM_ADAPTIVE:
        cfg->kind = POLICY_ADAPTIVE;
        break;
    case SIM_ADAPTIVE_AC:
    case SIM_ADAPTIVE_DL:
    case SIM_ADAPTIVE_PC:
    case SIM_ADAPTIVE_ESC:
        cfg->kind = POLICY_ADAPTIVE;
        cfg->auto_converge_permitted = kind == SIM_ADAPTIVE_AC;
        cfg->dirty_limit_permitted =
            kind == SIM_ADAPTIVE_DL || kind == SIM_ADAPTIVE_ESC;
        cfg->postcopy_permitted =
            kind == SIM_ADAPTIVE_PC || kind == SIM_ADAPTIVE_ESC;
        cfg->vcpus = 1;
        break;
    default:
        cfg->kind = POLICY_PRAY;
        break;
    }
    cfg->downtime_ms = ALLOWED_MS;
    /* the operator gives the link's speed as --bandwidth */
    cfg->bandwidth = (uint64_t)(sc->link_gbit * GBIT);
    if (sc->disk) {
        cfg->n_disks = 1;
        cfg->disk_bytes[0] = DISK_BYTES;
    }
    if (policy_config_validate(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "policy-sim: %s: %s\n", sim_names[kind], err);
        exit(1);
    }
}

/*
 * The next step: short when a bitmap sync is near (RAM left to send close
 * to what QEMU switches over below), so that the sample after a
 * MIGRATION_PASS event comes within REACT_S of it, as the job's does.
 */
static double
next_step(const struct job *j, const struct fq_migration_info *in, double rate)
{
    double rem = (double)in->ram.remaining;
    double thr = rate * (double)j->p.downtime_limit / 1000.0;
    double h;

    if (!(rate > 0) || in->status != FQ_STATUS_ACTIVE) {
        return REACT_S;
    }
    if (in->has_disk && in->disk.remaining > 0) {
        rem += (double)in->disk.remaining;
    }
    h = 0.5 * (rem - thr) / rate;
    if (h < REACT_S) {
        h = REACT_S;
    }
    return h > STEP_MAX_S ? STEP_MAX_S : h;
}

static double
send_rate(const struct job *j, double link)
{
    if (j->p.max_bandwidth != 0 && (double)j->p.max_bandwidth < link) {
        return (double)j->p.max_bandwidth;
    }
    return link;
}

/* Moves the model to job time `to`, changing the guest on the way. */
static void
advance_to(struct job *j, double to)
{
    double now = fq_model_now(j->m);

    while (now < to - 1e-12) {
        double end = fmin(to, j->next_change);

        if (end > now) {
            fq_model_advance(j->m, end - now);
        }
        if (end >= j->next_change) {
            guest_apply(j->sc, j->m, j->next_change);
            j->next_change = guest_next_change(j->sc, j->next_change);
        }
        now = end;
    }
}

/* The job's calc-dirty-rate. */
static void
measure_start(struct job *j, const struct policy_measure_request *req,
              double now)
{
    struct fq_dirty_args a;
    struct fq_error err;

    memset(&a, 0, sizeof(a));
    a.calc_time_ms = (int64_t)req->calc_time * (req->milliseconds ? 1 : 1000);
    a.has_sample_pages = req->sample_pages != 0;
    a.sample_pages = req->sample_pages;
    a.mode =
        req->mode == POLICY_DIRTY_RING ? FQ_DIRTY_RING : FQ_DIRTY_PAGE_SAMPLING;
    if (fq_model_calc_dirty_rate(j->m, &a, &err) < 0) {
        policy_measure_failed(&j->st, now, err.desc);
        return;
    }
    j->measuring = true;
    j->meas_start = now;
    j->meas_poll = now + (double)a.calc_time_ms / 1000.0;
}

/* The job's query-dirty-rate, when due: true and *out once measured. */
static bool
measure_poll(struct job *j, double now, struct policy_dirty_rate *out)
{
    struct fq_dirty_info info;

    if (!j->measuring || now < j->meas_poll - 1e-9) {
        return false;
    }
    fq_model_query_dirty_rate(j->m, &info);
    if (info.status != FQ_DIRTY_MEASURED) {
        j->meas_poll = now + DIRTY_POLL_S;
        return false;
    }
    j->measuring = false;
    memset(out, 0, sizeof(*out));
    out->t_start = j->meas_start;
    out->t_end = now;
    /* QEMU before 8.2 reports calc-time in whole seconds */
    out->calc_time_ms = (uint64_t)(qemu_ms ? info.calc_time_ms
                                           : info.calc_time_ms / 1000 * 1000);
    out->dirty_rate = info.dirty_rate;
    out->sample_pages = info.sample_pages;
    out->mode = info.mode == FQ_DIRTY_RING ? POLICY_DIRTY_RING
                                           : POLICY_DIRTY_PAGE_SAMPLING;
    j->o->n_measured++;
    return true;
}

/*
 * Before migrate, in model time, as the job will: measure what the
 * policy asks for, feed it, apply the verdict.
 */
static void
preflight(struct job *j)
{
    struct policy_measure_caps caps = {
        .calc_dirty_rate = true,
        .sample_pages = true,
        .milliseconds = qemu_ms,
    };
    struct policy_measure_request req;
    struct policy_dirty_rate res;
    struct policy_output out;
    size_t i;

    policy_preflight_start(&j->cfg, &j->st, &caps,
                           (uint64_t)(j->sc->ram_gib * GIB),
                           fq_model_now(j->m));
    while (policy_measure_next(&j->cfg, &j->st, fq_model_now(j->m), &req)) {
        measure_start(j, &req, fq_model_now(j->m));
        while (j->measuring) {
            advance_to(j, j->meas_poll);
            if (measure_poll(j, fq_model_now(j->m), &res)) {
                policy_preflight_feed(&j->cfg, &j->st, &res);
                if (j->sc->id == trace_id) {
                    fprintf(stderr,
                            "preflight t=%.3f calc-dirty-rate %llu ms, %llu "
                            "pages/GiB: %lld MiB/s: %s: %s\n",
                            res.t_end, (unsigned long long)res.calc_time_ms,
                            (unsigned long long)res.sample_pages,
                            (long long)res.dirty_rate,
                            policy_verdict_name(
                                policy_preflight_report(&j->st)->verdict),
                            policy_preflight_report(&j->st)->reason);
                }
            }
        }
    }
    policy_preflight_finish(&j->cfg, &j->st, fq_model_now(j->m), &out);
    for (i = 0; i < out.n_actions; i++) {
        job_apply(j, &out.actions[i], fq_model_now(j->m), 0);
    }
    j->o->preflight_s = fq_model_now(j->m);
}

static void
trace_sample(enum sim_policy kind, const struct policy_sample *s,
             const struct policy_output *out)
{
    size_t i;

    fprintf(stderr,
            "%-9s t=%9.3f %-9s pass=%-4llu%s rem=%llu xfer=%llu "
            "dirty=%llu pages/s limit=%llu%s\n",
            sim_names[kind], s->t, migration_status_name(s->status),
            (unsigned long long)s->ram_dirty_sync_count,
            s->pass_event ? "*" : " ", (unsigned long long)s->ram_remaining,
            (unsigned long long)s->ram_transferred,
            (unsigned long long)s->ram_dirty_pages_rate,
            (unsigned long long)s->downtime_limit_ms,
            s->dirty_measured ? " (measured)" : "");
    if (s->dirty_measured) {
        fprintf(stderr, "%-9s   calc-dirty-rate %llu ms: %lld MiB/s\n",
                sim_names[kind], (unsigned long long)s->dirty.calc_time_ms,
                (long long)s->dirty.dirty_rate);
    }
    for (i = 0; i < out->n_actions; i++) {
        fprintf(stderr, "%-9s   action %s %llu: %s\n", sim_names[kind],
                policy_action_name(out->actions[i].kind),
                (unsigned long long)out->actions[i].value,
                out->actions[i].reason);
    }
}

/*
 * One migration under one policy, to completion, cancel or cap.  With
 * has_policy false the parameters in *fixed run unchanged (the oracle's
 * probes), and the model moves in large steps.
 */
static int
run_one(const struct scenario *sc, enum sim_policy kind,
        const struct fq_params *fixed, double cap_s, struct outcome *o)
{
    struct fq_migrate_args args = {.blk = sc->disk};
    struct fq_caps caps = {.events = true};
    struct fq_migration_info in;
    struct policy_measure_request req;
    struct policy_dirty_rate res;
    struct policy_output out;
    struct policy_sample s;
    struct fq_event ev;
    struct fq_error err;
    struct job j;
    double next_poll = 0, link = sc->link_gbit * GBIT;
    double last_xfer = 0, last_disk = 0;
    bool event_poll = true, pass_event = false, final = false, got;
    size_t i;

    memset(o, 0, sizeof(*o));
    o->downtime_ms = -1;
    o->giveup_s = -1;
    memset(&j, 0, sizeof(j));
    j.o = o;
    j.sc = sc;
    j.next_change = guest_next_change(sc, 0);
    if (model_for(sc, &j.m) < 0) {
        return -1;
    }
    fq_params_init(&j.p);
    j.has_policy = fixed == NULL;
    if (j.has_policy) {
        policy_for(kind, sc, &j.cfg);
        levers_init(&j.levers, QEMU_DOWNTIME_MS, QEMU_BANDWIDTH,
                    j.cfg.auto_converge_permitted);
        j.levers.dirty_limit_permitted = j.cfg.dirty_limit_permitted;
        /* as the engine: dirty-limit preferred; preempt with post-copy */
        caps.dirty_limit = j.cfg.dirty_limit_permitted;
        caps.auto_converge =
            j.cfg.auto_converge_permitted && !j.cfg.dirty_limit_permitted;
        caps.postcopy_ram = j.cfg.postcopy_permitted;
        caps.postcopy_preempt = j.cfg.postcopy_permitted;
        policy_state_init(&j.st, &j.cfg);
        if (kind != SIM_PRAY) {
            memset(&out, 0, sizeof(out));
            policy_initial_actions(&j.cfg, &j.st, &out);
            for (i = 0; i < out.n_actions; i++) {
                job_apply(&j, &out.actions[i], 0, 0);
            }
        }
        if ((caps.auto_converge || caps.dirty_limit) &&
            j.cfg.kind == POLICY_ADAPTIVE) {
            j.p.throttle_trigger_threshold = 100; /* held back */
            j.p.vcpu_dirty_limit = QEMU_DIRTY_LIMIT_HOLD_MIB_S;
        }
        preflight(&j);
        if (j.st.cancelled) {
            o->result = RES_ABORTED;
            o->refused = true;
            o->time_s = o->preflight_s;
            fq_model_free(j.m);
            return 0;
        }
        next_poll = o->preflight_s;
    } else {
        j.p = *fixed;
        levers_init(&j.levers, fixed->downtime_limit, fixed->max_bandwidth,
                    false);
    }
    if (j.p.downtime_limit > o->max_limit_ms) {
        o->max_limit_ms = j.p.downtime_limit;
    }
    fq_model_set_params(j.m, &j.p);
    if (fq_model_set_caps(j.m, &caps, &err) < 0 ||
        fq_model_migrate(j.m, &args, &err) < 0) {
        fprintf(stderr, "policy-sim: scenario %d: %s\n", sc->id, err.desc);
        fq_model_free(j.m);
        return -1;
    }
    for (;;) {
        double now = fq_model_now(j.m), h;

        fq_model_query(j.m, &in);
        if (in.has_ram) {
            last_xfer = (double)in.ram.transferred;
        }
        if (in.has_disk) {
            last_disk = (double)in.disk.transferred;
        }
        j.bytes = last_xfer + last_disk;
        o->passes = in.has_ram ? in.ram.dirty_sync_count : o->passes;
        got = j.has_policy && measure_poll(&j, now, &res);
        if (j.has_policy && (got || event_poll || now >= next_poll - 1e-9)) {
            sample_from_info(&in, now, j.levers.downtime_ms, j.levers.bandwidth,
                             pass_event, &s);
            s.dirty_measured = got;
            if (got) {
                s.dirty = res;
            }
            memset(&out, 0, sizeof(out));
            policy_step(&j.cfg, &j.st, &s, &out);
            o->n_samples++;
            if (sc->id == trace_id) {
                trace_sample(kind, &s, &out);
            }
            for (i = 0; i < out.n_actions; i++) {
                job_apply(&j, &out.actions[i], now, s.ram_dirty_sync_count);
            }
            if (!j.measuring && policy_measure_next(&j.cfg, &j.st, now, &req)) {
                measure_start(&j, &req, now);
            }
            if (now >= next_poll - 1e-9) {
                next_poll += POLL_S;
            }
            event_poll = false;
            pass_event = false;
        }
        if (final || migration_status_is_final(status_of(in.status))) {
            break;
        }
        if (now >= cap_s) {
            o->result = RES_CAPPED;
            o->time_s = now;
            o->bytes = last_xfer + last_disk;
            fq_model_free(j.m);
            return 0;
        }
        if (j.has_policy) {
            h = next_step(&j, &in, send_rate(&j, link));
            if (now + h > next_poll) {
                h = next_poll - now;
            }
            if (j.measuring && now + h > j.meas_poll) {
                h = j.meas_poll - now;
            }
        } else {
            h = 1.0;
        }
        if (h < 1e-6) {
            h = 1e-6;
        }
        advance_to(&j, now + h);
        while (fq_model_next_event(j.m, &ev)) {
            if (ev.type == FQ_EVENT_MIGRATION_PASS) {
                pass_event = true;
                event_poll = true;
            } else if (ev.type == FQ_EVENT_MIGRATION) {
                event_poll = true;
                final =
                    final || migration_status_is_final(status_of(ev.status));
            }
        }
        if (!j.has_policy && o->passes > PROBE_MAX_PASSES) {
            o->result = RES_CAPPED;
            o->time_s = fq_model_now(j.m);
            fq_model_free(j.m);
            return 0;
        }
    }
    o->time_s = fq_model_now(j.m);
    o->bytes = last_xfer + last_disk;
    fq_model_guest_cost(j.m, &o->cost);
    o->postcopy = in.ram.postcopy_bytes > 0;
    switch (in.status) {
    case FQ_STATUS_COMPLETED:
        o->result = RES_COMPLETED;
        o->downtime_ms = (double)in.downtime;
        o->time_s = o->preflight_s + (double)in.total_time / 1000.0;
        o->bytes = (double)in.ram.transferred + last_disk;
        break;
    case FQ_STATUS_CANCELLED:
        o->result = RES_ABORTED;
        break;
    default:
        o->result = RES_FAILED;
        break;
    }
    fq_model_free(j.m);
    return 0;
}

/* --- the oracle ---------------------------------------------------------- */

static bool
probe(const struct scenario *sc, uint64_t limit_ms, double cap_s,
      struct outcome *o)
{
    struct fq_params p;

    fq_params_init(&p);
    p.downtime_limit = limit_ms;
    p.max_bandwidth = (uint64_t)(sc->link_gbit * GBIT);
    if (run_one(sc, SIM_ORACLE, &p, cap_s, o) < 0) {
        exit(1);
    }
    return o->result == RES_COMPLETED;
}

/*
 * The least limit on a 10 ms grid up to 500 ms that completes, set from
 * t = 0 with the link's bandwidth; completion is taken to grow with the
 * limit, so a binary search finds it.  None: abort at once, nothing sent.
 */
static void
oracle(struct scenario *sc, double cap_s, struct outcome *o)
{
    struct outcome best, tmp;
    uint64_t lo = 1, hi = ALLOWED_MS / ORACLE_GRID_MS;

    if (!probe(sc, ALLOWED_MS, cap_s, &best)) {
        uint64_t ms;

        /*
         * Completion should grow with the limit; a few lower limits check
         * that it does here, and a scan finds the least if not.
         */
        for (ms = 100; ms < ALLOWED_MS; ms += 100) {
            if (probe(sc, ms, cap_s, &tmp)) {
                break;
            }
        }
        if (ms < ALLOWED_MS) {
            for (ms = ORACLE_GRID_MS; ms < ALLOWED_MS; ms += ORACLE_GRID_MS) {
                if (probe(sc, ms, cap_s, &best)) {
                    break;
                }
            }
            sc->nonmonotonic = true;
            sc->fast_s = best.time_s;
            *o = best;
            snprintf(o->reason, sizeof(o->reason),
                     "downtime-limit %llu ms from t=0 (%d ms does not "
                     "complete)",
                     (unsigned long long)ms, ALLOWED_MS);
            sc->oracle_ms = ms;
            sc->cls = ms <= QEMU_DOWNTIME_MS ? CLASS_EASY : CLASS_FIXABLE;
            return;
        }
        memset(o, 0, sizeof(*o));
        o->result = RES_ABORTED;
        o->downtime_ms = -1;
        o->giveup_s = 0;
        o->giveup_pass = 0;
        sc->oracle_ms = 0;
        sc->cls = CLASS_HOPELESS;
        snprintf(o->reason, sizeof(o->reason), "no limit up to %d ms completes",
                 ALLOWED_MS);
        return;
    }
    sc->fast_s = best.time_s;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;

        if (probe(sc, mid * ORACLE_GRID_MS, cap_s, &tmp)) {
            hi = mid;
            best = tmp;
        } else {
            lo = mid + 1;
        }
    }
    if (best.max_limit_ms != hi * ORACLE_GRID_MS) {
        (void)probe(sc, hi * ORACLE_GRID_MS, cap_s, &best);
    }
    *o = best;
    snprintf(o->reason, sizeof(o->reason), "downtime-limit %llu ms from t=0",
             (unsigned long long)(hi * ORACLE_GRID_MS));
    sc->oracle_ms = hi * ORACLE_GRID_MS;
    sc->cls = sc->oracle_ms <= QEMU_DOWNTIME_MS ? CLASS_EASY : CLASS_FIXABLE;
}

/* --- statistics ----------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place); NAN when empty. */
static double
percentile(double *v, size_t n, double p)
{
    size_t k;

    if (n == 0) {
        return NAN;
    }
    qsort(v, n, sizeof(*v), cmp_double);
    k = (size_t)ceil(p / 100.0 * (double)n);
    if (k < 1) {
        k = 1;
    }
    return v[k - 1];
}

/* --- output --------------------------------------------------------------- */

struct results {
    struct scenario *sc;
    size_t n;                   /* the steady guests (the tables' matrix) */
    size_t n_all;               /* and the changing ones after them */
    struct outcome (*o)[SIM_N]; /* o[scenario][policy] */
};

static bool
ok(const struct outcome *o)
{
    return o->result == RES_COMPLETED && o->downtime_ms <= ALLOWED_MS;
}

static FILE *
open_out(const char *dir, const char *name)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "policy-sim: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void
close_out(FILE *f)
{
    if (fclose(f) != 0) {
        fprintf(stderr, "policy-sim: write error: %s\n", strerror(errno));
        exit(1);
    }
}

static void
write_csv(const struct results *r, const char *dir)
{
    FILE *f = open_out(dir, "policy-sim.csv");
    size_t i;
    int k;

    fprintf(f, "scenario,ram_gib,ws_mib,dirty_mib_s,link_gbit,disk,guest,"
               "ws2_mib,dirty2_mib_s,class,"
               "oracle_limit_ms,policy,result,within_limit,time_s,"
               "downtime_ms,bytes,passes,giveup_s,giveup_pass,"
               "max_limit_ms,actions,samples,preflight_s,measured,"
               "giveup_bytes,refused,reason\n");
    for (i = 0; i < r->n_all; i++) {
        const struct scenario *s = &r->sc[i];

        for (k = 0; k < SIM_N; k++) {
            const struct outcome *o = &r->o[i][k];
            char reason[POLICY_REASON_MAX];
            char *c;

            snprintf(reason, sizeof(reason), "%s", o->reason);
            for (c = reason; *c != '\0'; c++) {
                if (*c == '"' || *c == ',') {
                    *c = *c == '"' ? '\'' : ';';
                }
            }
            fprintf(f,
                    "%d,%.0f,%.0f,%.0f,%.0f,%d,%s,%.0f,%.0f,%s,%llu,%s,%s,%d,"
                    "%.3f,%.0f,%.0f,%llu,%.3f,%llu,%llu,%u,%u,%.3f,%u,%.0f,"
                    "%d,%s\n",
                    s->id, s->ram_gib, s->ws_mib, s->dirty_mibs, s->link_gbit,
                    s->disk ? 1 : 0, change_names[s->change], s->ws2_mib,
                    s->dirty2_mibs, class_names[s->cls],
                    (unsigned long long)s->oracle_ms, sim_names[k],
                    result_names[o->result], ok(o) ? 1 : 0, o->time_s,
                    o->downtime_ms, o->bytes, (unsigned long long)o->passes,
                    o->giveup_s, (unsigned long long)o->giveup_pass,
                    (unsigned long long)o->max_limit_ms, o->n_actions,
                    o->n_samples, o->preflight_s, o->n_measured,
                    o->giveup_bytes, o->refused ? 1 : 0, reason);
        }
    }
    close_out(f);
}

/* "12.3 s", "1.2 h", "-" */
static void
fmt_time(char *buf, size_t len, double s)
{
    if (isnan(s)) {
        snprintf(buf, len, "–");
    } else if (s >= 7200) {
        snprintf(buf, len, "%.1f h", s / 3600);
    } else if (s >= 100) {
        snprintf(buf, len, "%.0f s", s);
    } else if (s >= 10) {
        snprintf(buf, len, "%.1f s", s);
    } else {
        snprintf(buf, len, "%.2f s", s);
    }
}

static void
fmt_bytes(char *buf, size_t len, double b)
{
    if (isnan(b)) {
        snprintf(buf, len, "–");
    } else if (b >= 1e12) {
        snprintf(buf, len, "%.2f TB", b / 1e12);
    } else if (b >= 1e9) {
        snprintf(buf, len, "%.1f GB", b / 1e9);
    } else {
        snprintf(buf, len, "%.0f MB", b / 1e6);
    }
}

/* Per-policy headline table. */
static void
table_policies(FILE *f, const struct results *r, double *v, double *w)
{
    size_t i, n_all = r->n, n_possible = 0;
    int k;

    for (i = 0; i < r->n; i++) {
        n_possible += r->sc[i].cls != CLASS_HOPELESS;
    }
    fprintf(f,
            "| policy | completed ≤ %d ms (all %zu) | of the %zu "
            "possible | median total time | p95 total time | median "
            "downtime | max downtime | median bytes sent | completed "
            "over %d ms |\n",
            ALLOWED_MS, n_all, n_possible, ALLOWED_MS);
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
               "---: |\n");
    for (k = 0; k < SIM_N; k++) {
        size_t n_ok = 0, n_over = 0, n_pos_ok = 0;
        char t50[32], t95[32], b50[32];
        double d50, dmax = 0;

        for (i = 0; i < r->n; i++) {
            const struct outcome *o = &r->o[i][k];

            if (ok(o)) {
                v[n_ok] = o->time_s;
                w[n_ok] = o->bytes;
                n_ok++;
                n_pos_ok += r->sc[i].cls != CLASS_HOPELESS;
            } else if (o->result == RES_COMPLETED) {
                n_over++;
            }
            if (o->result == RES_COMPLETED && o->downtime_ms > dmax) {
                dmax = o->downtime_ms;
            }
        }
        fmt_time(t50, sizeof(t50), percentile(v, n_ok, 50));
        fmt_time(t95, sizeof(t95), percentile(v, n_ok, 95));
        fmt_bytes(b50, sizeof(b50), percentile(w, n_ok, 50));
        n_ok = 0;
        for (i = 0; i < r->n; i++) {
            if (ok(&r->o[i][k])) {
                v[n_ok++] = r->o[i][k].downtime_ms;
            }
        }
        d50 = percentile(v, n_ok, 50);
        fprintf(
            f,
            "| `%s` | %zu (%.0f %%) | %zu (%.0f %%) | %s | %s | %.0f ms | "
            "%.0f ms | %s | %zu |\n",
            sim_names[k], n_ok, 100.0 * (double)n_ok / (double)n_all, n_pos_ok,
            n_possible ? 100.0 * (double)n_pos_ok / (double)n_possible : 0.0,
            t50, t95, isnan(d50) ? 0.0 : d50, dmax, b50, n_over);
    }
    fprintf(f, "\n");
}

/* Completions within the limit, by class. */
static void
table_classes(FILE *f, const struct results *r, FILE *dat)
{
    size_t count[CLASS_N] = {0};
    size_t i;
    int k, c;

    for (i = 0; i < r->n; i++) {
        count[r->sc[i].cls]++;
    }
    fprintf(f,
            "| policy | easy (%zu) | fixable (%zu) | hopeless (%zu): "
            "gave up | hopeless: ran to the cap | hopeless: completed "
            "over %d ms |\n",
            count[CLASS_EASY], count[CLASS_FIXABLE], count[CLASS_HOPELESS],
            ALLOWED_MS);
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    fprintf(dat, "# policy easy%% fixable%% hopeless-gave-up%%\n");
    for (k = 0; k < SIM_N; k++) {
        size_t got[CLASS_N] = {0}, gave = 0, capped = 0, over = 0;

        for (i = 0; i < r->n; i++) {
            const struct outcome *o = &r->o[i][k];

            c = (int)r->sc[i].cls;
            if (ok(o)) {
                got[c]++;
            }
            if (c == CLASS_HOPELESS) {
                gave += o->result == RES_ABORTED;
                capped += o->result == RES_CAPPED;
                over += o->result == RES_COMPLETED;
            }
        }
        fprintf(f, "| `%s` | %zu | %zu | %zu | %zu | %zu |\n", sim_names[k],
                got[CLASS_EASY], got[CLASS_FIXABLE], gave, capped, over);
        fprintf(dat, "%s %.1f %.1f %.1f\n", sim_names[k],
                count[0] ? 100.0 * (double)got[0] / (double)count[0] : 0.0,
                count[1] ? 100.0 * (double)got[1] / (double)count[1] : 0.0,
                count[2] ? 100.0 * (double)gave / (double)count[2] : 0.0);
    }
    fprintf(f, "\n");
}

/* Hopeless scenarios: how long and how much before giving up. */
static void
table_hopeless(FILE *f, const struct results *r, double *v, double *w,
               double cap_pray)
{
    size_t i;
    int k;

    fprintf(f, "| policy | gave up | median time to give up | p95 | max | "
               "median bytes before giving up | p95 bytes | iterations "
               "after the first sync (median / max) |\n");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (k = 0; k < SIM_N; k++) {
        size_t n = 0, n_h = 0, np = 0;
        double *pv = v, itmax = 0, it50;
        char t50[32], t95[32], tmax[32], b50[32], b95[32];
        static double it[MAX_SCENARIOS];

        for (i = 0; i < r->n; i++) {
            const struct outcome *o = &r->o[i][k];

            if (r->sc[i].cls != CLASS_HOPELESS) {
                continue;
            }
            n_h++;
            if (o->result == RES_ABORTED) {
                pv[n] = o->time_s;
                w[n] = o->bytes;
                n++;
                if (k != SIM_ORACLE) {
                    it[np] =
                        o->giveup_pass > 0 ? (double)(o->giveup_pass - 1) : 0;
                    itmax = it[np] > itmax ? it[np] : itmax;
                    np++;
                }
            }
        }
        if (n == 0) {
            fprintf(f,
                    "| `%s` | 0 of %zu | never (ran to the %.0f h cap or "
                    "completed over the limit) | | | | | |\n",
                    sim_names[k], n_h, cap_pray / 3600);
            continue;
        }
        it50 = percentile(it, np, 50);
        fmt_time(t50, sizeof(t50), percentile(pv, n, 50));
        fmt_time(t95, sizeof(t95), percentile(pv, n, 95));
        fmt_time(tmax, sizeof(tmax), pv[n - 1]);
        fmt_bytes(b50, sizeof(b50), percentile(w, n, 50));
        fmt_bytes(b95, sizeof(b95), percentile(w, n, 95));
        if (k == SIM_ORACLE) {
            fprintf(f, "| `%s` | %zu of %zu | %s | %s | %s | %s | %s | – |\n",
                    sim_names[k], n, n_h, t50, t95, tmax, b50, b95);
        } else {
            fprintf(f,
                    "| `%s` | %zu of %zu | %s | %s | %s | %s | %s | %.0f / "
                    "%.0f |\n",
                    sim_names[k], n, n_h, t50, t95, tmax, b50, b95, it50,
                    itmax);
        }
    }
    fprintf(f, "\n");
}

struct goals {
    size_t peer_only;    /* a peer completes within the limit, adaptive not */
    size_t over_limit;   /* adaptive completed above the limit */
    double ratio_median; /* adaptive / oracle total time, completed */
    double ratio_p95;
    double ratio_max;
    size_t n_ratio;
    size_t n_ratio_over; /* scenarios above 1.5 */
    double fast_median;  /* adaptive / the 500 ms-from-t=0 run */
    double fast_p95;
    double fast_max;
    double iter_max;      /* iterations after the first sync at give-up */
    size_t iter_over;     /* hopeless scenarios above 3 */
    size_t hopeless_kept; /* hopeless scenarios adaptive did not give up */
    double nova_median;   /* nova's time to give up / adaptive's */
    double nova_min;
    size_t n_nova;
};

static void
compute_goals(const struct results *r, struct goals *g, double *v, double *w,
              double *u)
{
    size_t i, nv = 0, nw = 0;
    int k;

    memset(g, 0, sizeof(*g));
    for (i = 0; i < r->n; i++) {
        const struct outcome *a = &r->o[i][SIM_ADAPTIVE];
        const struct outcome *orc = &r->o[i][SIM_ORACLE];
        const struct outcome *nv_o = &r->o[i][SIM_NOVA];
        bool peer = false;

        for (k = SIM_PRAY; k <= SIM_KUBEVIRT; k++) {
            peer = peer || ok(&r->o[i][k]);
        }
        if (peer && !ok(a)) {
            g->peer_only++;
        }
        if (a->result == RES_COMPLETED && a->downtime_ms > ALLOWED_MS) {
            g->over_limit++;
        }
        if (ok(a) && orc->result == RES_COMPLETED && orc->time_s > 0) {
            v[nv] = a->time_s / orc->time_s;
            g->n_ratio_over += v[nv] > 1.5;
            u[nv] = a->time_s / r->sc[i].fast_s;
            nv++;
        }
        if (r->sc[i].cls == CLASS_HOPELESS) {
            if (a->result != RES_ABORTED) {
                g->hopeless_kept++;
            } else {
                double it =
                    a->giveup_pass > 0 ? (double)(a->giveup_pass - 1) : 0;

                g->iter_max = it > g->iter_max ? it : g->iter_max;
                g->iter_over += it > 3;
                if (nv_o->result == RES_ABORTED && a->time_s > 0) {
                    w[nw++] = nv_o->time_s / a->time_s;
                }
            }
        }
    }
    g->fast_median = percentile(u, nv, 50);
    g->fast_p95 = percentile(u, nv, 95);
    g->fast_max = nv ? u[nv - 1] : NAN;
    g->n_ratio = nv;
    g->ratio_median = percentile(v, nv, 50);
    g->ratio_p95 = percentile(v, nv, 95);
    g->ratio_max = nv ? v[nv - 1] : NAN;
    g->n_nova = nw;
    g->nova_median = percentile(w, nw, 50);
    g->nova_min = nw ? w[0] : NAN;
}

static const char *
met(bool yes)
{
    return yes ? "**met**" : "**not met**";
}

static void
table_goals(FILE *f, const struct goals *g)
{
    fprintf(f, "| goal for `adaptive` | measured | verdict |\n");
    fprintf(f, "| --- | --- | --- |\n");
    fprintf(f,
            "| completes everything any peer (pray, pray-link, nova, vdsm, "
            "proxmox, kubevirt) completes within %d ms | %zu scenarios where a "
            "peer "
            "does and adaptive does not | %s |\n",
            ALLOWED_MS, g->peer_only, met(g->peer_only == 0));
    fprintf(f,
            "| never exceeds the downtime limit | %zu completions above "
            "%d ms | %s |\n",
            g->over_limit, ALLOWED_MS, met(g->over_limit == 0));
    fprintf(f,
            "| completed migrations within 1.5× the oracle's total time "
            "(median) | median ratio %.2f× (p95 %.2f×, max %.2f×; %zu of "
            "%zu above 1.5×) | %s |\n",
            g->ratio_median, g->ratio_p95, g->ratio_max, g->n_ratio_over,
            g->n_ratio, met(g->ratio_median <= 1.5));
    fprintf(f,
            "| (for reference) the same, against the fastest run within "
            "the limit: %d ms from t=0 | median %.2f× (p95 %.2f×, max "
            "%.2f×) | – |\n",
            ALLOWED_MS, g->fast_median, g->fast_p95, g->fast_max);
    fprintf(f,
            "| gives up on hopeless migrations within 3 iterations of the "
            "first sync | at most %.0f passes after QEMU's first sync "
            "(dirty-sync-count 1, at setup); %zu hopeless scenarios took "
            "more than 3, %zu were not given up; counted from the end of "
            "pass 1 instead: at most %.0f | %s |\n",
            g->iter_max, g->iter_over, g->hopeless_kept,
            g->iter_max > 1 ? g->iter_max - 1 : 0,
            met(g->iter_over == 0 && g->hopeless_kept == 0));
    fprintf(f,
            "| gives up at least 20× sooner than Nova's defaults | Nova's "
            "time to give up ÷ adaptive's: median %.0f×, min %.0f× (%zu "
            "scenarios) | %s |\n",
            g->nova_median, g->nova_min, g->n_nova,
            met(g->n_nova > 0 && g->nova_median >= 20 && g->nova_min >= 20));
    /* the escalation goal joins the table: write_markdown() ends it */
}

/* "12.3 s (4 %)": a cost, and its share of the migration's time. */
static void
fmt_cost(char *buf, size_t len, double *cost, double *share, size_t n)
{
    char t[32];

    if (n == 0) {
        snprintf(buf, len, "–");
        return;
    }
    fmt_time(t, sizeof(t), percentile(cost, n, 50));
    snprintf(buf, len, "%s (%.0f %%)", t, 100 * percentile(share, n, 50));
}

/*
 * adaptive with each lever, and with escalation: what completes within
 * the limit, and what it cost the guest where the lever was used.
 */
static void
table_escalation(FILE *f, const struct results *r, double *v, double *w)
{
    static const int kinds[] = {SIM_ADAPTIVE, SIM_ADAPTIVE_AC, SIM_ADAPTIVE_DL,
                                SIM_ADAPTIVE_PC, SIM_ADAPTIVE_ESC};
    size_t i, q;

    fprintf(f,
            "| policy | completed ≤ %d ms (all %zu) | median total time | "
            "throttled in (scenarios) | time throttled, median (share) | "
            "post-copy in | time blocked on faults, median (share) | "
            "faults, median |\n",
            ALLOWED_MS, r->n);
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (q = 0; q < sizeof(kinds) / sizeof(kinds[0]); q++) {
        int k = kinds[q];
        size_t n_ok = 0, n_thr = 0, n_pc = 0;
        double *thr = v, *thr_share = w;
        static double blk[MAX_SCENARIOS], blk_share[MAX_SCENARIOS],
            faults[MAX_SCENARIOS], t_ok[MAX_SCENARIOS];
        char t50[32], c_thr[48], c_blk[48];

        for (i = 0; i < r->n; i++) {
            const struct outcome *o = &r->o[i][k];

            if (!ok(o)) {
                continue;
            }
            t_ok[n_ok++] = o->time_s;
            if (o->cost.throttled_s > 0) {
                thr[n_thr] = o->cost.throttled_s;
                thr_share[n_thr++] = o->cost.throttled_s / o->time_s;
            }
            if (o->postcopy) {
                blk[n_pc] = o->cost.blocked_s;
                blk_share[n_pc] = o->cost.blocked_s / o->time_s;
                faults[n_pc++] = o->cost.faults;
            }
        }
        fmt_time(t50, sizeof(t50), percentile(t_ok, n_ok, 50));
        fmt_cost(c_thr, sizeof(c_thr), thr, thr_share, n_thr);
        fmt_cost(c_blk, sizeof(c_blk), blk, blk_share, n_pc);
        fprintf(
            f, "| `%s` | %zu (%.0f %%) | %s | %zu | %s | %zu | %s | %.0f |\n",
            sim_names[k], n_ok, 100.0 * (double)n_ok / (double)r->n, t50, n_thr,
            c_thr, n_pc, c_blk, n_pc ? percentile(faults, n_pc, 50) : 0.0);
    }
    fprintf(f, "\n");
}

/* The escalation goal, for the headline. */
static void
table_escalation_goal(FILE *f, const struct results *r)
{
    size_t i, n_ok = 0;

    for (i = 0; i < r->n; i++) {
        n_ok += ok(&r->o[i][SIM_ADAPTIVE_ESC]);
    }
    fprintf(f,
            "| with escalation permitted (`--dirty-limit --postcopy`), "
            "every scenario completes within %d ms | %zu of %zu (%.0f %%; "
            "`adaptive` alone: see the table) | %s |\n",
            ALLOWED_MS, n_ok, r->n, 100.0 * (double)n_ok / (double)r->n,
            met(n_ok == r->n));
}

/* The scenarios behind each goal that is missed, worst first. */
static void
list_failures(FILE *f, const struct results *r, size_t max)
{
    size_t i, shown = 0;
    char label[160];
    int k;

    fprintf(f, "| scenario | class (oracle's limit) | what | adaptive | the "
               "peers |\n");
    fprintf(f, "| --- | --- | --- | --- | --- |\n");
    for (i = 0; i < r->n && shown < max; i++) {
        const struct outcome *a = &r->o[i][SIM_ADAPTIVE];
        const struct outcome *orc = &r->o[i][SIM_ORACLE];
        const struct scenario *s = &r->sc[i];
        char what[128] = "", others[512] = "", adt[32], oms[32];
        bool peer = false;
        size_t n = 0;

        for (k = SIM_PRAY; k <= SIM_PROXMOX; k++) {
            const struct outcome *o = &r->o[i][k];
            char dt[32] = "";

            peer = peer || ok(o);
            if (o->result == RES_COMPLETED) {
                snprintf(dt, sizeof(dt), ", %.0f ms", o->downtime_ms);
            }
            n += (size_t)snprintf(others + n, sizeof(others) - n,
                                  "%s%s %s %.1f s%s", n ? "; " : "",
                                  sim_names[k], result_names[o->result],
                                  o->time_s, dt);
            if (n >= sizeof(others)) {
                n = sizeof(others) - 1;
            }
        }
        if (s->oracle_ms > 0) {
            snprintf(oms, sizeof(oms), "%llu ms",
                     (unsigned long long)s->oracle_ms);
        } else {
            snprintf(oms, sizeof(oms), "none");
        }
        if (peer && !ok(a)) {
            snprintf(what, sizeof(what), "a peer completes, adaptive not");
        } else if (a->result == RES_COMPLETED && a->downtime_ms > ALLOWED_MS) {
            snprintf(what, sizeof(what), "downtime over the limit");
        } else if (ok(a) && orc->result == RES_COMPLETED &&
                   a->time_s > 1.5 * orc->time_s) {
            snprintf(what, sizeof(what), "%.2f× the oracle's %.2f s",
                     a->time_s / orc->time_s, orc->time_s);
        } else if (s->cls == CLASS_FIXABLE && !ok(a)) {
            snprintf(what, sizeof(what),
                     "fixable (the oracle completes "
                     "in %.1f s), adaptive did not",
                     orc->time_s);
        } else if (s->cls == CLASS_HOPELESS &&
                   (a->result != RES_ABORTED || a->giveup_pass > 4)) {
            snprintf(what, sizeof(what),
                     "hopeless: %s after %llu "
                     "iterations",
                     a->result == RES_ABORTED ? "gave up" : "not given up",
                     (unsigned long long)(a->giveup_pass > 0
                                              ? a->giveup_pass - 1
                                              : a->passes));
        } else {
            continue;
        }
        scenario_label(s, label, sizeof(label));
        if (a->result == RES_COMPLETED) {
            snprintf(adt, sizeof(adt), ", %.0f ms", a->downtime_ms);
        } else {
            adt[0] = '\0';
        }
        fprintf(f, "| %s | %s (%s) | %s | %s %.1f s%s: \"%s\" | %s |\n", label,
                class_names[s->cls], oms, what, result_names[a->result],
                a->time_s, adt, a->reason, others[0] ? others : "–");
        shown++;
    }
    if (shown == 0) {
        fprintf(f, "| (none) | | | | |\n");
    }
    fprintf(f, "\n");
}

/* gnuplot data: per scenario, each policy's time (or -1). */
static void
write_plot_data(const struct results *r, const char *dir)
{
    FILE *t = open_out(dir, "sim-time.dat");
    FILE *h = open_out(dir, "sim-giveup.dat");
    size_t i;
    int k;

    fprintf(t,
            "# scenarios some policy completes within %d ms: oracle time, "
            "then each policy's time (NaN when it did not)\n# oracle",
            ALLOWED_MS);
    for (k = 0; k < SIM_N - 1; k++) {
        fprintf(t, " %s", sim_names[k]);
    }
    fprintf(t, "\n");
    fprintf(h, "# hopeless scenarios: each policy's time to give up "
               "(NaN: never)\n#");
    for (k = 0; k < SIM_N - 1; k++) {
        fprintf(h, " %s", sim_names[k]);
    }
    fprintf(h, "\n");
    for (i = 0; i < r->n; i++) {
        const struct outcome *orc = &r->o[i][SIM_ORACLE];

        if (r->sc[i].cls != CLASS_HOPELESS && orc->result == RES_COMPLETED) {
            fprintf(t, "%.4f", orc->time_s);
            for (k = 0; k < SIM_N - 1; k++) {
                const struct outcome *o = &r->o[i][k];

                if (ok(o)) {
                    fprintf(t, " %.4f", o->time_s);
                } else {
                    fprintf(t, " NaN");
                }
            }
            fprintf(t, "\n");
        } else if (r->sc[i].cls == CLASS_HOPELESS) {
            for (k = 0; k < SIM_N - 1; k++) {
                const struct outcome *o = &r->o[i][k];

                if (o->result == RES_ABORTED) {
                    fprintf(h, "%s%.4f", k ? " " : "", o->time_s);
                } else {
                    fprintf(h, "%sNaN", k ? " " : "");
                }
            }
            fprintf(h, "\n");
        }
    }
    close_out(t);
    close_out(h);
}

/* Checks of the oracle and the model, stated in the doc. */
static void
write_checks(FILE *f, const struct results *r)
{
    size_t i, nonmono = 0, beaten = 0;
    int k;

    for (i = 0; i < r->n; i++) {
        nonmono += r->sc[i].nonmonotonic;
        if (r->sc[i].cls != CLASS_HOPELESS) {
            continue;
        }
        for (k = 0; k < SIM_ORACLE; k++) {
            if (ok(&r->o[i][k])) {
                beaten++;
                break;
            }
        }
    }
    fprintf(f,
            "Checks: in %zu scenarios a higher limit failed where a "
            "lower one completed (the oracle then scanned every 10 ms "
            "step); %zu scenarios the oracle calls hopeless were "
            "completed within %d ms by some policy (changing the limit "
            "during the run).\n\n",
            nonmono, beaten, ALLOWED_MS);
}

/* Aborted (or refused) where the oracle completes within the limit. */
static bool
false_verdict(const struct outcome *o, const struct outcome *orc)
{
    return o->result == RES_ABORTED && ok(orc);
}

/* What pass-by-pass took, to compare; NAN when it did not complete. */
static double
slowdown(const struct outcome *a, const struct outcome *today)
{
    if (!ok(a) || !ok(today) || !(today->time_s > 0)) {
        return NAN;
    }
    return a->time_s / today->time_s;
}

struct pf_goals {
    size_t n_hopeless, within_5s, within_1pct;
    double t_median, t_max, pct_median, pct_max;
    double t_max_ram[4]; /* by RAM 1, 4, 16, 64 GiB */
    double t_today_median, t_today_max;
    size_t n_fixable, fixable_ok, fixable_fast;
    double fixable_ratio_max;
    size_t n_easy, easy_slower;
    double easy_median, easy_worst;
    size_t false_static, false_changing, false_today;
};

static int
ram_index(double gib)
{
    return gib <= 1 ? 0 : gib <= 4 ? 1 : gib <= 16 ? 2 : 3;
}

static void
compute_pf_goals(const struct results *r, struct pf_goals *g, double *v,
                 double *w, double *u)
{
    size_t i, nv = 0, nu = 0, nt = 0;

    memset(g, 0, sizeof(*g));
    for (i = 0; i < r->n_all; i++) {
        const struct scenario *sc = &r->sc[i];
        const struct outcome *a = &r->o[i][SIM_ADAPTIVE];
        const struct outcome *today = &r->o[i][SIM_ADAPTIVE_PASS];
        const struct outcome *orc = &r->o[i][SIM_ORACLE];

        if (false_verdict(a, orc)) {
            *(i < r->n ? &g->false_static : &g->false_changing) += 1;
        }
        g->false_today += false_verdict(today, orc);
        if (i >= r->n) {
            continue;
        }
        if (sc->cls == CLASS_HOPELESS) {
            double pct = 100.0 * a->giveup_bytes / (sc->ram_gib * GIB);
            int ri = ram_index(sc->ram_gib);

            g->n_hopeless++;
            if (a->result != RES_ABORTED) {
                continue;
            }
            g->within_5s += a->giveup_s <= 5.0;
            g->within_1pct += pct <= 1.0;
            v[nv] = a->giveup_s;
            w[nv++] = pct;
            g->t_max_ram[ri] = fmax(g->t_max_ram[ri], a->giveup_s);
            if (today->result == RES_ABORTED) {
                u[nt++] = today->giveup_s;
            }
        } else if (sc->cls == CLASS_FIXABLE) {
            g->n_fixable++;
            g->fixable_ok += ok(a);
            if (ok(a) && orc->time_s > 0) {
                double q = a->time_s / orc->time_s;

                g->fixable_fast += q <= 1.1;
                g->fixable_ratio_max = fmax(g->fixable_ratio_max, q);
            }
        }
    }
    g->t_median = percentile(v, nv, 50);
    g->t_max = nv ? v[nv - 1] : NAN;
    g->pct_median = percentile(w, nv, 50);
    g->pct_max = nv ? w[nv - 1] : NAN;
    g->t_today_median = percentile(u, nt, 50);
    g->t_today_max = nt ? u[nt - 1] : NAN;
    nv = 0;
    for (i = 0; i < r->n; i++) {
        const struct outcome *a = &r->o[i][SIM_ADAPTIVE];
        const struct outcome *orc = &r->o[i][SIM_ORACLE];
        double q = slowdown(a, &r->o[i][SIM_ADAPTIVE_PASS]);

        if (r->sc[i].cls != CLASS_EASY) {
            continue;
        }
        g->n_easy++;
        if (ok(a) && orc->time_s > 0) {
            v[nv++] = a->time_s / orc->time_s;
        }
        if (!isnan(q)) {
            g->easy_slower += q > 1.05;
            g->easy_worst = fmax(g->easy_worst, q);
        }
        nu++;
    }
    g->easy_median = percentile(v, nv, 50);
}

static void
table_pf_goals(FILE *f, const struct pf_goals *g)
{
    fprintf(f, "| goal for `adaptive` (issue 14) | measured | today "
               "(`adaptive-pass`, pass by pass) | verdict |\n");
    fprintf(f, "| --- | --- | --- | --- |\n");
    fprintf(f,
            "| hopeless: judged within 5 s of model time, every RAM size "
            "| %zu of %zu; median %.2f s, max %.2f s (by RAM 1/4/16/64 GiB: "
            "%.1f / %.1f / %.1f / %.1f s) | median %.1f s, max %.0f s | "
            "%s |\n",
            g->within_5s, g->n_hopeless, g->t_median, g->t_max, g->t_max_ram[0],
            g->t_max_ram[1], g->t_max_ram[2], g->t_max_ram[3],
            g->t_today_median, g->t_today_max,
            met(g->within_5s == g->n_hopeless));
    fprintf(f,
            "| hopeless: at most 1 %% of RAM sent before the verdict | %zu "
            "of %zu; median %.2f %%, max %.1f %% | – | %s |\n",
            g->within_1pct, g->n_hopeless, g->pct_median, g->pct_max,
            met(g->within_1pct == g->n_hopeless));
    fprintf(f, "| fixable: complete within %d ms | %zu of %zu | – | %s |\n",
            ALLOWED_MS, g->fixable_ok, g->n_fixable,
            met(g->fixable_ok == g->n_fixable));
    fprintf(f,
            "| fixable: each within 1.1× the oracle's total time | %zu of "
            "%zu; max %.2f× | – | %s |\n",
            g->fixable_fast, g->n_fixable, g->fixable_ratio_max,
            met(g->fixable_fast == g->n_fixable));
    fprintf(f, "| easy: median 1.00× the oracle | %.2f× | – | %s |\n",
            g->easy_median, met(g->easy_median < 1.005));
    fprintf(f,
            "| easy: none slower than today by more than 5 %% | %zu of %zu "
            "slower by more than 5 %%; the slowest %.2f× today's | – | "
            "%s |\n",
            g->easy_slower, g->n_easy, g->easy_worst, met(g->easy_slower == 0));
    fprintf(f,
            "| zero false verdicts (aborted or refused where the oracle "
            "completes), changing guests included | %zu steady, %zu "
            "changing | %zu | %s |\n",
            g->false_static, g->false_changing, g->false_today,
            met(g->false_static + g->false_changing == 0));
    fprintf(f, "\n");
}

/* Every changing guest, every policy. */
static void
table_changing(FILE *f, const struct results *r)
{
    static const int shown[] = {SIM_NOVA,          SIM_VDSM,     SIM_KUBEVIRT,
                                SIM_ADAPTIVE_PASS, SIM_ADAPTIVE, SIM_ORACLE};
    size_t i, k;
    char label[200];

    fprintf(f, "| guest (changes at 6 s) | class |");
    for (k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
        fprintf(f, " `%s` |", sim_names[shown[k]]);
    }
    fprintf(f, "\n| --- | --- |");
    for (k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
        fprintf(f, " --- |");
    }
    fprintf(f, "\n");
    for (i = r->n; i < r->n_all; i++) {
        scenario_label(&r->sc[i], label, sizeof(label));
        fprintf(f, "| %s | %s |", label, class_names[r->sc[i].cls]);
        for (k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
            const struct outcome *o = &r->o[i][shown[k]];
            char t[32];

            fmt_time(t, sizeof(t), o->time_s);
            fprintf(f, " %s%s %s%s |",
                    false_verdict(o, &r->o[i][SIM_ORACLE]) ? "**false** " : "",
                    result_names[o->result], t,
                    o->result == RES_COMPLETED && !ok(o) ? " (over)" : "");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

static void
write_markdown(const struct results *r, const struct options *opt, double cpu_s,
               size_t n_runs)
{
    FILE *f = open_out(opt->dir, "policy-sim.md");
    FILE *dat = open_out(opt->dir, "sim-share.dat");
    double *v = calloc(r->n_all + 1, sizeof(double));
    double *w = calloc(r->n_all + 1, sizeof(double));
    double *u = calloc(r->n_all + 1, sizeof(double));
    struct pf_goals pg;
    struct goals g;

    if (v == NULL || w == NULL || u == NULL) {
        fprintf(stderr, "policy-sim: out of memory\n");
        exit(1);
    }
    fprintf(f,
            "<!-- policy-sim: %zu scenarios (%zu steady, %zu changing) x "
            "%d policies, %zu model runs in %.1f CPU s -->\n\n",
            r->n_all, r->n, r->n_all - r->n, SIM_N, n_runs, cpu_s);
    compute_pf_goals(r, &pg, v, w, u);
    fprintf(f, "#### The goals\n\n");
    table_pf_goals(f, &pg);
    compute_goals(r, &g, v, w, u);
    table_goals(f, &g);
    table_escalation_goal(f, r);
    fprintf(f, "\n");
    fprintf(f, "#### Every policy over the %zu scenarios\n\n", r->n);
    table_policies(f, r, v, w);
    fprintf(f, "#### By what the physics allow (the oracle's search)\n\n");
    table_classes(f, r, dat);
    fprintf(f, "#### The levers: what each completes and what it costs the "
               "guest\n\n");
    fprintf(f, "`adaptive` with one lever permitted at a time, and with "
               "escalation (dirty-limit, then post-copy). Costs are over "
               "the migrations completed within the limit where the lever "
               "acted, in model time: the guest's time lost to throttling "
               "(auto-converge's share, or the sleep of a dirty-limit), and "
               "its time blocked on post-copy page faults (each a round trip "
               "of 0.2 ms and the page; docs/fake-qemu.md); the share is of "
               "the migration's total time.\n\n");
    table_escalation(f, r, v, w);
    fprintf(f, "#### Hopeless scenarios: the cost of giving up\n\n");
    table_hopeless(f, r, v, w, opt->cap_pray_s);
    write_checks(f, r);
    fprintf(f, "#### Where `adaptive` misses a goal, or a scenario the "
               "oracle completes\n\n");
    list_failures(f, r, 40);
    fprintf(f, "#### Guests that change after the preflight\n\n");
    table_changing(f, r);
    close_out(dat);
    close_out(f);
    free(v);
    free(w);
    free(u);
}

/* --- main ----------------------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr, "usage: policy-sim [-o DIR] [--quick] [--cap-pray S] "
                    "[--cap S] [--qemu 7.2|10.0] [--trace ID] "
                    "[--policies A,B] [-v]\n");
    exit(2);
}

/* NAME is one of the comma-separated names in list. */
static bool
listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    while ((p = strstr(p, name)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
            return true;
        }
        p += n;
    }
    return false;
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    static struct scenario sc[MAX_SCENARIOS];
    struct options opt = {
        .dir = "build/bench",
        .cap_pray_s = 4 * 3600.0,
        .cap_s = 24 * 3600.0,
    };
    struct results r;
    double t0 = cpu_now();
    const char *only = NULL;
    size_t i, n_runs = 0;
    int a, k;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
            opt.dir = argv[++a];
        } else if (strcmp(argv[a], "--quick") == 0) {
            opt.quick = true;
        } else if (strcmp(argv[a], "--cap-pray") == 0 && a + 1 < argc) {
            opt.cap_pray_s = atof(argv[++a]);
        } else if (strcmp(argv[a], "--cap") == 0 && a + 1 < argc) {
            opt.cap_s = atof(argv[++a]);
        } else if (strcmp(argv[a], "--trace") == 0 && a + 1 < argc) {
            trace_id = atoi(argv[++a]);
        } else if (strcmp(argv[a], "--qemu") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "7.2") == 0) {
                qemu_ms = false;
            } else if (strcmp(argv[a], "10.0") != 0) {
                usage();
            }
        } else if (strcmp(argv[a], "--policies") == 0 && a + 1 < argc) {
            only = argv[++a];
        } else if (strcmp(argv[a], "-v") == 0) {
            opt.verbose++;
        } else {
            usage();
        }
    }
    if (!(opt.cap_pray_s > 0) || !(opt.cap_s > 0)) {
        usage();
    }
    mkdir(opt.dir, 0777);
    r.sc = sc;
    r.n_all = build_scenarios(sc, MAX_SCENARIOS, opt.quick, &r.n);
    r.o = calloc(r.n_all, sizeof(*r.o));
    if (r.o == NULL) {
        fprintf(stderr, "policy-sim: out of memory\n");
        return 1;
    }
    for (i = 0; i < r.n_all; i++) {
        char label[200];

        if (trace_id >= 0 && (int)i != trace_id) {
            continue;
        }
        oracle(&sc[i], opt.cap_s, &r.o[i][SIM_ORACLE]);
        n_runs++;
        for (k = 0; k < SIM_ORACLE; k++) {
            double cap = k == SIM_PRAY || k == SIM_PRAY_LINK ? opt.cap_pray_s
                                                             : opt.cap_s;

            if (only != NULL && !listed(only, sim_names[k])) {
                continue;
            }

            if (run_one(&sc[i], (enum sim_policy)k, NULL, cap, &r.o[i][k]) <
                0) {
                return 1;
            }
            n_runs++;
        }
        if (opt.verbose) {
            scenario_label(&sc[i], label, sizeof(label));
            fprintf(stderr, "%3zu %-52s %-8s", i, label,
                    class_names[sc[i].cls]);
            for (k = 0; k < SIM_N; k++) {
                const struct outcome *o = &r.o[i][k];

                fprintf(stderr, " %s:%s%.1f", sim_names[k],
                        result_names[o->result], o->time_s);
            }
            fprintf(stderr, "\n");
        }
    }
    if (trace_id >= 0) {
        free(r.o);
        return 0; /* a trace is for reading, not for the tables */
    }
    write_csv(&r, opt.dir);
    write_plot_data(&r, opt.dir);
    write_markdown(&r, &opt, cpu_now() - t0, n_runs);
    fprintf(stderr, "policy-sim: %zu scenarios, %zu runs, %.1f CPU s\n",
            r.n_all, n_runs, cpu_now() - t0);
    free(r.o);
    return 0;
}
