/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: calc-dirty-rate's measurement of the guest, and its noise. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * QEMU 7.2's migration/dirtyrate.c, read for behaviour: page-sampling
 * picks (RAM × sample-pages) >> 30 random pages (with replacement),
 * hashes them, waits until calc-time has passed since it began hashing,
 * hashes them again and reports changed × RAM MiB × 1000 / (sampled ×
 * ms) in MiB/s.  Each page's window is calc-time long, shifted by when it
 * was hashed: the model takes the window from the middle of the first
 * hashing to the middle of the second.  dirty-bitmap counts every page
 * dirtied in calc-time; dirty-ring counts the ring's entries, and KVM
 * resets the ring when it fills and once a second (its reaper), so a page
 * rewritten after a reset counts again.  docs/fake-qemu.md has the
 * calibration against QEMU 7.2.
 */

#define RING_REAP_S 1.0
/* Above this many draws the count is drawn from the normal law. */
#define EXACT_DRAWS_MAX 20000

/* splitmix64: a seed and a counter give the same draws every run. */
static uint64_t
mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double
uniform(uint64_t *x)
{
    return ((double)(mix(x) >> 11) + 0.5) / 9007199254740992.0;
}

/* Binomial(n, p): exact below EXACT_DRAWS_MAX draws, else normal. */
static uint64_t
binomial(uint64_t *x, uint64_t n, double p)
{
    double mean, sd, z, k;
    uint64_t i, hits = 0;

    if (n == 0 || p <= 0) {
        return 0;
    }
    if (p >= 1) {
        return n;
    }
    if (n <= EXACT_DRAWS_MAX) {
        for (i = 0; i < n; i++) {
            hits += uniform(x) < p;
        }
        return hits;
    }
    mean = (double)n * p;
    sd = sqrt(mean * (1 - p));
    z = sqrt(-2 * log(uniform(x))) * cos(2 * M_PI * uniform(x));
    k = floor(mean + sd * z + 0.5);
    if (k < 0) {
        return 0;
    }
    return k > (double)n ? n : (uint64_t)k;
}

static uint64_t
sample_count(const struct fq_model *m)
{
    return (m->cfg.ram_bytes * m->dirty.args.sample_pages) >> 30;
}

int
fq_model_calc_dirty_rate(struct fq_model *m, const struct fq_dirty_args *a,
                         struct fq_error *err)
{
    struct fq_dirty_state *d = &m->dirty;
    double period, hash = 0;
    uint64_t pages =
        a->has_sample_pages ? a->sample_pages : FQ_DIRTY_SAMPLE_PAGES_DEFAULT;

    /* QEMU's thread says "measuring" a moment after the command */
    if (d->status == FQ_DIRTY_MEASURING && m->now > d->start) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc),
                 "the dirty rate is already being measured.");
        return -1;
    }
    if (a->has_sample_pages && a->before_80 && a->mode == FQ_DIRTY_RING) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc),
                 "either sample-pages or dirty-ring can be specified.");
        return -1;
    }
    if (a->has_sample_pages && !a->before_80 &&
        a->mode != FQ_DIRTY_PAGE_SAMPLING) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc),
                 "sample-pages is used only in page-sampling mode");
        return -1;
    }
    if (pages < FQ_DIRTY_SAMPLE_PAGES_MIN ||
        pages > FQ_DIRTY_SAMPLE_PAGES_MAX) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc),
                 "sample-pages is out of range[%d, %d].",
                 FQ_DIRTY_SAMPLE_PAGES_MIN, FQ_DIRTY_SAMPLE_PAGES_MAX);
        return -1;
    }
    if ((a->mode == FQ_DIRTY_RING) != m->cfg.dirty_ring &&
        a->mode != FQ_DIRTY_PAGE_SAMPLING) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc),
                 "mode %s is not enabled, use other method instead.",
                 fq_dirty_mode_name(a->mode));
        return -1;
    }
    memset(&d->args, 0, sizeof(d->args));
    d->args = *a;
    d->args.sample_pages = pages;
    d->status = FQ_DIRTY_MEASURING;
    d->start = m->now;
    d->ws_pages = 0;
    d->ring_pages = 0;
    d->ring_fill = 0;
    d->rate = -1;
    d->count++;
    period = (double)a->calc_time_ms / 1000;
    if (a->mode == FQ_DIRTY_PAGE_SAMPLING) {
        hash = (double)sample_count(m) * (double)m->cfg.page_size /
               m->cfg.hash_rate;
    }
    /* QEMU waits calc-time from before its first hashing, at least. */
    if (hash > period) {
        period = hash;
    }
    d->calc_ms = (int64_t)floor(period * 1000 + 1e-6);
    d->win_start = m->now + hash / 2;
    d->win_end = d->win_start + period;
    d->done = m->now + period + hash;
    return 0;
}

/* The distinct pages a walker adds over its working set, capped. */
static double
walk(double have, double add, double ws)
{
    return fmin(ws, have + add);
}

/* Ring entries: pages written since KVM last reset them. */
static void
ring_run(struct fq_model *m, double from, double to, double rate)
{
    struct fq_dirty_state *d = &m->dirty;
    double ring = (double)m->cfg.dirty_ring_size;

    while (from < to) {
        double since = from - d->win_start;
        double next =
            d->win_start + (floor(since / RING_REAP_S) + 1) * RING_REAP_S;
        double end = fmin(to, next);
        double before = d->ring_fill;

        d->ring_fill = walk(d->ring_fill, rate * (end - from), m->pages_ws);
        if (m->pages_ws > ring) {
            /* the ring fills before the walk comes round: every write */
            d->ring_pages += rate * (end - from);
        } else {
            d->ring_pages += d->ring_fill - before;
        }
        if (end >= next) {
            d->ring_fill = 0;
        }
        from = end;
    }
}

