/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/qemu: QEMU's vocabulary: every command the engine sends, QEMU's
 * defaults, version facts and the capability table. */
#include <stdio.h>
#include <string.h>

#include "migrate/qemu.h"

bool
qemu_version_at_least(const struct qemu_version *v, int major, int minor)
{
    return v->major > major || (v->major == major && v->minor >= minor);
}

/* --- run states ---------------------------------------------------------- */

static const struct {
    const char *name;
    enum qemu_runstate state;
} runstates[] = {
    {"running", QEMU_RUN_RUNNING},         {"paused", QEMU_RUN_PAUSED},
    {"prelaunch", QEMU_RUN_PRELAUNCH},     {"inmigrate", QEMU_RUN_INMIGRATE},
    {"postmigrate", QEMU_RUN_POSTMIGRATE},
};

enum qemu_runstate
qemu_runstate_of(json_t *query_status, const char **name)
{
    const char *s = json_string_value(json_object_get(query_status, "status"));
    size_t i;

    *name = s ? s : "unknown";
    for (i = 0; s != NULL && i < sizeof(runstates) / sizeof(runstates[0]);
         i++) {
        if (strcmp(s, runstates[i].name) == 0) {
            return runstates[i].state;
        }
    }
    return QEMU_RUN_OTHER;
}

/* --- capabilities -------------------------------------------------------- */

/* How a capability reaches QEMU. */
enum qemu_cap_kind {
    CAP_KIND_CAPABILITY, /* migrate-set-capabilities */
    CAP_KIND_ARGUMENT,   /* an argument of migrate */
    CAP_KIND_COMMANDS,   /* commands of its own: nothing to set */
};

/*
 * Every capability qmigrate may ask for: QEMU's name for it, how it is
 * asked for, the option that asks for it, the first QEMU that has it and
 * the first that no longer does (0.0: still there), what it needs and
 * what it excludes (up to a version, when QEMU learnt to combine them),
 * and whether it is only used where available (optional: never refused).
 * Sources: qapi/migration.json and migration/options.c at each version
 * tag (docs/engine.md).
 */
struct qemu_capability {
    const char *name; /* MigrationCapability, migrate's argument, commands */
    enum qemu_cap_kind kind;
    const char *option; /* what the operator wrote to ask for it */
    const char *what;   /* for messages */
    int since_major, since_minor;
    int removed_major, removed_minor; /* 0, 0: not removed */
    const char *instead;              /* advice once removed, or NULL */
    unsigned requires;                /* QEMU_CAP_BIT()s */
    unsigned conflicts;
    int conflicts_until_major, conflicts_until_minor; /* 0, 0: always */
    const char *conflict_why;                         /* for messages */
    bool optional;
};

