/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: auto-converge, QEMU's rule for throttling the guest's CPU. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>

/* mig_throttle_guest_down(): start at the initial %, then step up. */
static void
throttle_down(struct fq_model *m, double dirty, double threshold)
{
    const struct fq_params *p = &m->params;
    int inc = p->cpu_throttle_increment;
    int pct;

    if (m->throttle == 0) {
        m->throttle = p->cpu_throttle_initial;
        return;
    }
    if (p->cpu_throttle_tailslow && dirty > 0) {
        /* the CPU share that would bring dirtying down to the threshold */
        double cpu_now = 100 - m->throttle;
        double cpu_ideal = cpu_now * (threshold / dirty);
        double step = cpu_now - floor(cpu_ideal);

        if (step < inc) {
            inc = step < 0 ? 0 : (int)step;
        }
    }
    pct = m->throttle + inc;
    if (pct > p->max_cpu_throttle) {
        pct = p->max_cpu_throttle;
    }
    m->throttle = pct;
}

/*
 * migration_trigger_throttle(), at a sync that closes a period of a
 * second or more: when the guest dirtied more than
 * throttle-trigger-threshold % of what was sent in the period, twice
 * (counted over any number of periods), throttle or throttle harder.
 * Not during the bulk phase of block migration.
 */
void
fq_throttle_trigger(struct fq_model *m)
{
    double xfer = m->ram_bytes - m->period_bytes_prev;
    double dirty = m->period_new_pages * (double)m->cfg.page_size;
    double threshold = xfer * m->params.throttle_trigger_threshold / 100;

    if ((!m->caps.auto_converge && !m->caps.dirty_limit) ||
        (m->blk && !m->bulk_completed)) {
        return;
    }
    if (dirty > threshold && ++m->high_count >= 2) {
        m->high_count = 0;
        if (m->caps.dirty_limit) {
            fq_dirty_limit_trigger(m); /* 8.1+: instead of the throttle */
        } else {
            throttle_down(m, dirty, threshold);
        }
    }
}
