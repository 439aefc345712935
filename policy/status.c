/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: names of statuses, actions and policies, both ways. */
#include <string.h>

#include "policy/internal.h"

static const char *const status_names[] = {
    [MIGRATION_STATUS_NONE] = "none",
    [MIGRATION_STATUS_SETUP] = "setup",
    [MIGRATION_STATUS_CANCELLING] = "cancelling",
    [MIGRATION_STATUS_CANCELLED] = "cancelled",
    [MIGRATION_STATUS_ACTIVE] = "active",
    [MIGRATION_STATUS_POSTCOPY_ACTIVE] = "postcopy-active",
    [MIGRATION_STATUS_POSTCOPY_PAUSED] = "postcopy-paused",
    [MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP] = "postcopy-recover-setup",
    [MIGRATION_STATUS_POSTCOPY_RECOVER] = "postcopy-recover",
    [MIGRATION_STATUS_COMPLETED] = "completed",
    [MIGRATION_STATUS_FAILED] = "failed",
    [MIGRATION_STATUS_COLO] = "colo",
    [MIGRATION_STATUS_PRE_SWITCHOVER] = "pre-switchover",
    [MIGRATION_STATUS_DEVICE] = "device",
    [MIGRATION_STATUS_WAIT_UNPLUG] = "wait-unplug",
    [MIGRATION_STATUS_UNKNOWN] = "unknown",
};

#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *
migration_status_name(enum migration_status status)
{
    if ((size_t)status >= N_STATUS) {
        return "unknown";
    }
    return status_names[status];
}

enum migration_status
migration_status_from_name(const char *name)
{
    size_t i;

    if (name == NULL) {
        return MIGRATION_STATUS_UNKNOWN;
    }
    for (i = 0; i < N_STATUS; i++) {
        if (i != MIGRATION_STATUS_UNKNOWN &&
            strcmp(name, status_names[i]) == 0) {
            return (enum migration_status)i;
        }
    }
    return MIGRATION_STATUS_UNKNOWN;
}

bool
migration_status_is_final(enum migration_status status)
{
    return status == MIGRATION_STATUS_COMPLETED ||
           status == MIGRATION_STATUS_FAILED ||
           status == MIGRATION_STATUS_CANCELLED;
}

bool
migration_status_is_postcopy(enum migration_status status)
{
    return status == MIGRATION_STATUS_POSTCOPY_ACTIVE ||
           status == MIGRATION_STATUS_POSTCOPY_PAUSED ||
           status == MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP ||
           status == MIGRATION_STATUS_POSTCOPY_RECOVER;
}

const char *
policy_action_name(enum policy_action_kind kind)
{
    switch (kind) {
    case POLICY_ACTION_SET_DOWNTIME:
        return "set-downtime";
    case POLICY_ACTION_SET_BANDWIDTH:
        return "set-bandwidth";
    case POLICY_ACTION_AUTO_CONVERGE:
        return "auto-converge";
    case POLICY_ACTION_START_POSTCOPY:
        return "start-postcopy";
    case POLICY_ACTION_PAUSE:
        return "pause";
    case POLICY_ACTION_CANCEL:
        return "cancel";
    case POLICY_ACTION_DIRTY_LIMIT:
        return "dirty-limit";
    case POLICY_ACTION_BREAK_STREAM:
        return "migrate-pause";
    case POLICY_ACTION_RECOVER:
        return "migrate-recover";
    case POLICY_ACTION_RESUME:
        return "migrate-resume";
    }
    return "unknown";
}

bool
policy_action_has_value(enum policy_action_kind kind)
{
    return kind == POLICY_ACTION_SET_DOWNTIME ||
           kind == POLICY_ACTION_SET_BANDWIDTH ||
           kind == POLICY_ACTION_DIRTY_LIMIT;
}

static const char *const kind_names[] = {
    [POLICY_ADAPTIVE] = "adaptive", [POLICY_NOVA] = "nova",
    [POLICY_VDSM] = "vdsm",         [POLICY_PROXMOX] = "proxmox",
    [POLICY_PRAY] = "pray",         [POLICY_KUBEVIRT] = "kubevirt",
};

#define N_KIND (sizeof(kind_names) / sizeof(kind_names[0]))

const char *
policy_kind_name(enum policy_kind kind)
{
    if ((size_t)kind >= N_KIND) {
        return "unknown";
    }
    return kind_names[kind];
}

int
policy_kind_from_name(const char *name, enum policy_kind *kind)
{
    size_t i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < N_KIND; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *kind = (enum policy_kind)i;
            return 0;
        }
    }
    return -1;
}
