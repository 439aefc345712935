/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: the baselines for benchmarks, proxmox's doubling (pray never acts).
 */
#include "policy/internal.h"

/* Proxmox VE's cap, QEMU's downtime-limit maximum. */
#define PROXMOX_MAX_MS POLICY_DOWNTIME_MAX_MS
#define PROXMOX_COUNT 5

/*
 * qemu-server src/PVE/QemuMigrate.pm, phase2's query-migrate loop: on a
 * poll where RAM transferred changed, the counter rises if RAM remaining
 * grew (from a non-zero last value) or is 0; above 5 it resets and the
 * downtime limit doubles, up to 2,000,000 ms.  No timeout, no abort.
 */
void
policy_internal_proxmox(const struct policy_config *cfg,
                        struct policy_state *st, const struct policy_sample *s,
                        struct policy_output *out)
{
    struct policy_proxmox_state *ps = &st->proxmox;
    uint64_t rem = s->ram_remaining;
    uint64_t ms;

    (void)cfg;
    if (!policy_internal_running(s->status)) {
        return;
    }
    if (s->ram_transferred != ps->last_transferred) {
        if ((ps->last_remaining != 0 && rem > ps->last_remaining) || rem == 0) {
            ps->counter++;
        }
        ps->last_remaining = rem;
        if (ps->counter > PROXMOX_COUNT) {
            ps->counter = 0;
            if (st->downtime_ms < PROXMOX_MAX_MS) {
                ms = st->downtime_ms * 2;
                if (ms > PROXMOX_MAX_MS) {
                    ms = PROXMOX_MAX_MS;
                }
                if (policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME, ms,
                                         "remaining grew on %d polls "
                                         "(now %.0f MB): downtime %llu ms "
                                         "doubled to %llu ms",
                                         PROXMOX_COUNT + 1,
                                         policy_internal_mb((double)rem),
                                         (unsigned long long)st->downtime_ms,
                                         (unsigned long long)ms) != NULL) {
                    st->downtime_ms = ms;
                }
            }
        }
    }
    ps->last_transferred = s->ram_transferred;
}
