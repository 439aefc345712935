/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/options: every option by its long name, for the command line and the
 * config file. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
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
     "adaptive (default), nova, vdsm, proxmox, pray, kubevirt"},
    {"preflight", 0, true, CMD_POLICY, "off|measure|decide",
     "measure the dirty rate before migrate (adaptive: decide)"},
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

/*
 * The options that are only a value in a field: a text, a whole number, a
 * number or a flag, within bounds.  The rest (names to enums, files,
 * units, ids) have code of their own in options_set().
 */
enum field_kind {
    FIELD_TEXT,
    FIELD_U64,      /* uint64_t */
    FIELD_UNSIGNED, /* unsigned */
    FIELD_INT,      /* int */
    FIELD_DOUBLE,
    FIELD_BOOL,
};

struct field_spec {
    const char *name;
    enum field_kind kind;
    size_t offset; /* in struct qm_options */
    size_t size;   /* FIELD_TEXT: the buffer's */
    double min, max;
};

#define FIELD(name, kind, member, min, max)                                    \
    {                                                                          \
        name, kind, offsetof(struct qm_options, member),                       \
            sizeof(((struct qm_options *)0)->member), min, max                 \
    }

static const struct field_spec field_specs[] = {
    FIELD("source", FIELD_TEXT, source, 0, 0),
    FIELD("dest", FIELD_TEXT, dest, 0, 0),
    FIELD("to", FIELD_TEXT, uri, 0, 0),
    FIELD("trace", FIELD_TEXT, trace, 0, 0),
    FIELD("metrics", FIELD_TEXT, metrics, 0, 0),
    FIELD("plan", FIELD_TEXT, plan, 0, 0),
    FIELD("output", FIELD_TEXT, output, 0, 0),
    FIELD("disk-include", FIELD_TEXT, disk_include, 0, 0),
    FIELD("nbd", FIELD_TEXT, nbd, 0, 0),
    FIELD("tls-hostname", FIELD_TEXT, tls_hostname, 0, 0),
    FIELD("downtime", FIELD_U64, policy.downtime_ms, 1, 2000000),
    FIELD("downtime-initial", FIELD_U64, policy.downtime_initial_ms, 1,
          2000000),
    FIELD("downtime-steps", FIELD_UNSIGNED, policy.downtime_steps, 1, 1000),
    FIELD("interval", FIELD_UNSIGNED, interval_ms, 10, 600000),
    FIELD("max-parallel", FIELD_UNSIGNED, max_parallel, 1, 10000),
    FIELD("verbose", FIELD_INT, verbose, 0, 3),
    FIELD("downtime-delay", FIELD_DOUBLE, policy.downtime_delay_s, 0, 1e6),
    FIELD("completion-timeout", FIELD_DOUBLE, policy.completion_timeout_s, 0,
          1e7),
    FIELD("greeting-timeout", FIELD_DOUBLE, greeting_timeout_s, 0.1, 3600),
    FIELD("command-timeout", FIELD_DOUBLE, command_timeout_s, 0.1, 86400),
    FIELD("cancel-timeout", FIELD_DOUBLE, cancel_timeout_s, 0.1, 86400),
    FIELD("json", FIELD_BOOL, json, 0, 0),
    FIELD("quiet", FIELD_BOOL, quiet, 0, 0),
    FIELD("resume", FIELD_BOOL, resume, 0, 0),
    FIELD("auto-converge", FIELD_BOOL, policy.auto_converge_permitted, 0, 0),
    FIELD("postcopy", FIELD_BOOL, policy.postcopy_permitted, 0, 0),
};

/* Sets a plain field: 0, -1 with err, or 1 when key is not one. */
static int
set_field(struct qm_options *o, const char *key, const char *value, char *err,
          size_t errlen)
{
    const struct field_spec *f = NULL;
    char *at;
    uint64_t u;
    size_t i;

    for (i = 0; i < sizeof(field_specs) / sizeof(field_specs[0]); i++) {
        if (strcmp(field_specs[i].name, key) == 0) {
            f = &field_specs[i];
        }
    }
    if (f == NULL) {
        return 1;
    }
    at = (char *)o + f->offset;
    switch (f->kind) {
    case FIELD_TEXT:
        return set_text(at, f->size, key, value, err, errlen);
    case FIELD_DOUBLE:
        return util_parse_double(key, value, f->min, f->max, (double *)at, err,
                                 errlen);
    case FIELD_BOOL:
        return util_parse_bool(key, value, (bool *)at, err, errlen);
    default:
        break;
    }
    if (util_parse_u64(key, value, (uint64_t)f->min, (uint64_t)f->max, &u, err,
                       errlen) < 0) {
        return -1;
    }
    if (f->kind == FIELD_U64) {
        *(uint64_t *)at = u;
    } else if (f->kind == FIELD_UNSIGNED) {
        *(unsigned *)at = (unsigned)u;
    } else {
        *(int *)at = (int)u;
    }
    return 0;
}

int
options_set(struct qm_options *o, const char *key, const char *value, char *err,
            size_t errlen)
{
    struct policy_config *p = &o->policy;
    double d;
    int rc;

    if (value == NULL) {
        value = "";
    }
    rc = set_field(o, key, value, err, errlen);
    if (rc == 0 && strcmp(key, "completion-timeout") == 0) {
        p->completion_timeout_given = true; /* kubevirt: 150 unless given */
    }
    if (rc <= 0) {
        return rc;
    }
    if (strcmp(key, "policy") == 0) {
        if (policy_kind_from_name(value, &p->kind) < 0) {
            snprintf(err, errlen,
                     "--policy: '%s' is not one of adaptive, nova, vdsm, "
                     "proxmox, pray, kubevirt",
                     value);
            return -1;
        }
        return 0;
    }
    if (strcmp(key, "preflight") == 0) {
        if (policy_preflight_from_name(value, &p->preflight) < 0) {
            snprintf(err, errlen,
                     "--preflight: '%s' is not off, measure or decide", value);
            return -1;
        }
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
