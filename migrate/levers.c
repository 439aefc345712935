/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/levers: a policy's actions, booked and carried out. */
#include <string.h>

#include "migrate/levers.h"

void
levers_init(struct levers *l, uint64_t downtime_ms, uint64_t bandwidth,
            bool auto_converge_permitted)
{
    memset(l, 0, sizeof(*l));
    l->downtime_ms = l->downtime_before = downtime_ms;
    l->bandwidth = l->bandwidth_before = bandwidth;
    l->auto_converge_permitted = auto_converge_permitted;
}

/* Pulls a lever that is there. */
#define PULL(ops, lever, ...)                                                  \
    do {                                                                       \
        if ((ops)->lever != NULL) {                                            \
            (ops)->lever(__VA_ARGS__);                                         \
        }                                                                      \
    } while (0)

void
levers_apply(struct levers *l, const struct levers_ops *ops, void *opaque,
             const struct policy_action *a)
{
    switch (a->kind) {
    case POLICY_ACTION_SET_DOWNTIME:
        l->downtime_before = l->downtime_ms;
        l->downtime_ms = a->value;
        PULL(ops, set_downtime, opaque, a->value);
        break;
    case POLICY_ACTION_SET_BANDWIDTH:
        l->bandwidth_before = l->bandwidth;
        l->bandwidth = a->value;
        PULL(ops, set_bandwidth, opaque, a->value);
        break;
    case POLICY_ACTION_AUTO_CONVERGE:
        if (!l->auto_converge_permitted) {
            PULL(ops, skipped, opaque,
                 "the policy asked for auto-converge, which --auto-converge "
                 "did not permit");
            break;
        }
        PULL(ops, auto_converge, opaque);
        break;
    case POLICY_ACTION_START_POSTCOPY:
        l->postcopy_requested = true;
        PULL(ops, start_postcopy, opaque);
        break;
    case POLICY_ACTION_PAUSE:
        if (!l->paused) {
            l->paused = true;
            PULL(ops, pause, opaque);
        }
        break;
    case POLICY_ACTION_CANCEL:
        PULL(ops, cancel, opaque, a->reason);
        break;
    case POLICY_ACTION_DIRTY_LIMIT:
        if (!l->dirty_limit_permitted) {
            PULL(ops, skipped, opaque,
                 "the policy asked for dirty-limit, which --dirty-limit did "
                 "not permit");
            break;
        }
        l->dirty_limit_before = l->dirty_limit_mib_s;
        l->dirty_limit_mib_s = a->value;
        PULL(ops, dirty_limit, opaque, a->value);
        break;
    case POLICY_ACTION_BREAK_STREAM:
    case POLICY_ACTION_RECOVER:
    case POLICY_ACTION_RESUME:
        break; /* the engine's own steps, carried out where they are told */
    }
}

void
levers_refused(struct levers *l, enum policy_action_kind kind)
{
    if (kind == POLICY_ACTION_SET_DOWNTIME) {
        l->downtime_ms = l->downtime_before;
    } else if (kind == POLICY_ACTION_SET_BANDWIDTH) {
        l->bandwidth = l->bandwidth_before;
    } else if (kind == POLICY_ACTION_DIRTY_LIMIT) {
        l->dirty_limit_mib_s = l->dirty_limit_before;
    }
}