static const struct qemu_capability capabilities[QEMU_CAP_COUNT] = {
    [QEMU_CAP_PAUSE_BEFORE_SWITCHOVER] = {.name = "pause-before-switchover",
                                          .kind = CAP_KIND_CAPABILITY,
                                          .option = "--disk mirror",
                                          .what = "pause-before-switchover",
                                          .since_major = 2,
                                          .since_minor = 11},
    [QEMU_CAP_EVENTS] = {.name = "events",
                         .kind = CAP_KIND_CAPABILITY,
                         .option = "events",
                         .what = "migration events",
                         .since_major = 2,
                         .since_minor = 4},
    [QEMU_CAP_AUTO_CONVERGE] = {.name = "auto-converge",
                                .kind = CAP_KIND_CAPABILITY,
                                .option = "--auto-converge",
                                .what = "auto-converge",
                                .since_major = 1,
                                .since_minor = 6},
    [QEMU_CAP_POSTCOPY_RAM] = {.name = "postcopy-ram",
                               .kind = CAP_KIND_CAPABILITY,
                               .option = "--postcopy",
                               .what = "post-copy",
                               .since_major = 2,
                               .since_minor = 6},
    [QEMU_CAP_BLOCK] = {.name = "blk",
                        .kind = CAP_KIND_ARGUMENT,
                        .option = "--disk blk",
                        .what = "block migration",
                        .removed_major = 9,
                        .removed_minor = 1,
                        .instead = "use --disk mirror with --dest"},
    [QEMU_CAP_MULTIFD] = {.name = "multifd",
                          .kind = CAP_KIND_CAPABILITY,
                          .option = "--parallel",
                          .what = "multifd",
                          .since_major = 4,
                          .since_minor = 0,
                          .conflicts = QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM),
                          .conflicts_until_major = 10,
                          .conflicts_until_minor = 1,
                          .conflict_why =
                              "its post-copy cannot use multifd channels"},
    [QEMU_CAP_DIRTY_LIMIT] = {.name = "dirty-limit",
                              .kind = CAP_KIND_CAPABILITY,
                              .option = "--dirty-limit",
                              .what = "dirty-limit",
                              .since_major = 8,
                              .since_minor = 1,
                              .conflicts = QEMU_CAP_BIT(QEMU_CAP_AUTO_CONVERGE),
                              .conflict_why =
                                  "it throttles the guest one way at a time"},
    [QEMU_CAP_POSTCOPY_PREEMPT] = {.name = "postcopy-preempt",
                                   .kind = CAP_KIND_CAPABILITY,
                                   .option = "--postcopy",
                                   .what = "the post-copy preempt channel",
                                   .since_major = 7,
                                   .since_minor = 1,
                                   .requires =
                                       QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM),
                                   .optional = true},
    [QEMU_CAP_POSTCOPY_RECOVER] = {.name = "migrate-recover",
                                   .kind = CAP_KIND_COMMANDS,
                                   .option = "--postcopy",
                                   .what = "post-copy recovery",
                                   .since_major = 3,
                                   .since_minor = 0,
                                   .requires =
                                       QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM),
                                   .optional = true},
};

const char *
qemu_cap_name(enum qemu_cap cap)
{
    return cap < QEMU_CAP_COUNT ? capabilities[cap].name : "?";
}

/* A conflict of c with capability k that applies to version v. */
static bool
conflicts_on(const struct qemu_capability *c, size_t k,
             const struct qemu_version *v)
{
    if (!(c->conflicts & QEMU_CAP_BIT(k))) {
        return false;
    }
    return c->conflicts_until_major == 0 ||
           !qemu_version_at_least(v, c->conflicts_until_major,
                                  c->conflicts_until_minor);
}

/* The pairs of wanted capabilities: what one needs, what two exclude. */
static int
caps_check_pairs(const struct qemu_version *v, unsigned wanted, char *err,
                 size_t errlen)
{
    size_t i, k;

    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        const struct qemu_capability *c = &capabilities[i];

        if (!(wanted & QEMU_CAP_BIT(i))) {
            continue;
        }
        for (k = 0; k < QEMU_CAP_COUNT; k++) {
            if ((c->requires & QEMU_CAP_BIT(k)) &&
                !(wanted & QEMU_CAP_BIT(k))) {
                snprintf(err, errlen, "%s needs %s", c->option,
                         capabilities[k].option);
                return -1;
            }
            if (!(wanted & QEMU_CAP_BIT(k)) || !conflicts_on(c, k, v)) {
                continue;
            }
            if (c->conflicts_until_major != 0) {
                snprintf(err, errlen,
                         "%s and %s exclude each other on QEMU %d.%d (before "
                         "%d.%d %s)",
                         c->option, capabilities[k].option, v->major, v->minor,
                         c->conflicts_until_major, c->conflicts_until_minor,
                         c->conflict_why);
            } else {
                snprintf(err, errlen, "%s and %s exclude each other (%s)",
                         c->option, capabilities[k].option, c->conflict_why);
            }
            return -1;
        }
    }
    return 0;
}

