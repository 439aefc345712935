/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/options: every option by its long name, for the command line and the
 * config file. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/util.h"

#define CMD_POLICY (CMD_MIGRATE | CMD_WATCH | CMD_EVACUATE | CMD_REPLAY)
#define CMD_LIVE (CMD_MIGRATE | CMD_WATCH | CMD_CANCEL | CMD_EVACUATE)
#define CMD_ALL (CMD_LIVE | CMD_REPLAY | CMD_PLOT)

const struct option_spec option_specs[] = {
    {"source", 0, true, CMD_MIGRATE | CMD_WATCH | CMD_CANCEL, "QMP",
     "the source QEMU's monitor"},
    {"to", 0, true, CMD_MIGRATE, "URI", "where QEMU sends the migration"},
    {"dest", 0, true, CMD_MIGRATE | CMD_WATCH, "QMP",
     "the destination's monitor"},
    {"plan", 0, true, CMD_EVACUATE, "FILE", "the evacuation plan (INI)"},
    {"max-parallel", 0, true, CMD_EVACUATE, "N", "migrations at once (4)"},
    {"policy", 0, true, CMD_POLICY, "NAME",
     "adaptive (default), nova, vdsm, proxmox, pray"},
    {"downtime", 0, true, CMD_POLICY, "MS", "final downtime limit (500)"},
    {"downtime-initial", 0, true, CMD_POLICY, "MS",
     "adaptive's starting limit (300)"},
    {"downtime-steps", 0, true, CMD_POLICY, "N", "nova/vdsm steps (10)"},
    {"downtime-delay", 0, true, CMD_POLICY, "S",
     "nova/vdsm seconds per GiB between steps (75)"},
    {"completion-timeout", 0, true, CMD_POLICY, "S",
     "seconds per GiB before the timeout action (800; 0 off)"},
    {"progress-timeout", 0, true, CMD_POLICY, "S",
     "seconds without progress before it (150; 0 off)"},
    {"timeout-action", 0, true, CMD_POLICY, "ACTION",
     "abort (default) or force-complete"},
    {"bandwidth", 0, true, CMD_POLICY, "MIB_PER_S",
     "max-bandwidth (0: unlimited, the default)"},
    {"schedule", 0, true, CMD_POLICY, "NAME|FILE", "vdsm convergence schedule"},
    {"auto-converge", 0, false, CMD_POLICY, NULL,
     "permit QEMU's CPU throttling"},
    {"postcopy", 0, false, CMD_POLICY, NULL, "permit post-copy"},
    {"disk", 0, true, CMD_MIGRATE | CMD_EVACUATE, "none|blk|mirror",
     "copy local disks too (none)"},
    {"disk-include", 0, true, CMD_MIGRATE | CMD_EVACUATE, "DEV[,DEV...]",
     "copy only these disks (default: every writable one)"},
    {"nbd", 0, true, CMD_MIGRATE | CMD_EVACUATE, "unix:PATH|tcp:HOST:PORT",
     "where the destination serves NBD (--disk mirror)"},
    {"tls-creds", 0, true, CMD_MIGRATE | CMD_EVACUATE, "ID",
     "encrypt with QEMU's tls-creds object ID (on both sides)"},
    {"tls-dir", 0, true, CMD_MIGRATE | CMD_EVACUATE, "DIR",
     "encrypt: create tls-creds-x509 objects from DIR"},
    {"tls-hostname", 0, true, CMD_MIGRATE | CMD_EVACUATE, "NAME",
     "the name the destination's certificate must carry"},
    {"interval", 0, true, CMD_LIVE, "MS", "poll period (500)"},
    {"trace", 0, true, CMD_MIGRATE | CMD_WATCH, "FILE",
     "record every sample and action"},
    {"metrics", 0, true, CMD_MIGRATE | CMD_WATCH | CMD_EVACUATE, "FILE",
     "Prometheus text file of the current figures"},
    {"resume", 0, false, CMD_CANCEL, NULL,
     "resume a guest left paused on the source"},
    {"output", 'o', true, CMD_PLOT, "FILE", "the PNG to write"},
    {"json", 0, false, CMD_LIVE | CMD_REPLAY, NULL, "JSON lines on stdout"},
    {"quiet", 'q', false, CMD_ALL, NULL, "no progress for people"},
    {"verbose", 'v', false, CMD_ALL, NULL, "more detail (repeatable)"},
    {"greeting-timeout", 0, true, CMD_LIVE, "S",
     "wait for a monitor's greeting (3)"},
    {"command-timeout", 0, true, CMD_LIVE, "S", "wait for a QMP reply (30)"},
    {"cancel-timeout", 0, true, CMD_MIGRATE | CMD_CANCEL | CMD_EVACUATE, "S",
     "wait for QEMU to finish a cancel (60)"},
    {"config", 0, true, CMD_ALL, "FILE",
     "settings (default /etc/qmigrate.conf)"},
    {NULL, 0, false, 0, NULL, NULL},
};

