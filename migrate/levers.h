/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/levers: the one path by which a policy's actions take effect, in
 * the engine (over QMP) and in the simulator (on the model). */
#ifndef QMIGRATE_MIGRATE_LEVERS_H
#define QMIGRATE_MIGRATE_LEVERS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

/*
 * What pulling each lever does, supplied by whoever carries actions out:
 * the engine sends QMP commands, bench/policy-sim changes its model.
 * A member left NULL is a lever that does nothing there.
 */
struct levers_ops {
    void (*set_downtime)(void *opaque, uint64_t ms);
    void (*set_bandwidth)(void *opaque, uint64_t bytes_per_s); /* 0: none */
    void (*auto_converge)(void *opaque);
    void (*start_postcopy)(void *opaque);
    void (*pause)(void *opaque);
    void (*cancel)(void *opaque, const char *reason);
    /* Every vCPU's dirty rate capped at mib_s (QEMU's dirty-limit). */
    void (*dirty_limit)(void *opaque, uint64_t mib_s);
    /* An action that was not carried out, and why. */
    void (*skipped)(void *opaque, const char *why);
};

/* What is in force, as far as the one who pulls the levers knows. */
struct levers {
    uint64_t downtime_ms; /* the downtime limit */
    uint64_t bandwidth;   /* max-bandwidth, bytes/s; 0 unlimited */
    uint64_t downtime_before, bandwidth_before; /* before the last change */
    bool auto_converge_permitted;
    bool dirty_limit_permitted; /* set by the caller after levers_init() */
    uint64_t dirty_limit_mib_s; /* per vCPU; 0: none pulled */
    uint64_t dirty_limit_before;
    bool paused;             /* the guest was stopped by a pause */
    bool postcopy_requested; /* start-postcopy was pulled */
};

/* QEMU's defaults in force, nothing pulled yet. */
void levers_init(struct levers *l, uint64_t downtime_ms, uint64_t bandwidth,
                 bool auto_converge_permitted);

/*
 * Carries out one action through ops: books what is now in force, then
 * pulls the lever.  A pause is pulled once; auto-converge and dirty-limit
 * only when they were permitted (else skipped() says so).  The engine's
 * own recovery steps are no levers: nothing is pulled for them.
 */
void levers_apply(struct levers *l, const struct levers_ops *ops, void *opaque,
                  const struct policy_action *a);

/*
 * The lever of kind was refused (QEMU said no): what was in force before
 * stays in force, so the samples go on carrying it and the policy sees it
 * still needs setting.
 */
void levers_refused(struct levers *l, enum policy_action_kind kind);

#endif /* QMIGRATE_MIGRATE_LEVERS_H */