int
qemu_caps_check(const struct qemu_version *v, unsigned wanted,
                unsigned *granted, char *err, size_t errlen)
{
    size_t i;

    *granted = wanted;
    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        const struct qemu_capability *c = &capabilities[i];
        bool removed, missing;

        if (!(wanted & QEMU_CAP_BIT(i))) {
            continue;
        }
        removed = c->removed_major != 0 &&
                  qemu_version_at_least(v, c->removed_major, c->removed_minor);
        missing = !qemu_version_at_least(v, c->since_major, c->since_minor);
        if ((removed || missing) && c->optional) {
            *granted &= ~QEMU_CAP_BIT(i);
            continue;
        }
        if (removed) {
            snprintf(err, errlen,
                     "%s: QEMU %d.%d has no %s (removed in %d.%d)%s%s",
                     c->option, v->major, v->minor, c->what, c->removed_major,
                     c->removed_minor, c->instead ? "; " : "",
                     c->instead ? c->instead : "");
            return -1;
        }
        if (missing) {
            snprintf(err, errlen, "%s: QEMU %d.%d has no %s (it came in %d.%d)",
                     c->option, v->major, v->minor, c->what, c->since_major,
                     c->since_minor);
            return -1;
        }
    }
    return caps_check_pairs(v, *granted, err, errlen);
}

/* The reply lists the capability name. */
static bool
offers(json_t *list, const char *name)
{
    json_t *entry;
    size_t i;

    json_array_foreach (list, i, entry) {
        const char *cap =
            json_string_value(json_object_get(entry, "capability"));

        if (cap != NULL && strcmp(cap, name) == 0) {
            return true;
        }
    }
    return false;
}

int
qemu_caps_offered(json_t *reply, const struct qemu_version *v, const char *side,
                  unsigned *granted, char *err, size_t errlen)
{
    size_t i;

    if (!json_is_array(reply)) {
        return 0;
    }
    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        const struct qemu_capability *c = &capabilities[i];

        if (!(*granted & QEMU_CAP_BIT(i)) || c->kind != CAP_KIND_CAPABILITY ||
            offers(reply, c->name)) {
            continue;
        }
        if (c->optional) {
            *granted &= ~QEMU_CAP_BIT(i);
            continue;
        }
        snprintf(err, errlen,
                 "%s: %s (QEMU %d.%d) does not offer the '%s' capability "
                 "(query-migrate-capabilities): it was built without it",
                 c->option, side, v->major, v->minor, c->name);
        return -1;
    }
    return 0;
}

unsigned
qemu_caps_known(json_t *reply, unsigned assume)
{
    unsigned known = 0;
    size_t i;

    if (!json_is_array(reply)) {
        return assume;
    }
    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        if (capabilities[i].kind == CAP_KIND_CAPABILITY &&
            offers(reply, capabilities[i].name)) {
            known |= QEMU_CAP_BIT(i);
        }
    }
    return known;
}

unsigned
qemu_caps_conflicting(const struct qemu_version *v, unsigned wanted)
{
    unsigned off = 0;
    size_t i, k;

    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        for (k = 0; k < QEMU_CAP_COUNT; k++) {
            if ((wanted & QEMU_CAP_BIT(i)) &&
                (conflicts_on(&capabilities[i], k, v) ||
                 conflicts_on(&capabilities[k], i, v))) {
                off |= QEMU_CAP_BIT(k);
            }
        }
    }
    return off & ~wanted;
}

uint64_t
qemu_max_bandwidth(uint64_t bandwidth)
{
    return bandwidth != 0 ? bandwidth : (uint64_t)16 << 30;
}

/* --- commands ------------------------------------------------------------ */

static struct qemu_command
command(const char *name, json_t *args)
{
    struct qemu_command c = {name, args};

    return c;
}

struct qemu_command
qemu_query_status(void)
{
    return command("query-status", NULL);
}

