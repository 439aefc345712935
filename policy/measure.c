/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: what calc-dirty-rate results say about the guest, with error bars. */
#include <math.h>
#include <string.h>

#include "policy/internal.h"

/*
 * The model is in docs/policy.md, "preflight".  In short: W(T), the
 * distinct bytes the guest dirties in T seconds, is what page-sampling
 * measures; a guest is a walker, W(T) = min(D T, WS); pre-copy then
 * settles where a bitmap sync (every 100 ms window near the end) leaves
 *
 *     R* = D t_s - B max(0, t_s - tau),   t_s = WS / D,  tau = 0.1 s
 *
 * and it switches over iff R* < B x downtime-limit.
 */

/*
 * Wilson's interval: z = 4 (one-sided error about 3e-5) for the floors a
 * refusal rests on and for telling a changed guest; z = 2.5 (about 6e-3)
 * for the ceilings a "converges" rests on, which the passes check later.
 */
#define Z 4.0
#define Z_SOFT 2.5
/* Saturation times scanned for a steady walker, log-spaced. */
#define GRID_N 160
#define GRID_FROM_S 1e-3
#define GRID_TO_S 1e5
/* Measurements a hair apart still count as one steady guest. */
#define SLACK 1e-9

static double
wilson(double k, double n, double z, int side)
{
    double p = k / n;
    double z2 = z * z;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    double v = centre + side * half;

    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* W(T)'s bounds from k_lo..k_hi changed of n sampled. */
static void
set_sampled(struct policy_internal_w *w)
{
    w->lo = wilson(w->k_lo, w->n, Z, -1) * w->ram;
    w->hi = wilson(w->k_hi, w->n, Z, 1) * w->ram;
    w->hi_soft = wilson(w->k_hi, w->n, Z_SOFT, 1) * w->ram;
}

/*
 * Results over the same period are draws of the same share (of one
 * steady guest): their samples add up, and the bars narrow.  Returns the
 * number of bounds left in w.
 */
static size_t
pool(struct policy_internal_w *w, size_t k)
{
    size_t i, j, out = 0;

    for (i = 0; i < k; i++) {
        for (j = 0; j < out; j++) {
            if (w[j].n > 0 && w[i].n > 0 && w[j].t_s == w[i].t_s &&
                w[j].ram == w[i].ram) {
                break;
            }
        }
        if (j < out) {
            w[j].n += w[i].n;
            w[j].k_lo += w[i].k_lo;
            w[j].k_hi += w[i].k_hi;
            set_sampled(&w[j]);
        } else {
            w[out++] = w[i];
        }
    }
    return out;
}

bool
policy_internal_w_bounds(const struct policy_dirty_rate *m, uint64_t ram,
                         struct policy_internal_w *w)
{
    double t = (double)m->calc_time_ms / 1000.0;
    double mib = (double)(ram >> 20);
    double r = (double)m->dirty_rate;

    memset(w, 0, sizeof(*w));
    if (!(t > 0) || m->dirty_rate < 0 || ram == 0) {
        return false;
    }
    w->t_s = t;
    switch (m->mode) {
    case POLICY_DIRTY_PAGE_SAMPLING: {
        /*
         * QEMU: rate = floor(k x MiB x 1000 / (n x ms)) with k of n
         * sampled pages changed, n = (RAM x sample-pages) >> 30.
         */
        double n = (double)((ram * m->sample_pages) >> 30);
        double per = n * (double)m->calc_time_ms / (mib * 1000.0);
        double k_lo, k_hi;

        if (!(n > 0) || !(mib > 0)) {
            return false;
        }
        k_lo = fmin(n, ceil(r * per - SLACK));
        k_hi = fmin(n, ceil((r + 1) * per - SLACK) - 1);
        if (k_hi < k_lo) {
            k_hi = k_lo;
        }
        w->n = n;
        w->k_lo = k_lo;
        w->k_hi = k_hi;
        w->ram = (double)ram;
        set_sampled(w);
        break;
    }
    case POLICY_DIRTY_BITMAP:
        /* every dirtied page counted: only QEMU's rounding */
        w->lo = r * t * POLICY_MIB;
        w->hi = (r + 1) * t * POLICY_MIB;
        w->hi_soft = w->hi;
        break;
    case POLICY_DIRTY_RING:
        /*
         * The ring counts a page again after each reset, so its count
         * is at least W(T) and at most what the guest wrote: a floor on
         * the rate, a ceiling on W(T), no floor on W(T).
         */
        w->lo = 0;
        w->hi = (r + 1) * t * POLICY_MIB;
        w->hi_soft = w->hi;
        w->rate_floor = r * POLICY_MIB;
        break;
    }
    w->valid = true;
    return true;
}

/* What a steady walker with rate d and saturation time ts leaves. */
static double
settles(double d, double ts, double bw)
{
    double r = d * ts - bw * fmax(0, ts - POLICY_QEMU_WINDOW_S);

    return r > 0 ? r : 0;
}

struct scan {
    bool feasible;
    double f_hi, f_lo, d_hi, ws_hi;
};

/* The rates a walker saturating at ts may have, given every bound. */
static void
scan_at(const struct policy_internal_w *w, size_t n, double ram, double bw,
        double ts, bool soft, struct scan *sc)
{
    double a = 0, b = INFINITY;
    size_t i;

    for (i = 0; i < n; i++) {
        double span = fmin(w[i].t_s, ts);

        a = fmax(a, fmax(w[i].lo / span, w[i].rate_floor));
        b = fmin(b, (soft ? w[i].hi_soft : w[i].hi) / span);
    }
    b = fmin(b, ram / ts); /* the working set fits in RAM */
    if (a > b * (1 + SLACK)) {
        return;
    }
    b = fmax(a, b);
    if (!sc->feasible) {
        sc->feasible = true;
        sc->f_lo = INFINITY;
    }
    sc->f_hi = fmax(sc->f_hi, settles(b, ts, bw));
    sc->f_lo = fmin(sc->f_lo, settles(a, ts, bw));
    sc->d_hi = fmax(sc->d_hi, b);
    sc->ws_hi = fmax(sc->ws_hi, b * ts);
}

/* Every saturation time worth trying, for one set of bounds. */
static void
scan(const struct policy_internal_w *w, size_t k, double ramd, double bw,
     double t_max, bool soft, struct scan *sc)
{
    double b = INFINITY;
    size_t i;

    for (i = 0; i <= GRID_N; i++) {
        double ts =
            GRID_FROM_S * pow(GRID_TO_S / GRID_FROM_S, (double)i / GRID_N);

        scan_at(w, k, ramd, bw, ts, soft, sc);
    }
    for (i = 0; i < k; i++) {
        scan_at(w, k, ramd, bw, w[i].t_s, soft, sc);
        b = fmin(b, (soft ? w[i].hi_soft : w[i].hi) / w[i].t_s);
    }
    /* Unsaturated at every period: the most RAM allows is the worst. */
    if (b > 0 && isfinite(b) && ramd / b > t_max) {
        scan_at(w, k, ramd, bw, ramd / b, soft, sc);
    }
}

void
policy_internal_estimate(const struct policy_dirty_rate *m, size_t n,
                         uint64_t ram, double bw, struct policy_estimate *e)
{
    struct policy_internal_w w[POLICY_MEASURE_MAX];
    struct scan sc, soft;
    double d_lo = 0, ws_lo = 0, t_max = 0, ramd = (double)ram;
    size_t i, k = 0;

    memset(e, 0, sizeof(*e));
    memset(&sc, 0, sizeof(sc));
    memset(&soft, 0, sizeof(soft));
    e->bandwidth = bw;
    for (i = 0; i < n && k < POLICY_MEASURE_MAX; i++) {
        k += policy_internal_w_bounds(&m[i], ram, &w[k]) ? 1 : 0;
    }
    e->n = k;
    k = pool(w, k);
    for (i = 0; i < k; i++) {
        double mid = w[i].n > 0
                         ? (w[i].k_lo + w[i].k_hi) / 2 / w[i].n * w[i].ram
                         : (w[i].lo + w[i].hi) / 2;

        d_lo = fmax(d_lo, fmax(w[i].lo / w[i].t_s, w[i].rate_floor));
        ws_lo = fmax(ws_lo, w[i].lo);
        t_max = fmax(t_max, w[i].t_s);
        e->rate_est = fmax(e->rate_est, fmax(mid / w[i].t_s, w[i].rate_floor));
        e->ws_est = fmax(e->ws_est, mid);
    }
    e->rate_lo = d_lo;
    e->ws_lo = ws_lo;
    e->rate_hi = INFINITY;
    e->ws_hi = ramd;
    e->need_hi_s = bw > 0 ? ramd / bw : INFINITY;
    /*
     * The floor holds for any guest whose W(t) / t does not grow with t
     * (a page dirtied twice counts once): d_lo and ws_lo are bounds on
     * the truth whatever the shape, and R* grows with both.
     */
    e->need_lo_s =
        bw > 0 ? settles(d_lo, d_lo > 0 ? ws_lo / d_lo : 0, bw) / bw : 0;
    if (k == 0 || !(bw > 0)) {
        e->steady = k > 0;
        return;
    }
    scan(w, k, ramd, bw, t_max, false, &sc);
    scan(w, k, ramd, bw, t_max, true, &soft);
    if (soft.feasible) {
        sc.f_hi = soft.f_hi;
        sc.d_hi = soft.d_hi;
        sc.ws_hi = soft.ws_hi;
    }
    e->steady = sc.feasible;
    if (!sc.feasible) {
        return;
    }
    e->rate_hi = sc.d_hi;
    e->ws_hi = fmin(ramd, sc.ws_hi);
    e->need_hi_s = sc.f_hi / bw;
    e->need_lo_s = fmax(e->need_lo_s, 0);
}
