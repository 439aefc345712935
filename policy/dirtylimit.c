/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: adaptive's dirty-limit rung: the per-vCPU limit that makes the
 * migration converge within the allowed downtime (docs/policy.md). */
#include <math.h>

#include "policy/internal.h"

/*
 * The model and the reasons for these numbers are in docs/policy.md,
 * "dirty-limit".
 */
#define DL_PASSES 2        /* converge within this many more passes */
#define DL_MARGIN 1.25     /* on the switch-over threshold, as adaptive's */
#define DL_MAX_RATIO 0.5   /* each pass leaves at most half of the last */
#define DL_BITE 0.5        /* at most half the measured rate: it must bite */
#define DL_FLOOR_MIB 1     /* QEMU's least vcpu-dirty-limit */
#define DL_SETTLE_PASSES 1 /* passes a new limit gets before it is judged */
/* The share of --downtime the last pass may fill (the rest: device state). */
#define DL_DOWNTIME_SHARE 0.9

/*
 * A guest dirtying D bytes/s while B bytes/s go out leaves, at each pass,
 * D/B of what the pass before left (as long as that is below its working
 * set).  To fit in the downtime L within K more passes from R left now:
 * (D/B)^K * R <= B * L / MARGIN, so D/B = (B * L / (MARGIN * R))^(1/K),
 * at most one half; D at most half the measured rate, so that the limit
 * bites; shared by the vCPUs; in MiB/s, QEMU's unit, at least 1.
 */
uint64_t
policy_internal_dirty_limit_mib(double rem, double bw, double allowed_s,
                                double dirty, unsigned vcpus)
{
    double ratio = DL_MAX_RATIO;
    double total, per_vcpu;

    if (rem > 0 && bw > 0 && allowed_s > 0) {
        ratio = fmin(DL_MAX_RATIO,
                     pow(bw * allowed_s / (DL_MARGIN * rem), 1.0 / DL_PASSES));
    }
    total = ratio * bw;
    if (dirty > 0) {
        total = fmin(total, DL_BITE * dirty);
    }
    per_vcpu = floor(total / (vcpus > 0 ? vcpus : 1) / POLICY_MIB);
    return per_vcpu < DL_FLOOR_MIB ? DL_FLOOR_MIB
                                   : policy_internal_u64(per_vcpu);
}

/*
 * A limited guest converges to QEMU's threshold itself, so the last pass
 * carries up to the whole limit in force, and the device state comes on
 * top: with dirty-limit permitted, escalation raises the limit to 90 % of
 * --downtime, not all of it, so that both fit.
 */
uint64_t
policy_internal_escalation_downtime(const struct policy_config *cfg)
{
    uint64_t ms;

    if (!cfg->dirty_limit_permitted) {
        return cfg->downtime_ms;
    }
    ms = (uint64_t)((double)cfg->downtime_ms * DL_DOWNTIME_SHARE / 10.0) * 10;
    return ms > 0 ? ms : cfg->downtime_ms;
}

bool
policy_internal_dirty_limit(const struct policy_config *cfg,
                            struct policy_state *st,
                            const struct policy_sample *s,
                            struct policy_output *out,
                            const struct policy_internal_stall *stall)
{
    struct policy_dirty_limit_state *dl = &st->adaptive.dl;
    unsigned vcpus = cfg->vcpus > 0 ? cfg->vcpus : 1;
    uint64_t mib;

    if (!cfg->dirty_limit_permitted || dl->exhausted) {
        return false;
    }
    if (dl->mib_s != 0 && stall->sync <= dl->set_sync + DL_SETTLE_PASSES) {
        return true; /* the pass it was set in dirtied at the old rate */
    }
    mib = policy_internal_dirty_limit_mib(stall->rem, stall->bw,
                                          (double)cfg->downtime_ms / 1000.0,
                                          stall->dirty, vcpus);
    if (dl->mib_s != 0) {
        /* still stalled under the limit: tighten it, down to the floor */
        if (dl->mib_s <= DL_FLOOR_MIB) {
            dl->exhausted = true;
            return false;
        }
        if (mib >= dl->mib_s) {
            mib = dl->mib_s / 2 > DL_FLOOR_MIB ? dl->mib_s / 2 : DL_FLOOR_MIB;
        }
    }
    if (policy_internal_emit(
            out, s, POLICY_ACTION_DIRTY_LIMIT, mib,
            "%s: dirty-limit %llu MiB/s on each of %u "
            "vCPU%s%s",
            stall->why, (unsigned long long)mib, vcpus, vcpus == 1 ? "" : "s",
            dl->mib_s != 0 ? " (still stalled: lower)" : "") == NULL) {
        return true;
    }
    if (dl->mib_s != 0) {
        dl->tightened++;
    }
    dl->mib_s = mib;
    dl->set_sync = stall->sync;
    return true;
}