const struct option_spec *
option_find(const char *name)
{
    const struct option_spec *spec;

    for (spec = option_specs; spec->name != NULL; spec++) {
        if (strcmp(spec->name, name) == 0) {
            return spec;
        }
    }
    return NULL;
}

void
options_init(struct qm_options *o)
{
    memset(o, 0, sizeof(*o));
    policy_config_init(&o->policy);
    o->interval_ms = 500;
    o->disk = DISK_NONE;
    o->greeting_timeout_s = 3.0;
    o->command_timeout_s = 30.0;
    o->cancel_timeout_s = 60.0;
    o->max_parallel = 4;
}

static int
set_text(char *dst, size_t size, const char *key, const char *value, char *err,
         size_t errlen)
{
    if (value[0] == '\0') {
        snprintf(err, errlen, "--%s: the value is empty", key);
        return -1;
    }
    if (strlen(value) >= size) {
        snprintf(err, errlen, "--%s: the value is longer than %zu bytes", key,
                 size - 1);
        return -1;
    }
    memcpy(dst, value, strlen(value) + 1);
    return 0;
}

static int
set_schedule(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    char *text;
    int rc;

    if (policy_schedule_profile(value, &o->policy.schedule) == 0) {
        return 0;
    }
    text = util_read_file(value, 1 << 20, err, errlen);
    if (text == NULL) {
        size_t used = strlen(err);

        snprintf(err + used, errlen - used,
                 " (--schedule takes a profile: minimal-downtime, "
                 "suspend-workload, post-copy, very-large-vms; or a file)");
        return -1;
    }
    rc = policy_schedule_parse(text, value, &o->policy.schedule, err, errlen);
    free(text);
    return rc;
}