struct qemu_command
qemu_query_migrate(void)
{
    return command("query-migrate", NULL);
}

struct qemu_command
qemu_query_memory_size_summary(void)
{
    return command("query-memory-size-summary", NULL);
}

struct qemu_command
qemu_query_migrate_parameters(void)
{
    return command("query-migrate-parameters", NULL);
}

struct qemu_command
qemu_query_block(void)
{
    return command("query-block", NULL);
}

struct qemu_command
qemu_tls_creds_add(const char *id, const char *dir, bool server)
{
    return command("object-add",
                   json_pack("{s:s, s:s, s:s, s:s, s:b}", "qom-type",
                             "tls-creds-x509", "id", id, "dir", dir, "endpoint",
                             server ? "server" : "client", "verify-peer", 1));
}

struct qemu_command
qemu_set_capabilities(unsigned on, unsigned off)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < QEMU_CAP_COUNT; i++) {
        bool want = (on & QEMU_CAP_BIT(i)) != 0;

        if (capabilities[i].kind != CAP_KIND_CAPABILITY ||
            !(want || (off & QEMU_CAP_BIT(i)))) {
            continue;
        }
        json_array_append_new(list,
                              json_pack("{s:s, s:b}", "capability",
                                        capabilities[i].name, "state", want));
    }
    return command("migrate-set-capabilities",
                   json_pack("{s:o}", "capabilities", list));
}

struct qemu_command
qemu_set_parameters(const struct qemu_parameters *p)
{
    json_t *args = json_object();

    if (p->set_downtime_limit) {
        json_object_set_new(args, "downtime-limit",
                            json_integer((json_int_t)p->downtime_limit_ms));
    }
    if (p->set_max_bandwidth) {
        json_object_set_new(
            args, "max-bandwidth",
            json_integer((json_int_t)qemu_max_bandwidth(p->max_bandwidth)));
    }
    if (p->set_throttle_trigger_threshold) {
        json_object_set_new(args, "throttle-trigger-threshold",
                            json_integer(p->throttle_trigger_threshold));
    }
    if (p->tls_creds != NULL) {
        json_object_set_new(args, "tls-creds", json_string(p->tls_creds));
    }
    if (p->tls_hostname != NULL) {
        json_object_set_new(args, "tls-hostname", json_string(p->tls_hostname));
    }
    if (p->multifd_channels != 0) {
        json_object_set_new(args, "multifd-channels",
                            json_integer(p->multifd_channels));
    }
    if (p->vcpu_dirty_limit != 0) {
        json_object_set_new(args, "vcpu-dirty-limit",
                            json_integer((json_int_t)p->vcpu_dirty_limit));
    }
    return command("migrate-set-parameters", args);
}

struct qemu_command
qemu_migrate_incoming(const char *uri)
{
    return command("migrate-incoming", json_pack("{s:s}", "uri", uri));
}

struct qemu_command
qemu_nbd_server_start(const char *host, const char *port_or_path)
{
    json_t *addr = host == NULL
                       ? json_pack("{s:s, s:{s:s}}", "type", "unix", "data",
                                   "path", port_or_path)
                       : json_pack("{s:s, s:{s:s, s:s}}", "type", "inet",
                                   "data", "host", host, "port", port_or_path);

    return command("nbd-server-start", json_pack("{s:o}", "addr", addr));
}

struct qemu_command
qemu_block_export_add(const char *id, const char *node, const char *name)
{
    return command("block-export-add",
                   json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", "nbd", "id",
                             id, "node-name", node, "name", name, "writable",
                             1));
}

struct qemu_command
qemu_drive_mirror(const char *job_id, const char *device, const char *target,
                  uint64_t speed)
{
    json_t *args =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "job-id", job_id,
                  "device", device, "target", target, "format", "nbd", "mode",
                  "existing", "sync", "full", "auto-dismiss", 0);

    if (speed > 0) {
        json_object_set_new(args, "speed", json_integer((json_int_t)speed));
    }
    return command("drive-mirror", args);
}

