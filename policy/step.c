/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: the entry points, state set-up, initial actions, one step. */
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

void
policy_state_init(struct policy_state *st, const struct policy_config *cfg)
{
    memset(st, 0, sizeof(*st));
    st->kind = cfg->kind;
    policy_internal_track_init(&st->track);
    policy_internal_vdsm_init(cfg, &st->vdsm);
    policy_internal_kubevirt_init(cfg, &st->kubevirt);
}

int
policy_initial_actions(const struct policy_config *cfg, struct policy_state *st,
                       struct policy_output *out)
{
    char why[POLICY_REASON_MAX] = "";
    uint64_t ms = 0;

    memset(out, 0, sizeof(*out));
    out->report.eta_s = -1;
    if (cfg->bandwidth == 0) {
        policy_internal_emit(out, NULL, POLICY_ACTION_SET_BANDWIDTH, 0,
                             "--bandwidth not given: unlimited (QEMU's "
                             "default is 128 MiB/s)");
    } else {
        policy_internal_emit(out, NULL, POLICY_ACTION_SET_BANDWIDTH,
                             cfg->bandwidth, "--bandwidth %.1f MiB/s",
                             (double)cfg->bandwidth / POLICY_MIB);
    }
    switch (cfg->kind) {
    case POLICY_ADAPTIVE:
        ms = cfg->downtime_initial_ms;
        snprintf(why, sizeof(why), "--downtime-initial");
        break;
    case POLICY_VDSM:
        ms = policy_internal_vdsm_init_downtime(cfg, &st->vdsm);
        snprintf(why, sizeof(why), "init action of schedule %s",
                 st->vdsm.schedule.name);
        break;
    case POLICY_PROXMOX:
        ms = POLICY_PROXMOX_INITIAL_MS;
        snprintf(why, sizeof(why), "proxmox's migrate_downtime 0.1 s");
        break;
    case POLICY_KUBEVIRT:
        ms = policy_internal_kubevirt_initial_ms(cfg);
        snprintf(why, sizeof(why),
                 "kubevirt's downtimeTuning initialMs, at most "
                 "maxDowntimeMs (--downtime)");
        break;
    case POLICY_NOVA: /* step 0 comes at the first poll */
    case POLICY_PRAY:
        break;
    }
    if (ms > 0 && policy_internal_emit(out, NULL, POLICY_ACTION_SET_DOWNTIME,
                                       ms, "%s: downtime %llu ms", why,
                                       (unsigned long long)ms) != NULL) {
        st->downtime_ms = ms;
    }
    return (int)out->n_actions;
}

void
policy_step(const struct policy_config *cfg, struct policy_state *st,
            const struct policy_sample *s, struct policy_output *out)
{
    out->n_actions = 0;
    policy_internal_track(&st->track, s);
    policy_internal_preflight_step(cfg, st, s, out);
    if (!migration_status_is_final(s->status)) {
        switch (cfg->kind) {
        case POLICY_ADAPTIVE:
            policy_internal_adaptive(cfg, st, s, out);
            break;
        case POLICY_NOVA:
            policy_internal_nova(cfg, st, s, out);
            break;
        case POLICY_VDSM:
            policy_internal_vdsm(cfg, st, s, out);
            break;
        case POLICY_PROXMOX:
            policy_internal_proxmox(cfg, st, s, out);
            break;
        case POLICY_KUBEVIRT:
            policy_internal_kubevirt(cfg, st, s, out);
            break;
        case POLICY_PRAY:
            break;
        }
    }
    policy_internal_report(cfg, st, s, &out->report);
}
