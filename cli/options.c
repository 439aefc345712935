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
#include "qmp/qmp.h"

#define CMD_POLICY (CMD_MIGRATE | CMD_WATCH | CMD_EVACUATE | CMD_REPLAY)
#define CMD_LIVE (CMD_MIGRATE | CMD_WATCH | CMD_CANCEL | CMD_EVACUATE)
#define CMD_ALL (CMD_LIVE | CMD_REPLAY | CMD_PLOT)
/* Where else than on the command line an option may be given. */
#define IN_CONFIG OPTION_IN_CONFIG
#define IN_BOTH (OPTION_IN_CONFIG | OPTION_IN_PLAN)

static int set_policy(struct qm_options *o, const char *value, char *err,
                      size_t errlen);
static int set_preflight(struct qm_options *o, const char *value, char *err,
                         size_t errlen);
static int set_completion_timeout(struct qm_options *o, const char *value,
                                  char *err, size_t errlen);
static int set_progress_timeout(struct qm_options *o, const char *value,
                                char *err, size_t errlen);
static int set_timeout_action(struct qm_options *o, const char *value,
                              char *err, size_t errlen);
static int set_bandwidth(struct qm_options *o, const char *value, char *err,
                         size_t errlen);
static int set_schedule(struct qm_options *o, const char *value, char *err,
                        size_t errlen);
static int set_disk(struct qm_options *o, const char *value, char *err,
                    size_t errlen);
static int set_tls_creds(struct qm_options *o, const char *value, char *err,
                         size_t errlen);
static int set_tls_dir(struct qm_options *o, const char *value, char *err,
                       size_t errlen);
static int set_ssh_option(struct qm_options *o, const char *value, char *err,
                          size_t errlen);

/* A field of struct qm_options that holds the value as it is given. */
#define FIELD(kind, member, min, max)                                          \
    kind, offsetof(struct qm_options, member),                                 \
        sizeof(((struct qm_options *)0)->member), min, max, NULL
/* An option whose text needs reading of its own (names, units, files). */
#define SPECIAL(member, setter)                                                \
    OPTION_SPECIAL, offsetof(struct qm_options, member),                       \
        sizeof(((struct qm_options *)0)->member), 0, 0, setter

/*
 * Every option, in the order of the help text.  The long name is also the
 * key in the config file and in plans (where: in which of them).  The
 * defaults are not written here: they are what options_init() and
 * policy_config_init() set, and the help shows them from there.
 */