struct qemu_command
qemu_query_block_jobs(void)
{
    return command("query-block-jobs", NULL);
}

struct qemu_command
qemu_block_job_set_speed(const char *job_id, uint64_t speed)
{
    return command(
        "block-job-set-speed",
        json_pack("{s:s, s:I}", "device", job_id, "speed", (json_int_t)speed));
}

struct qemu_command
qemu_migrate(const char *uri, bool blk)
{
    json_t *args = json_pack("{s:s}", "uri", uri);

    if (blk) {
        json_object_set_new(args, "blk", json_true());
    }
    return command("migrate", args);
}

struct qemu_command
qemu_migrate_start_postcopy(void)
{
    return command("migrate-start-postcopy", NULL);
}

struct qemu_command
qemu_query_cpus_fast(void)
{
    return command("query-cpus-fast", NULL);
}

struct qemu_command
qemu_query_migrate_capabilities(void)
{
    return command("query-migrate-capabilities", NULL);
}

struct qemu_command
qemu_set_vcpu_dirty_limit(uint64_t mb_per_s)
{
    return command("set-vcpu-dirty-limit",
                   json_pack("{s:I}", "dirty-rate", (json_int_t)mb_per_s));
}

struct qemu_command
qemu_cancel_vcpu_dirty_limit(void)
{
    return command("cancel-vcpu-dirty-limit", NULL);
}

struct qemu_command
qemu_query_vcpu_dirty_limit(void)
{
    return command("query-vcpu-dirty-limit", NULL);
}

struct qemu_command
qemu_migrate_pause(void)
{
    return command("migrate-pause", NULL);
}

struct qemu_command
qemu_migrate_recover(const char *uri)
{
    return command("migrate-recover", json_pack("{s:s}", "uri", uri));
}

struct qemu_command
qemu_migrate_resume(const char *uri)
{
    return command("migrate", json_pack("{s:s, s:b}", "uri", uri, "resume", 1));
}

struct qemu_command
qemu_stop(void)
{
    return command("stop", NULL);
}

struct qemu_command
qemu_cont(void)
{
    return command("cont", NULL);
}

struct qemu_command
qemu_block_job_cancel(const char *job_id, bool force)
{
    json_t *args = json_pack("{s:s}", "device", job_id);

    if (force) {
        json_object_set_new(args, "force", json_true());
    }
    return command("block-job-cancel", args);
}

struct qemu_command
qemu_job_dismiss(const char *job_id)
{
    return command("job-dismiss", json_pack("{s:s}", "id", job_id));
}

struct qemu_command
qemu_migrate_continue_pre_switchover(void)
{
    return command("migrate-continue",
                   json_pack("{s:s}", "state", "pre-switchover"));
}

struct qemu_command
qemu_migrate_cancel(void)
{
    return command("migrate_cancel", NULL);
}

struct qemu_command
qemu_nbd_server_stop(void)
{
    return command("nbd-server-stop", NULL);
}

/* --- replies ------------------------------------------------------------- */

void
qemu_block_info(json_t *entry, struct qemu_block_info *info)
{
    const char *device = json_string_value(json_object_get(entry, "device"));
    json_t *inserted = json_object_get(entry, "inserted");
    json_t *size =
        json_object_get(json_object_get(inserted, "image"), "virtual-size");

    info->node = json_string_value(json_object_get(inserted, "node-name"));
    info->name = device != NULL && device[0] != '\0' ? device : info->node;
    info->inserted = inserted != NULL;
    info->read_only = json_is_true(json_object_get(inserted, "ro"));
    info->size =
        json_integer_value(size) > 0 ? (uint64_t)json_integer_value(size) : 0;
}

