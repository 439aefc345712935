/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: QEMU's names for migration statuses and run states. */
#include "tests/fake-qemu/model.h"

#include <string.h>

static const char *const status_names[FQ_STATUS__MAX] = {
    [FQ_STATUS_NONE] = "none",
    [FQ_STATUS_SETUP] = "setup",
    [FQ_STATUS_CANCELLING] = "cancelling",
    [FQ_STATUS_CANCELLED] = "cancelled",
    [FQ_STATUS_ACTIVE] = "active",
    [FQ_STATUS_POSTCOPY_ACTIVE] = "postcopy-active",
    [FQ_STATUS_POSTCOPY_PAUSED] = "postcopy-paused",
    [FQ_STATUS_POSTCOPY_RECOVER] = "postcopy-recover",
    [FQ_STATUS_COMPLETED] = "completed",
    [FQ_STATUS_FAILED] = "failed",
    [FQ_STATUS_COLO] = "colo",
    [FQ_STATUS_PRE_SWITCHOVER] = "pre-switchover",
    [FQ_STATUS_DEVICE] = "device",
    [FQ_STATUS_WAIT_UNPLUG] = "wait-unplug",
};

static const char *const runstate_names[FQ_RUN__MAX] = {
    [FQ_RUN_RUNNING] = "running",
    [FQ_RUN_PAUSED] = "paused",
    [FQ_RUN_FINISH_MIGRATE] = "finish-migrate",
    [FQ_RUN_POSTMIGRATE] = "postmigrate",
    [FQ_RUN_INMIGRATE] = "inmigrate",
};

const char *
fq_status_name(enum fq_status s)
{
    if ((unsigned)s >= FQ_STATUS__MAX) {
        return NULL;
    }
    return status_names[s];
}

int
fq_status_from_name(const char *name)
{
    int i;

    for (i = 0; i < FQ_STATUS__MAX; i++) {
        if (strcmp(status_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *
fq_runstate_name(enum fq_runstate r)
{
    if ((unsigned)r >= FQ_RUN__MAX) {
        return NULL;
    }
    return runstate_names[r];
}