const struct option_spec option_specs[] = {
    {"source", 0, "QMP", CMD_MIGRATE | CMD_WATCH | CMD_CANCEL, IN_BOTH,
     "the source QEMU's monitor", FIELD(OPTION_TEXT, source, 0, 0)},
    {"to", 0, "URI", CMD_MIGRATE, IN_BOTH, "where QEMU sends the migration",
     FIELD(OPTION_TEXT, uri, 0, 0)},
    {"dest", 0, "QMP", CMD_MIGRATE | CMD_WATCH, IN_BOTH,
     "the destination's monitor", FIELD(OPTION_TEXT, dest, 0, 0)},
    {"plan", 0, "FILE", CMD_EVACUATE, IN_CONFIG, "the evacuation plan (INI)",
     FIELD(OPTION_TEXT, plan, 0, 0)},
    {"max-parallel", 0, "N", CMD_EVACUATE, IN_CONFIG, "migrations at once",
     FIELD(OPTION_UNSIGNED, max_parallel, 1, 10000)},
    {"max-parallel-per-dest", 0, "N", CMD_EVACUATE, IN_CONFIG,
     "migrations at once to one destination host, 0 no limit",
     FIELD(OPTION_UNSIGNED, max_parallel_per_dest, 0, 10000)},
    {"ssh-option", 0, "OPT", CMD_LIVE, IN_BOTH,
     "for ssh:// monitors: pass -o OPT to ssh (repeatable)",
     SPECIAL(ssh_options, set_ssh_option)},
    {"policy", 0, "NAME", CMD_POLICY, IN_BOTH,
     "adaptive, nova, vdsm, proxmox, pray, kubevirt",
     SPECIAL(policy.kind, set_policy)},
    {"preflight", 0, "off|measure|decide", CMD_POLICY, IN_BOTH,
     "measure the dirty rate before migrate; adaptive decides, the others "
     "are off unless given",
     SPECIAL(policy.preflight, set_preflight)},
    {"downtime", 0, "MS", CMD_POLICY, IN_BOTH, "final downtime limit",
     FIELD(OPTION_U64, policy.downtime_ms, 1, POLICY_DOWNTIME_MAX_MS)},
    {"downtime-initial", 0, "MS", CMD_POLICY, IN_BOTH,
     "adaptive's starting limit",
     FIELD(OPTION_U64, policy.downtime_initial_ms, 1, POLICY_DOWNTIME_MAX_MS)},
    {"downtime-steps", 0, "N", CMD_POLICY, IN_BOTH, "nova/vdsm steps",
     FIELD(OPTION_UNSIGNED, policy.downtime_steps, 1, POLICY_STEPS_MAX)},
    {"downtime-delay", 0, "S", CMD_POLICY, IN_BOTH,
     "nova/vdsm seconds per GiB between steps",
     FIELD(OPTION_DOUBLE, policy.downtime_delay_s, 0, 1e6)},
    {"completion-timeout", 0, "S", CMD_POLICY, IN_BOTH,
     "seconds per GiB before the timeout action, 0 off; kubevirt: 150",
     SPECIAL(policy.completion_timeout_s, set_completion_timeout)},
    {"progress-timeout", 0, "S", CMD_POLICY, IN_BOTH,
     "seconds without progress before it, 0 off; nova: off unless given",
     SPECIAL(policy.progress_timeout_s, set_progress_timeout)},
    {"timeout-action", 0, "ACTION", CMD_POLICY, IN_BOTH,
     "abort or force-complete",
     SPECIAL(policy.timeout_action, set_timeout_action)},
    {"bandwidth", 0, "MIB_PER_S", CMD_POLICY, IN_BOTH,
     "max-bandwidth, 0 unlimited", SPECIAL(policy.bandwidth, set_bandwidth)},
    {"schedule", 0, "NAME|FILE", CMD_POLICY, IN_BOTH,
     "vdsm convergence schedule", SPECIAL(policy.schedule, set_schedule)},
    {"auto-converge", 0, NULL, CMD_POLICY, IN_BOTH,
     "permit QEMU's CPU throttling",
     FIELD(OPTION_BOOL, policy.auto_converge_permitted, 0, 0)},
    {"dirty-limit", 0, NULL, CMD_POLICY, IN_BOTH,
     "permit QEMU's dirty-limit (8.1+, KVM dirty ring)",
     FIELD(OPTION_BOOL, policy.dirty_limit_permitted, 0, 0)},
    {"postcopy", 0, NULL, CMD_POLICY, IN_BOTH, "permit post-copy",
     FIELD(OPTION_BOOL, policy.postcopy_permitted, 0, 0)},
    {"recover-uri", 0, "URI", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "where the destination listens to recover post-copy; else --to's",
     FIELD(OPTION_TEXT, recover_uri, 0, 0)},
    {"recover-timeout", 0, "S", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "how long to try recovering a broken post-copy",
     FIELD(OPTION_DOUBLE, recover_timeout_s, 1, 86400)},
    {"parallel", 0, "N", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "multifd: N parallel connections (on both sides with --dest); 0: one "
     "stream",
     FIELD(OPTION_UNSIGNED, parallel, 0, 255)},
    {"disk", 0, "none|blk|mirror", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "copy local disks too", SPECIAL(disk, set_disk)},
    {"disk-include", 0, "DEV[,DEV...]", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "copy only these disks (default: every writable one)",
     FIELD(OPTION_TEXT, disk_include, 0, 0)},
    {"nbd", 0, "unix:PATH|tcp:HOST:PORT", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "where the destination serves NBD (--disk mirror)",
     FIELD(OPTION_TEXT, nbd, 0, 0)},
    {"tls-creds", 0, "ID", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "encrypt with QEMU's tls-creds object ID (on both sides)",
     SPECIAL(tls_creds, set_tls_creds)},
    {"tls-dir", 0, "DIR", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "encrypt: create tls-creds-x509 objects from DIR",
     SPECIAL(tls_dir, set_tls_dir)},
    {"tls-hostname", 0, "NAME", CMD_MIGRATE | CMD_EVACUATE, IN_BOTH,
     "the name the destination's certificate must carry",
     FIELD(OPTION_TEXT, tls_hostname, 0, 0)},
    {"interval", 0, "MS", CMD_LIVE, IN_BOTH, "poll period",
     FIELD(OPTION_UNSIGNED, interval_ms, 10, 600000)},
    {"trace", 0, "FILE", CMD_MIGRATE | CMD_WATCH, IN_BOTH,
     "record every sample and action", FIELD(OPTION_TEXT, trace, 0, 0)},
    {"metrics", 0, "FILE", CMD_MIGRATE | CMD_WATCH | CMD_EVACUATE, IN_CONFIG,
     "Prometheus text file of the current figures",
     FIELD(OPTION_TEXT, metrics, 0, 0)},
    {"resume", 0, NULL, CMD_CANCEL, IN_CONFIG,
     "resume a guest left paused on the source",
     FIELD(OPTION_BOOL, resume, 0, 0)},
    {"output", 'o', "FILE", CMD_PLOT, IN_CONFIG, "the PNG to write",
     FIELD(OPTION_TEXT, output, 0, 0)},
    {"json", 0, NULL, CMD_LIVE | CMD_REPLAY, IN_CONFIG, "JSON lines on stdout",
     FIELD(OPTION_BOOL, json, 0, 0)},
    {"quiet", 'q', NULL, CMD_ALL, IN_CONFIG, "no progress for people",
     FIELD(OPTION_BOOL, quiet, 0, 0)},
    {"verbose", 'v', NULL, CMD_ALL, IN_CONFIG, "more detail (repeatable)",
     FIELD(OPTION_INT, verbose, 0, 3)},
    {"greeting-timeout", 0, "S", CMD_LIVE, IN_BOTH,
     "wait for a monitor's greeting",
     FIELD(OPTION_DOUBLE, greeting_timeout_s, 0.1, 3600)},
    {"command-timeout", 0, "S", CMD_LIVE, IN_BOTH, "wait for a QMP reply",
     FIELD(OPTION_DOUBLE, command_timeout_s, 0.1, 86400)},
    {"cancel-timeout", 0, "S", CMD_MIGRATE | CMD_CANCEL | CMD_EVACUATE, IN_BOTH,
     "wait for QEMU to finish a cancel",
     FIELD(OPTION_DOUBLE, cancel_timeout_s, 0.1, 86400)},
    {"config", 0, "FILE", CMD_ALL, 0, "settings (default /etc/qmigrate.conf)",
     OPTION_CONFIG, 0, 0, 0, 0, NULL},
    {NULL, 0, NULL, 0, 0, NULL, OPTION_TEXT, 0, 0, 0, 0, NULL},
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

/* The defaults of the program's own settings (the policy's are its own). */
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
    o->recover_timeout_s = 600.0;
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

/* --- the options that need reading of their own ----------------------------
 */

static int
set_policy(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    if (policy_kind_from_name(value, &o->policy.kind) < 0) {
        snprintf(err, errlen,
                 "--policy: '%s' is not one of adaptive, nova, vdsm, "
                 "proxmox, pray, kubevirt",
                 value);
        return -1;
    }
    return 0;
}

static int
set_preflight(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    if (policy_preflight_from_name(value, &o->policy.preflight) < 0) {
        snprintf(err, errlen, "--preflight: '%s' is not off, measure or decide",
                 value);
        return -1;
    }
    return 0;
}

static int
set_completion_timeout(struct qm_options *o, const char *value, char *err,
                       size_t errlen)
{
    if (util_parse_double("completion-timeout", value, 0, 1e7,
                          &o->policy.completion_timeout_s, err, errlen) < 0) {
        return -1;
    }
    o->policy.completion_timeout_given = true; /* kubevirt: 150 unless given */
    return 0;
}

static int
set_progress_timeout(struct qm_options *o, const char *value, char *err,
                     size_t errlen)
{
    if (util_parse_double("progress-timeout", value, 0, 1e7,
                          &o->policy.progress_timeout_s, err, errlen) < 0) {
        return -1;
    }
    o->policy.progress_timeout_given = true;
    return 0;
}

static int
set_timeout_action(struct qm_options *o, const char *value, char *err,
                   size_t errlen)
{
    if (strcmp(value, "abort") == 0) {
        o->policy.timeout_action = POLICY_TIMEOUT_ABORT;
    } else if (strcmp(value, "force-complete") == 0) {
        o->policy.timeout_action = POLICY_TIMEOUT_FORCE_COMPLETE;
    } else {
        snprintf(err, errlen,
                 "--timeout-action: '%s' is not abort or force-complete",
                 value);
        return -1;
    }
    return 0;
}

static int
set_bandwidth(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    double d;

    /* MiB/s; 0 means unlimited */
    if (util_parse_double("bandwidth", value, 0, 1e9, &d, err, errlen) < 0) {
        return -1;
    }
    o->policy.bandwidth = (uint64_t)llround(d * 1048576.0);
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

static const char *const disk_names[] = {
    [DISK_NONE] = "none",
    [DISK_BLK] = "blk",
    [DISK_MIRROR] = "mirror",
};

static int
set_disk(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    size_t i;

    for (i = 0; i < sizeof(disk_names) / sizeof(disk_names[0]); i++) {
        if (strcmp(value, disk_names[i]) == 0) {
            o->disk = (enum disk_mode)i;
            return 0;
        }
    }
    snprintf(err, errlen, "--disk: '%s' is not none, blk or mirror", value);
    return -1;
}

static int
set_tls_creds(struct qm_options *o, const char *value, char *err, size_t errlen)
{
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
    return set_text(o->tls_creds, sizeof(o->tls_creds), "tls-creds", value, err,
                    errlen);
}

static int
set_tls_dir(struct qm_options *o, const char *value, char *err, size_t errlen)
{
    if (value[0] != '/') {
        snprintf(err, errlen,
                 "--tls-dir: '%.200s' must be an absolute path (QEMU opens "
                 "it)",
                 value);
        return -1;
    }
    return set_text(o->tls_dir, sizeof(o->tls_dir), "tls-dir", value, err,
                    errlen);
}

void
options_new_layer(struct qm_options *o)
{
    o->ssh_insert_at = 0;
    o->layer++;
}

/* Inserts at the current layer's place: see struct qm_options. */
static int
set_ssh_option(struct qm_options *o, const char *value, char *err,
               size_t errlen)
{
    struct qmp_error qerr;
    unsigned at = o->ssh_insert_at;

    if (qmp_ssh_option_check(value, &qerr) < 0) {
        snprintf(err, errlen, "--ssh-option: %s", qerr.message);
        return -1;
    }
    if (strlen(value) >= QM_SSH_OPTION_LEN) {
        snprintf(err, errlen,
                 "--ssh-option: '%.40s...' is longer than %d bytes", value,
                 QM_SSH_OPTION_LEN - 1);
        return -1;
    }
    if (o->n_ssh_options >= QM_SSH_OPTIONS_MAX) {
        snprintf(err, errlen, "--ssh-option: more than %d options",
                 QM_SSH_OPTIONS_MAX);
        return -1;
    }
    memmove(o->ssh_options[at + 1], o->ssh_options[at],
            (o->n_ssh_options - at) * sizeof(o->ssh_options[0]));
    memcpy(o->ssh_options[at], value, strlen(value) + 1);
    o->n_ssh_options++;
    o->ssh_insert_at++;
    return 0;
}

/* --- one way to set any option ---------------------------------------------
 */

int
options_set(struct qm_options *o, const char *key, const char *value, char *err,
            size_t errlen)
{
    const struct option_spec *f = option_find(key);
    char *at;
    uint64_t u;

    if (value == NULL) {
        value = "";
    }
    if (f == NULL || f->kind == OPTION_CONFIG) {
        snprintf(err, errlen, "unknown option '%s'", key);
        return -1;
    }
    at = (char *)o + f->offset;
    /* the layer that set the evacuation's limits: the command line wins
     * over a plan, a plan over the config file */
    if (strcmp(key, "max-parallel") == 0) {
        o->max_parallel_layer = o->layer;
    } else if (strcmp(key, "max-parallel-per-dest") == 0) {
        o->per_dest_layer = o->layer;
    }
    switch (f->kind) {
    case OPTION_SPECIAL:
        return f->set(o, value, err, errlen);
    case OPTION_TEXT:
        return set_text(at, f->size, key, value, err, errlen);
    case OPTION_DOUBLE:
        return util_parse_double(key, value, f->min, f->max, (double *)at, err,
                                 errlen);
    case OPTION_BOOL:
        return util_parse_bool(key, value, (bool *)at, err, errlen);
    default:
        break;
    }
    if (util_parse_u64(key, value, (uint64_t)f->min, (uint64_t)f->max, &u, err,
                       errlen) < 0) {
        return -1;
    }
    if (f->kind == OPTION_U64) {
        *(uint64_t *)at = u;
    } else if (f->kind == OPTION_UNSIGNED) {
        *(unsigned *)at = (unsigned)u;
    } else {
        *(int *)at = (int)u;
    }
    return 0;
}

/* --- the defaults, as the help shows them -----------------------------------
 */

void
option_default_text(const struct option_spec *f, char *buf, size_t size)
{
    struct qm_options d;
    const char *at;

    options_init(&d);
    at = (const char *)&d + f->offset;
    buf[0] = '\0';
    switch (f->kind) {
    case OPTION_U64:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)at);
        break;
    case OPTION_UNSIGNED:
        snprintf(buf, size, "%u", *(const unsigned *)at);
        break;
    case OPTION_DOUBLE:
        snprintf(buf, size, "%g", *(const double *)at);
        break;
    case OPTION_SPECIAL:
        if (f->set == set_policy) {
            snprintf(buf, size, "%s", policy_kind_name(d.policy.kind));
        } else if (f->set == set_completion_timeout) {
            snprintf(buf, size, "%g", d.policy.completion_timeout_s);
        } else if (f->set == set_progress_timeout) {
            snprintf(buf, size, "%g", d.policy.progress_timeout_s);
        } else if (f->set == set_timeout_action) {
            snprintf(buf, size, "%s",
                     d.policy.timeout_action == POLICY_TIMEOUT_ABORT
                         ? "abort"
                         : "force-complete");
        } else if (f->set == set_bandwidth) {
            snprintf(buf, size, "%g", (double)d.policy.bandwidth / 1048576.0);
        } else if (f->set == set_schedule) {
            snprintf(buf, size, "%s", d.policy.schedule.name);
        } else if (f->set == set_disk) {
            snprintf(buf, size, "%s", disk_names[d.disk]);
        }
        break;
    default:
        break; /* texts are empty, flags off, verbosity 0 */
    }
}