void
qemu_block_job(json_t *entry, struct qemu_block_job *job)
{
    const char *status = json_string_value(json_object_get(entry, "status"));
    const char *io = json_string_value(json_object_get(entry, "io-status"));
    const char *error = json_string_value(json_object_get(entry, "error"));

    job->id = json_string_value(json_object_get(entry, "device"));
    job->len = (uint64_t)json_integer_value(json_object_get(entry, "len"));
    job->offset =
        (uint64_t)json_integer_value(json_object_get(entry, "offset"));
    job->ready = json_is_true(json_object_get(entry, "ready"));
    job->concluded = status != NULL && strcmp(status, "concluded") == 0;
    job->error = NULL;
    if (json_object_get(entry, "error") != NULL) {
        job->error = error ? error : (io ? io : "error");
    } else if (io != NULL && strcmp(io, "ok") != 0) {
        job->error = io;
    }
}

unsigned
qemu_vcpu_count(json_t *query_cpus_fast)
{
    return json_is_array(query_cpus_fast)
               ? (unsigned)json_array_size(query_cpus_fast)
               : 0;
}

bool
qemu_dirty_limit_in_service(json_t *query_vcpu_dirty_limit)
{
    return json_is_array(query_vcpu_dirty_limit) &&
           json_array_size(query_vcpu_dirty_limit) > 0;
}

bool
qemu_incoming_needs_uri(json_t *dest_query_migrate)
{
    /* -incoming defer: nothing listens, and no migration status yet */
    return json_object_get(dest_query_migrate, "socket-address") == NULL &&
           json_object_get(dest_query_migrate, "status") == NULL;
}

/* --- the dirty rate --------------------------------------------------------
 */

void
qemu_measure_caps(const struct qemu_version *v,
                  struct policy_measure_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->calc_dirty_rate = qemu_version_at_least(v, 5, 2);
    caps->sample_pages = qemu_version_at_least(v, 6, 1);
    caps->milliseconds = qemu_version_at_least(v, 8, 2);
}

struct qemu_command
qemu_calc_dirty_rate(uint64_t calc_time, bool milliseconds,
                     uint64_t sample_pages, const char *mode)
{
    json_t *args = json_pack("{s:I}", "calc-time", (json_int_t)calc_time);

    if (milliseconds) {
        json_object_set_new(args, "calc-time-unit", json_string("millisecond"));
    }
    if (sample_pages > 0) {
        json_object_set_new(args, "sample-pages",
                            json_integer((json_int_t)sample_pages));
    }
    if (mode != NULL) {
        json_object_set_new(args, "mode", json_string(mode));
    }
    return command("calc-dirty-rate", args);
}

struct qemu_command
qemu_query_dirty_rate(bool milliseconds)
{
    return command("query-dirty-rate",
                   milliseconds
                       ? json_pack("{s:s}", "calc-time-unit", "millisecond")
                       : NULL);
}

int
qemu_dirty_rate_of(json_t *reply, struct qemu_dirty_rate *r)
{
    const char *status = json_string_value(json_object_get(reply, "status"));
    const char *unit =
        json_string_value(json_object_get(reply, "calc-time-unit"));
    json_t *rate = json_object_get(reply, "dirty-rate");
    json_int_t calc = json_integer_value(json_object_get(reply, "calc-time"));
    json_int_t pages =
        json_integer_value(json_object_get(reply, "sample-pages"));

    memset(r, 0, sizeof(*r));
    if (status == NULL) {
        return -1;
    }
    r->measured = strcmp(status, "measured") == 0;
    r->dirty_rate_mib = json_is_integer(rate) ? json_integer_value(rate) : -1;
    if (calc > 0) {
        r->calc_time_ms =
            (uint64_t)calc *
            (unit != NULL && strcmp(unit, "millisecond") == 0 ? 1 : 1000);
    }
    r->sample_pages = pages > 0 ? (uint64_t)pages : 0;
    return 0;
}