int
options_set(struct qm_options *o, const char *key, const char *value, char *err,
            size_t errlen)
{
    struct policy_config *p = &o->policy;
    uint64_t u;
    double d;
    bool b;

    if (value == NULL) {
        value = "";
    }
    if (strcmp(key, "source") == 0) {
        return set_text(o->source, sizeof(o->source), key, value, err, errlen);
    }
    if (strcmp(key, "dest") == 0) {
        return set_text(o->dest, sizeof(o->dest), key, value, err, errlen);
    }
    if (strcmp(key, "to") == 0) {
        return set_text(o->uri, sizeof(o->uri), key, value, err, errlen);
    }
    if (strcmp(key, "trace") == 0) {
        return set_text(o->trace, sizeof(o->trace), key, value, err, errlen);
    }
    if (strcmp(key, "policy") == 0) {
        if (policy_kind_from_name(value, &p->kind) < 0) {
            snprintf(err, errlen,
                     "--policy: '%s' is not one of adaptive, nova, vdsm, "
                     "proxmox, pray",
                     value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "downtime") == 0) {
        if (util_parse_u64(key, value, 1, 2000000, &u, err, errlen) < 0) {
            return -1;
        }
        p->downtime_ms = u;
        return 0;
    }
    if (strcmp(key, "downtime-initial") == 0) {
        if (util_parse_u64(key, value, 1, 2000000, &u, err, errlen) < 0) {
            return -1;
        }
        p->downtime_initial_ms = u;
        return 0;
    }
    if (strcmp(key, "downtime-steps") == 0) {
        if (util_parse_u64(key, value, 1, 1000, &u, err, errlen) < 0) {
            return -1;
        }
        p->downtime_steps = (unsigned)u;
        return 0;
    }
    if (strcmp(key, "downtime-delay") == 0) {
        if (util_parse_double(key, value, 0, 1e6, &d, err, errlen) < 0) {
            return -1;
        }
        p->downtime_delay_s = d;
        return 0;
    }
    if (strcmp(key, "completion-timeout") == 0) {
        if (util_parse_double(key, value, 0, 1e7, &d, err, errlen) < 0) {
            return -1;
        }
        p->completion_timeout_s = d;
        return 0;
    }
    if (strcmp(key, "progress-timeout") == 0) {
        if (util_parse_double(key, value, 0, 1e7, &d, err, errlen) < 0) {
            return -1;
        }
        p->progress_timeout_s = d;
        p->progress_timeout_given = true;
        return 0;
    }
    if (strcmp(key, "timeout-action") == 0) {
        if (strcmp(value, "abort") == 0) {
            p->timeout_action = POLICY_TIMEOUT_ABORT;
        } else if (strcmp(value, "force-complete") == 0) {
            p->timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
        } else {
            snprintf(err, errlen,
                     "--timeout-action: '%s' is not abort or force-complete",
                     value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "bandwidth") == 0) {
        /* MiB/s; 0 means unlimited */
        if (util_parse_double(key, value, 0, 1e9, &d, err, errlen) < 0) {
            return -1;
        }
        p->bandwidth = (uint64_t)llround(d * 1048576.0);
        return 0;
    }
    if (strcmp(key, "schedule") == 0) {
        return set_schedule(o, value, err, errlen);
    }
    if (strcmp(key, "auto-converge") == 0) {
        if (util_parse_bool(key, value, &b, err, errlen) < 0) {
            return -1;
        }
        p->auto_converge_permitted = b;
        return 0;
    }
    if (strcmp(key, "postcopy") == 0) {
        if (util_parse_bool(key, value, &b, err, errlen) < 0) {
            return -1;
        }
        p->postcopy_permitted = b;
        return 0;
    }
    if (strcmp(key, "disk") == 0) {
        if (strcmp(value, "none") == 0) {
            o->disk = DISK_NONE;
        } else if (strcmp(value, "blk") == 0) {
            o->disk = DISK_BLK;
        } else if (strcmp(value, "mirror") == 0) {
            o->disk = DISK_MIRROR;
        } else {
            snprintf(err, errlen, "--disk: '%s' is not none, blk or mirror",
                     value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "interval") == 0) {
        if (util_parse_u64(key, value, 10, 600000, &u, err, errlen) < 0) {
            return -1;
        }
        o->interval_ms = (unsigned)u;
        return 0;
    }
    if (strcmp(key, "json") == 0) {
        return util_parse_bool(key, value, &o->json, err, errlen);
    }
    if (strcmp(key, "quiet") == 0) {
        return util_parse_bool(key, value, &o->quiet, err, errlen);
    }
    if (strcmp(key, "verbose") == 0) {
        if (util_parse_u64(key, value, 0, 3, &u, err, errlen) < 0) {
            return -1;
        }
        o->verbose = (int)u;
        return 0;
    }
    if (strcmp(key, "greeting-timeout") == 0) {
        return util_parse_double(key, value, 0.1, 3600, &o->greeting_timeout_s,
                                 err, errlen);
    }
    if (strcmp(key, "command-timeout") == 0) {
        return util_parse_double(key, value, 0.1, 86400, &o->command_timeout_s,
                                 err, errlen);
    }
    if (strcmp(key, "cancel-timeout") == 0) {
        return util_parse_double(key, value, 0.1, 86400, &o->cancel_timeout_s,
                                 err, errlen);
    }
    if (strcmp(key, "metrics") == 0) {
        return set_text(o->metrics, sizeof(o->metrics), key, value, err,
                        errlen);
    }
    if (strcmp(key, "plan") == 0) {
        return set_text(o->plan, sizeof(o->plan), key, value, err, errlen);
    }
    if (strcmp(key, "max-parallel") == 0) {
        if (util_parse_u64(key, value, 1, 10000, &u, err, errlen) < 0) {
            return -1;
        }
        o->max_parallel = (unsigned)u;
        return 0;
    }
    if (strcmp(key, "disk-include") == 0) {
        return set_text(o->disk_include, sizeof(o->disk_include), key, value,
                        err, errlen);
    }
    if (strcmp(key, "nbd") == 0) {
        return set_text(o->nbd, sizeof(o->nbd), key, value, err, errlen);
    }
    if (strcmp(key, "tls-creds") == 0) {
        if (strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789-_.") != strlen(value) ||
            !((value[0] >= 'a' && value[0] <= 'z') ||
              (value[0] >= 'A' && value[0] <= 'Z'))) {
            snprintf(err, errlen,
                     "--tls-creds: '%.60s' is not a QEMU object id (a letter, "
                     "then letters, digits, '-', '_', '.')",
                     value);
            return -1;
        }
        return set_text(o->tls_creds, sizeof(o->tls_creds), key, value, err,
                        errlen);
    }
    if (strcmp(key, "tls-dir") == 0) {
        if (value[0] != '/') {
            snprintf(err, errlen,
                     "--tls-dir: '%.200s' must be an absolute path (QEMU "
                     "opens it)",
                     value);
            return -1;
        }
        return set_text(o->tls_dir, sizeof(o->tls_dir), key, value, err,
                        errlen);
    }
    if (strcmp(key, "tls-hostname") == 0) {
        return set_text(o->tls_hostname, sizeof(o->tls_hostname), key, value,
                        err, errlen);
    }
    if (strcmp(key, "resume") == 0) {
        return util_parse_bool(key, value, &o->resume, err, errlen);
    }
    if (strcmp(key, "output") == 0) {
        return set_text(o->output, sizeof(o->output), key, value, err, errlen);
    }
    snprintf(err, errlen, "unknown option '%s'", key);
    return -1;
}

int
options_validate(struct qm_options *o, char *err, size_t errlen)
{
    unsigned cmd = o->command;

    if ((cmd & (CMD_MIGRATE | CMD_WATCH | CMD_CANCEL)) &&
        o->source[0] == '\0') {
        snprintf(err, errlen, "--source QMP is required");
        return -1;
    }
    if ((cmd & CMD_MIGRATE) && o->uri[0] == '\0') {
        snprintf(err, errlen, "--to URI is required");
        return -1;
    }
    if ((cmd & CMD_EVACUATE) && o->plan[0] == '\0') {
        snprintf(err, errlen, "--plan FILE is required");
        return -1;
    }
    if ((cmd & (CMD_REPLAY | CMD_PLOT)) && o->input[0] == '\0') {
        snprintf(err, errlen, "a TRACE file is required");
        return -1;
    }
    if ((cmd & CMD_PLOT) && o->output[0] == '\0') {
        snprintf(err, errlen, "-o FILE.png is required");
        return -1;
    }
    if (o->uri[0] != '\0' && util_check_uri(o->uri, err, errlen) < 0) {
        return -1;
    }
    if (o->tls_creds[0] != '\0' && o->tls_dir[0] != '\0') {
        snprintf(err, errlen, "--tls-creds and --tls-dir exclude each other");
        return -1;
    }
    if (o->disk == DISK_MIRROR && o->dest[0] == '\0' && (cmd & CMD_MIGRATE)) {
        snprintf(err, errlen, "--disk mirror needs --dest QMP");
        return -1;
    }
    return policy_config_validate(&o->policy, err, errlen);
}