/* The form of a monitor address (nothing is resolved or touched). */
static int
check_monitor(const char *key, const char *address, char *err, size_t errlen)
{
    struct qmp_error qerr;

    if (address[0] == '\0' || qmp_address_check(address, &qerr) == 0) {
        return 0;
    }
    snprintf(err, errlen, "--%s: %s", key, qerr.message);
    return -1;
}

int
options_validate(struct qm_options *o, char *err, size_t errlen)
{
    unsigned cmd = o->command;
    char why[512];

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
    if (check_monitor("source", o->source, err, errlen) < 0 ||
        check_monitor("dest", o->dest, err, errlen) < 0) {
        return -1;
    }
    if (o->recover_uri[0] != '\0' &&
        util_check_uri(o->recover_uri, why, sizeof(why)) < 0) {
        /* the same rules as --to's, named for this option */
        snprintf(err, errlen, "--recover-uri: %s",
                 strncmp(why, "--to: ", 6) == 0 ? why + 6 : why);
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

void
options_engine_config(const struct qm_options *o, const char *name,
                      struct engine_config *cfg)
{
    unsigned i;

    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = o->command == CMD_WATCH    ? ENGINE_WATCH
                : o->command == CMD_CANCEL ? ENGINE_CANCEL
                                           : ENGINE_MIGRATE;
    cfg->name = name;
    cfg->source = o->source;
    cfg->dest = o->dest;
    cfg->uri = o->uri;
    cfg->policy = o->policy;
    cfg->interval_ms = o->interval_ms;
    cfg->disk = o->disk == DISK_BLK      ? ENGINE_DISK_BLK
                : o->disk == DISK_MIRROR ? ENGINE_DISK_MIRROR
                                         : ENGINE_DISK_NONE;
    cfg->disk_include = o->disk_include;
    cfg->nbd = o->nbd;
    cfg->tls_creds = o->tls_creds;
    cfg->tls_dir = o->tls_dir;
    cfg->tls_hostname = o->tls_hostname;
    cfg->greeting_timeout_s = o->greeting_timeout_s;
    cfg->command_timeout_s = o->command_timeout_s;
    cfg->cancel_timeout_s = o->cancel_timeout_s;
    cfg->resume = o->resume;
    cfg->parallel = o->parallel;
    cfg->recover_uri = o->recover_uri;
    cfg->recover_timeout_s = o->recover_timeout_s;
    for (i = 0; i < o->n_ssh_options && i < ENGINE_SSH_OPTIONS_MAX; i++) {
        cfg->ssh_options[i] = o->ssh_options[i];
    }
    cfg->n_ssh_options = i;
}