void
fq_dirty_guest_run(struct fq_model *m, double dt, double run)
{
    struct fq_dirty_state *d = &m->dirty;
    double from = fmax(m->now, d->win_start);
    double to = fmin(m->now + dt, d->win_end);
    double rate = fmin(m->dirty_rate * run, fq_dirty_rate_now(m));

    if (d->status != FQ_DIRTY_MEASURING || to <= from) {
        return;
    }
    d->ws_pages = walk(d->ws_pages, rate * (to - from), m->pages_ws);
    if (d->args.mode == FQ_DIRTY_RING) {
        ring_run(m, from, to, rate);
    }
}

/* QEMU's integer arithmetic: MiB first, then per second. */
static int64_t
rate_of(double pages, const struct fq_model *m, int64_t ms)
{
    uint64_t mib = ((uint64_t)floor(pages) * m->cfg.page_size) >> 20;

    return ms > 0 ? (int64_t)(mib * 1000 / (uint64_t)ms) : 0;
}

void
fq_dirty_settle(struct fq_model *m)
{
    struct fq_dirty_state *d = &m->dirty;
    uint64_t n, hits, x;
    uint64_t mib = m->cfg.ram_bytes >> 20;

    if (d->status != FQ_DIRTY_MEASURING || m->now < d->done - 1e-9) {
        return;
    }
    d->status = FQ_DIRTY_MEASURED;
    switch (d->args.mode) {
    case FQ_DIRTY_PAGE_SAMPLING:
        n = sample_count(m);
        if (n == 0) {
            d->rate = -1; /* QEMU sampled nothing and left it unset */
            break;
        }
        x = m->cfg.seed * 0x100000001B3ull + d->count;
        hits = binomial(&x, n, d->ws_pages / m->pages_total);
        d->rate = (int64_t)(hits * mib * 1000 / (n * (uint64_t)d->calc_ms));
        break;
    case FQ_DIRTY_BITMAP:
        d->rate = rate_of(d->ws_pages, m, d->calc_ms);
        break;
    case FQ_DIRTY_RING:
        d->rate = rate_of(d->ring_pages, m, d->calc_ms);
        break;
    }
}

void
fq_model_query_dirty_rate(const struct fq_model *m, struct fq_dirty_info *info)
{
    const struct fq_dirty_state *d = &m->dirty;

    memset(info, 0, sizeof(*info));
    info->status = d->status;
    if (d->status == FQ_DIRTY_MEASURING && m->now <= d->start) {
        info->status = FQ_DIRTY_UNSTARTED;
    }
    info->start_time = d->start;
    info->calc_time_ms = d->args.calc_time_ms;
    info->sample_pages = d->args.sample_pages;
    info->mode = d->args.mode;
    if (d->status != FQ_DIRTY_MEASURED) {
        return;
    }
    /* once measured, calc-time is what QEMU actually waited */
    info->calc_time_ms = d->calc_ms;
    info->has_dirty_rate = true;
    info->dirty_rate = d->rate;
    if (d->args.mode != FQ_DIRTY_PAGE_SAMPLING) {
        info->sample_pages = 0;
    }
    if (d->args.mode == FQ_DIRTY_RING) {
        info->has_vcpu_dirty_rate = true;
        info->vcpu_dirty_rate = d->rate;
    }
}

void
fq_model_set_working_set(struct fq_model *m, uint64_t bytes)
{
    double ps = (double)m->cfg.page_size;
    double want = floor((double)bytes / ps);
    double room = m->pages_total - m->pages_zero;
    double moved;

    want = fmin(want, room);
    if (want > m->pages_ws) {
        /* static pages join: as dirty as static pages are on average */
        moved = want - m->pages_ws;
        if (m->pages_static > 0) {
            double share = m->dirty_static / m->pages_static;

            m->dirty_ws += moved * share;
            m->dirty_static -= moved * share;
        }
    } else if (want < m->pages_ws) {
        moved = m->pages_ws - want;
        if (m->pages_ws > 0) {
            double share = m->dirty_ws / m->pages_ws;

            m->dirty_static += moved * share;
            m->dirty_ws -= moved * share;
            m->log_ws = fmin(m->log_ws, want);
            m->dirty.ws_pages = fmin(m->dirty.ws_pages, want);
        }
    }
    m->pages_ws = want;
    m->pages_static = m->pages_total - m->pages_ws - m->pages_zero;
    m->cfg.working_set_bytes = (uint64_t)(want * ps);
}

const char *
fq_dirty_mode_name(enum fq_dirty_mode mode)
{
    switch (mode) {
    case FQ_DIRTY_PAGE_SAMPLING:
        return "page-sampling";
    case FQ_DIRTY_BITMAP:
        return "dirty-bitmap";
    case FQ_DIRTY_RING:
        return "dirty-ring";
    }
    return NULL;
}

int
fq_dirty_mode_from_name(const char *name)
{
    int i;

    for (i = FQ_DIRTY_PAGE_SAMPLING; i <= FQ_DIRTY_RING; i++) {
        if (name != NULL &&
            strcmp(name, fq_dirty_mode_name((enum fq_dirty_mode)i)) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
fq_dirty_status_name(enum fq_dirty_status s)
{
    switch (s) {
    case FQ_DIRTY_UNSTARTED:
        return "unstarted";
    case FQ_DIRTY_MEASURING:
        return "measuring";
    case FQ_DIRTY_MEASURED:
        return "measured";
    }
    return NULL;
}
