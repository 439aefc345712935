/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the scenario keys of the newer levers (vCPUs, dirty ring,
 * channels, post-copy faults) and of a destination. */
#include "tests/fake-qemu/fake.h"

#include <stdlib.h>
#include <string.h>

static int
bad(struct fq_error *err, const char *key, const char *value, const char *want)
{
    fq_error_set(err, "GenericError", "--%s: '%s' is not %s", key, value, want);
    return -1;
}

/* A whole number within lo..hi. */
static int
parse_uint(const char *value, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long x;

    if (value[0] < '0' || value[0] > '9') {
        return -1;
    }
    x = strtoul(value, &end, 10);
    if (*end != '\0' || x < lo || x > hi) {
        return -1;
    }
    *out = (unsigned)x;
    return 0;
}

int
fq_scenario_set_levers(struct fq_model_config *c, const char *key,
                       const char *value, struct fq_error *err)
{
    double x;

    if (strcmp(key, "vcpus") == 0) {
        return parse_uint(value, 1, 4096, &c->vcpus) < 0
                   ? bad(err, key, value, "a number of vCPUs, 1 to 4096")
                   : 1;
    }
    if (strcmp(key, "dirty-ring-size") == 0) {
        /* the same as --dirty-ring (dirtyrate.c) */
        return fq_dirtyrate_set_model(c, "dirty-ring", value, err);
    }
    if (strcmp(key, "channel-rate") == 0) {
        if (fq_parse_rate(value, &x) < 0) {
            return bad(err, key, value, "a rate (like 500M, 2gbit)");
        }
        c->channel_rate = x;
        return 1;
    }
    if (strcmp(key, "fault-rtt") == 0) {
        if (fq_parse_duration(value, &x) < 0) {
            return bad(err, key, value, "a duration (like 0.2ms, 1ms)");
        }
        c->fault_rtt = x;
        return 1;
    }
    if (strcmp(key, "incoming") == 0) {
        if (strcmp(value, "defer") != 0) {
            return bad(err, key, value, "'defer'");
        }
        c->incoming = true;
        return 1;
    }
    return 0;
}
