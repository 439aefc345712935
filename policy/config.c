/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: configuration defaults and validation. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

#define DEFAULT_DOWNTIME_INITIAL_MS 300

void
policy_config_init(struct policy_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->kind = POLICY_ADAPTIVE;
    cfg->downtime_ms = 500;
    cfg->downtime_initial_ms = DEFAULT_DOWNTIME_INITIAL_MS;
    cfg->downtime_steps = 10;
    cfg->downtime_delay_s = 75;
    cfg->completion_timeout_s = 800;
    cfg->progress_timeout_s = 150;
    cfg->progress_timeout_given = false;
    cfg->timeout_action = POLICY_TIMEOUT_ABORT;
    cfg->bandwidth = 0;
    policy_schedule_profile("minimal-downtime", &cfg->schedule);
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool
schedule_has_postcopy(const struct policy_schedule *sc)
{
    size_t i;

    for (i = 0; i < sc->n_entries && i < POLICY_MAX_SCHEDULE; i++) {
        if (sc->entries[i].verb == POLICY_SCHEDULE_POSTCOPY) {
            return true;
        }
    }
    return false;
}

static int
validate_schedule(const struct policy_config *cfg, char *err, size_t errlen)
{
    const struct policy_schedule *sc = &cfg->schedule;
    size_t i;

    if (sc->n_entries > POLICY_MAX_SCHEDULE) {
        return refuse(err, errlen, "--schedule %s: %zu entries, at most %d",
                      sc->name, sc->n_entries, POLICY_MAX_SCHEDULE);
    }
    if (sc->init_downtime_ms > POLICY_DOWNTIME_MAX_MS) {
        return refuse(err, errlen,
                      "--schedule %s: init downtime %llu ms is above "
                      "QEMU's maximum %d ms",
                      sc->name, (unsigned long long)sc->init_downtime_ms,
                      POLICY_DOWNTIME_MAX_MS);
    }
    for (i = 0; i < sc->n_entries; i++) {
        const struct policy_schedule_entry *e = &sc->entries[i];

        if (e->verb == POLICY_SCHEDULE_SET_DOWNTIME &&
            (e->downtime_ms == 0 || e->downtime_ms > POLICY_DOWNTIME_MAX_MS)) {
            return refuse(err, errlen,
                          "--schedule %s: entry %zu sets downtime %llu ms, "
                          "outside 1..%d",
                          sc->name, i + 1, (unsigned long long)e->downtime_ms,
                          POLICY_DOWNTIME_MAX_MS);
        }
    }
    if (sc->mode == POLICY_SCHEDULE_ENTRIES && schedule_has_postcopy(sc) &&
        !cfg->postcopy_permitted) {
        return refuse(err, errlen,
                      "--schedule %s switches to post-copy, which needs "
                      "--postcopy (the postcopy-ram capability is set "
                      "before migrate)",
                      sc->name);
    }
    return 0;
}

int
policy_config_validate(struct policy_config *cfg, char *err, size_t errlen)
{
    bool nova = cfg->kind == POLICY_NOVA;

    if ((size_t)cfg->kind > POLICY_KUBEVIRT) {
        return refuse(err, errlen, "--policy: unknown policy %d",
                      (int)cfg->kind);
    }
    if (cfg->downtime_ms == 0 || cfg->downtime_ms > POLICY_DOWNTIME_MAX_MS) {
        return refuse(err, errlen, "--downtime %llu: must be 1..%d ms",
                      (unsigned long long)cfg->downtime_ms,
                      POLICY_DOWNTIME_MAX_MS);
    }
    if (nova && cfg->downtime_ms < POLICY_NOVA_DOWNTIME_MIN_MS) {
        return refuse(
            err, errlen, "--downtime %llu: --policy nova needs at least %d ms",
            (unsigned long long)cfg->downtime_ms, POLICY_NOVA_DOWNTIME_MIN_MS);
    }
    if (cfg->downtime_initial_ms > cfg->downtime_ms) {
        if (cfg->downtime_initial_ms != DEFAULT_DOWNTIME_INITIAL_MS) {
            return refuse(err, errlen,
                          "--downtime-initial %llu: above --downtime %llu",
                          (unsigned long long)cfg->downtime_initial_ms,
                          (unsigned long long)cfg->downtime_ms);
        }
        /* The default start never exceeds the final limit. */
        cfg->downtime_initial_ms = cfg->downtime_ms;
    }
    if (cfg->downtime_initial_ms == 0) {
        return refuse(err, errlen,
                      "--downtime-initial 0: must be at least "
                      "1 ms");
    }
    if (cfg->downtime_steps < 1 || cfg->downtime_steps > POLICY_STEPS_MAX) {
        return refuse(err, errlen, "--downtime-steps %u: must be 1..%d",
                      cfg->downtime_steps, POLICY_STEPS_MAX);
    }
    if (nova && cfg->downtime_steps < POLICY_NOVA_STEPS_MIN) {
        return refuse(err, errlen,
                      "--downtime-steps %u: --policy nova needs at least %d",
                      cfg->downtime_steps, POLICY_NOVA_STEPS_MIN);
    }
    if (!isfinite(cfg->downtime_delay_s) || cfg->downtime_delay_s < 0) {
        return refuse(err, errlen,
                      "--downtime-delay %g: must be a "
                      "non-negative number of seconds",
                      cfg->downtime_delay_s);
    }
    if (nova && cfg->downtime_delay_s < POLICY_NOVA_DELAY_MIN_S) {
        return refuse(err, errlen,
                      "--downtime-delay %g: --policy nova needs at least %d",
                      cfg->downtime_delay_s, POLICY_NOVA_DELAY_MIN_S);
    }
    if (!isfinite(cfg->completion_timeout_s) || cfg->completion_timeout_s < 0) {
        return refuse(err, errlen,
                      "--completion-timeout %g: must be 0 "
                      "(off) or a positive number of seconds",
                      cfg->completion_timeout_s);
    }
    if (!isfinite(cfg->progress_timeout_s) || cfg->progress_timeout_s < 0) {
        return refuse(err, errlen,
                      "--progress-timeout %g: must be 0 (off) "
                      "or a positive number of seconds",
                      cfg->progress_timeout_s);
    }
    if ((size_t)cfg->timeout_action > POLICY_TIMEOUT_FORCE_COMPLETE) {
        return refuse(err, errlen, "--timeout-action: unknown action %d",
                      (int)cfg->timeout_action);
    }
    if (cfg->n_disks > POLICY_MAX_DISKS) {
        return refuse(err, errlen, "%zu disks: at most %d are supported",
                      cfg->n_disks, POLICY_MAX_DISKS);
    }
    if ((size_t)cfg->preflight > POLICY_PREFLIGHT_DECIDE) {
        return refuse(err, errlen, "--preflight: unknown mode %d",
                      (int)cfg->preflight);
    }
    if (cfg->preflight == POLICY_PREFLIGHT_DECIDE &&
        cfg->kind != POLICY_ADAPTIVE) {
        return refuse(err, errlen,
                      "--preflight decide: --policy %s never acts on a "
                      "measurement (it reproduces %s); use --preflight "
                      "measure to see it",
                      policy_kind_name(cfg->kind),
                      cfg->kind == POLICY_PRAY ? "QEMU's defaults"
                                               : "that project exactly");
    }
    if (cfg->kind == POLICY_KUBEVIRT && !cfg->completion_timeout_given) {
        /* KubeVirt's completionTimeoutPerGiB, not Nova's 800 */
        cfg->completion_timeout_s = POLICY_KUBEVIRT_PER_GIB_S;
    }
    if (cfg->kind == POLICY_VDSM) {
        return validate_schedule(cfg, err, errlen);
    }
    return 0;
}
