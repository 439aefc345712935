/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: --policy nova, Nova's libvirt driver monitor loop, exactly. */
#include <math.h>
#include <stdio.h>

#include "policy/internal.h"

/*
 * nova/virt/libvirt/migration.py downtime_steps(): a linear ramp, steps+1
 * entries.  Python's int() truncates toward zero, like the casts here.
 */
void
policy_internal_nova_step_value(const struct policy_config *cfg, double data_gb,
                                unsigned i, int64_t *time_s,
                                uint64_t *downtime_ms)
{
    double downtime = (double)cfg->downtime_ms;
    double steps = (double)cfg->downtime_steps;
    int64_t delay = (int64_t)(cfg->downtime_delay_s * data_gb);
    double base = downtime / steps;
    double offset = (downtime - base) / steps;

    *time_s = delay * (int64_t)i;
    *downtime_ms = policy_internal_u64(base + offset * (double)i);
}

/* update_downtime(): the last step whose mark is strictly below elapsed. */
static void
nova_downtime(const struct policy_config *cfg, struct policy_state *st,
              const struct policy_sample *s, double elapsed,
              struct policy_output *out)
{
    struct policy_nova_state *ns = &st->nova;
    int64_t mark = 0, this_mark = -1;
    uint64_t ms = 0, this_ms = 0;
    unsigned i, this_i = 0;

    for (i = 0; i <= cfg->downtime_steps; i++) {
        policy_internal_nova_step_value(cfg, ns->data_gb, i, &mark, &ms);
        if (elapsed > (double)mark) {
            this_mark = mark;
            this_ms = ms;
            this_i = i;
        }
    }
    if (this_mark < 0 || this_ms == ns->downtime_ms) {
        return;
    }
    if (policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME, this_ms,
                             "elapsed %.1f s > step %u at %lld s "
                             "(data %.1f GiB): downtime %llu ms",
                             elapsed, this_i, (long long)this_mark, ns->data_gb,
                             (unsigned long long)this_ms) != NULL) {
        ns->downtime_ms = this_ms;
        st->downtime_ms = this_ms;
    }
}

/*
 * should_trigger_timeout_action() as it was with the progress timeout
 * (Nova 2015-2018): nothing when the completion timeout is 0 or post-copy
 * runs; then the progress rule; then the completion rule.
 */
static void
nova_timeouts(const struct policy_config *cfg, struct policy_state *st,
              const struct policy_sample *s, double elapsed,
              struct policy_output *out)
{
    struct policy_nova_state *ns = &st->nova;
    int64_t completion = (int64_t)(cfg->completion_timeout_s * ns->data_gb);
    uint64_t remaining = s->ram_remaining + s->disk_remaining;
    char why[POLICY_REASON_MAX];
    bool progress_on =
        cfg->progress_timeout_given && cfg->progress_timeout_s > 0;

    if (progress_on && (!ns->have_watermark || ns->watermark == 0 ||
                        ns->watermark > remaining)) {
        ns->have_watermark = true;
        ns->watermark = remaining;
        ns->t_watermark = s->t;
    }
    if (completion == 0 || st->postcopy_requested) {
        return;
    }
    if (progress_on && s->t - ns->t_watermark > cfg->progress_timeout_s) {
        snprintf(why, sizeof(why),
                 "remaining %.*f MB, low watermark %.*f MB set %.0f s ago "
                 "> progress timeout %.0f s",
                 policy_internal_mb_prec((double)remaining),
                 policy_internal_mb((double)remaining),
                 policy_internal_mb_prec((double)ns->watermark),
                 policy_internal_mb((double)ns->watermark),
                 s->t - ns->t_watermark, cfg->progress_timeout_s);
    } else if (elapsed > (double)completion) {
        snprintf(why, sizeof(why),
                 "elapsed %.1f s > completion timeout %lld s "
                 "(%g s/GiB x data %.1f GiB)",
                 elapsed, (long long)completion, cfg->completion_timeout_s,
                 ns->data_gb);
    } else {
        return;
    }
    policy_internal_timeout_action(cfg, st, s, out, why);
}

void
policy_internal_nova(const struct policy_config *cfg, struct policy_state *st,
                     const struct policy_sample *s, struct policy_output *out)
{
    double elapsed = policy_internal_elapsed(&st->track, s);

    if (st->cancelled || !policy_internal_running(s->status)) {
        return;
    }
    if (st->nova.data_gb == 0) {
        if (s->ram_total == 0) {
            return;
        }
        st->nova.data_gb =
            policy_internal_nova_data_gb(cfg, s->ram_total, s->disk_total);
    }
    nova_timeouts(cfg, st, s, elapsed, out);
    if (st->cancelled) {
        return;
    }
    nova_downtime(cfg, st, s, elapsed, out);
}
