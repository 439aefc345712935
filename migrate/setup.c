/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/setup: what QEMU must know before migrate: the capabilities the
 * options ask for, checked against each side's version and offer, then
 * the parameters. */
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/* What a destination needs set too, of what the source gets. */
#define DEST_CAPS                                                              \
    (QEMU_CAP_BIT(QEMU_CAP_EVENTS) | QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM) |     \
     QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_PREEMPT) | QEMU_CAP_BIT(QEMU_CAP_MULTIFD))

/*
 * The capabilities the source needs for this configuration.  Dirty-limit
 * is preferred to auto-converge when both are permitted (QEMU takes one
 * at a time); the preempt channel and multifd must be set on the
 * destination before it listens, so preempt needs --dest and a
 * destination that waits (-incoming defer).
 */
static unsigned
wanted_caps(const struct engine *e)
{
    unsigned caps = QEMU_CAP_BIT(QEMU_CAP_EVENTS);

    if (e->cfg.disk == ENGINE_DISK_MIRROR) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_PAUSE_BEFORE_SWITCHOVER);
    } else if (e->cfg.disk == ENGINE_DISK_BLK) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_BLOCK);
    }
    if (e->policy.dirty_limit_permitted) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT);
    } else if (e->policy.auto_converge_permitted) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_AUTO_CONVERGE);
    }
    if (e->policy.postcopy_permitted) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM) |
                QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RECOVER);
        if (e->dst != NULL && e->dst_needs_incoming) {
            caps |= QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_PREEMPT);
        }
    }
    if (e->cfg.parallel > 0) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_MULTIFD);
    }
    return caps;
}

/* Rules of qmigrate's own, beside QEMU's: -1 when the engine ended. */
static int
negotiate_rules(struct engine *e)
{
    if (e->cfg.parallel > 0 && e->cfg.disk == ENGINE_DISK_BLK) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--parallel and --disk blk exclude each other: block "
                      "migration sends every disk block on the main stream, "
                      "beside the channels, and QEMU never tested the two "
                      "together; use --disk mirror, whose copy runs beside "
                      "the channels");
        return -1;
    }
    if (e->cfg.parallel > 0 && e->dst != NULL && !e->dst_needs_incoming) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--parallel: the destination %s already listens; QEMU "
                      "reads multifd and multifd-channels before it listens: "
                      "start it with -incoming defer",
                      e->cfg.dest);
        return -1;
    }
    if (e->cfg.parallel > 0 && e->dst == NULL) {
        engine_note(e, 0,
                    "%s--parallel %u without --dest: the destination needs "
                    "the multifd capability and multifd-channels %u set "
                    "before it listens (migrate-set-capabilities, "
                    "migrate-set-parameters, then migrate-incoming)",
                    engine_prefix(e), e->cfg.parallel, e->cfg.parallel);
    }
    if (e->policy.postcopy_permitted && e->dst == NULL) {
        engine_note(e, 1,
                    "%s--postcopy without --dest: a post-copy whose stream "
                    "breaks cannot be recovered by qmigrate (it needs the "
                    "destination's monitor)",
                    engine_prefix(e));
    }
    return 0;
}

/* A side's version and offer: -1 when the engine ended. */
static int
negotiate_side(struct engine *e, const struct qemu_version *v, json_t *offer,
               const char *side, unsigned wanted, unsigned *granted)
{
    char why[512];

    if (qemu_caps_check(v, wanted, granted, why, sizeof(why)) < 0 ||
        qemu_caps_offered(offer, v, side, granted, why, sizeof(why)) < 0) {
        engine_finish(e, QM_EXIT_USAGE, "error", "%s", why);
        return -1;
    }
    return 0;
}

static void
negotiated(struct engine *e)
{
    preflight_clear(&e->pre);
    engine_enter(e,
                 e->cfg.disk != ENGINE_DISK_NONE ? PHASE_DISKS : PHASE_SETUP);
}

/*
 * QEMU tells whether the guest has a KVM dirty ring only by refusing
 * dirty-limit without one (QOM does not show the accelerator's
 * dirty-ring-size), so the capability is set now, as SETUP would, and a
 * refusal is exit 2 before anything else changed.
 */
static void
dirty_limit_probe_reply(struct engine *e, json_t *ret,
                        const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL && err->kind == QMP_ERROR_COMMAND) {
        engine_finish(e, QM_EXIT_USAGE, "error",
                      "--dirty-limit: QEMU %d.%d cannot limit this guest's "
                      "dirty rate: %s (dirty-limit needs KVM with a dirty "
                      "ring: start the source with -accel "
                      "kvm,dirty-ring-size=4096)",
                      e->version.major, e->version.minor, err->message);
        return;
    }
    if (err != NULL) {
        engine_setup_failed(e, err);
        return;
    }
    negotiated(e);
}

void
engine_negotiate(struct engine *e)
{
    unsigned wanted = wanted_caps(e);

    if (negotiate_rules(e) < 0 ||
        negotiate_side(e, &e->version, e->pre.src_caps, "the source", wanted,
                       &e->caps) < 0) {
        return;
    }
    e->caps_known = qemu_caps_known(e->pre.src_caps, e->caps);
    if (e->dst != NULL) {
        if (negotiate_side(e, &e->dst_version, e->pre.dst_caps,
                           "the destination", e->caps & DEST_CAPS,
                           &e->dst_caps) < 0) {
            return;
        }
        e->dst_caps_known = qemu_caps_known(e->pre.dst_caps, e->dst_caps);
        /* the preempt channel on both sides, or on neither */
        e->caps &= e->dst_caps | ~DEST_CAPS;
    }
    if (e->caps & QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT)) {
        engine_send(
            e, e->src,
            qemu_set_capabilities(QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT),
                                  qemu_caps_conflicting(&e->version, e->caps) &
                                      e->caps_known),
            dirty_limit_probe_reply);
        return;
    }
    negotiated(e);
}
static void
setup_reply(struct engine *e, json_t *ret, const struct qmp_error *err)
{
    (void)ret;
    if (err != NULL) {
        engine_setup_failed(e, err);
        return;
    }
    if (e->pending > 0) {
        return; /* the other set-up commands are still out */
    }
    engine_enter(e, PHASE_MEASURE);
}

/*
 * TLS: with --tls-dir, a tls-creds-x509 object on each side (client on the
 * source, server on the destination, peers verified), then QEMU's
 * tls-creds parameter names it; with --tls-creds, the operator's object.
 * Fills the parameters; -1 when the engine ended.
 */
static int
tls_setup(struct engine *e, struct qmp_client *side, struct qemu_parameters *p)
{
    const char *id = e->cfg.tls_creds;

    if (e->cfg.tls_dir != NULL) {
        id = e->tls_object;
        if (engine_send(e, side,
                        qemu_tls_creds_add(id, e->cfg.tls_dir, side == e->dst),
                        setup_reply) < 0) {
            return -1;
        }
    }
    if (id == NULL) {
        return 0;
    }
    p->tls_creds = id;
    if (side == e->src) {
        p->tls_hostname = e->cfg.tls_hostname;
    }
    return 0;
}

/* --- the initial actions, booked into the parameters ---------------------- */

static void
book_downtime(void *opaque, uint64_t ms)
{
    struct qemu_parameters *p = opaque;

    p->downtime_limit_ms = ms;
}

static void
book_bandwidth(void *opaque, uint64_t bytes_per_s)
{
    struct qemu_parameters *p = opaque;

    p->max_bandwidth = bytes_per_s;
}

/* Before migrate, the levers set parameters sent with the rest. */
static const struct levers_ops setup_levers = {
    .set_downtime = book_downtime,
    .set_bandwidth = book_bandwidth,
};

/*
 * Everything QEMU must know before migrate: capabilities cannot change
 * once a migration runs, so they all go now, then the parameters.  The
 * policy starts here, on its effective configuration.
 */
void
engine_enter_setup(struct engine *e)
{
    struct policy_output *init = &e->initial;
    struct qemu_parameters params, dparams;
    size_t i;

    policy_state_init(&e->pstate, &e->policy);
    memset(init, 0, sizeof(*init));
    policy_initial_actions(&e->policy, &e->pstate, init);
    memset(&params, 0, sizeof(params));
    params.set_downtime_limit = true;
    params.downtime_limit_ms = e->levers.downtime_ms;
    params.set_max_bandwidth = true;
    params.max_bandwidth = e->levers.bandwidth;
    for (i = 0; i < init->n_actions; i++) {
        levers_apply(&e->levers, &setup_levers, &params, &init->actions[i]);
    }
    if ((e->caps & (QEMU_CAP_BIT(QEMU_CAP_AUTO_CONVERGE) |
                    QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT))) &&
        e->policy.kind == POLICY_ADAPTIVE) {
        /* Held back until the policy releases it; see docs/policy.md. */
        params.set_throttle_trigger_threshold = true;
        params.throttle_trigger_threshold = 100;
        if (e->caps & QEMU_CAP_BIT(QEMU_CAP_DIRTY_LIMIT)) {
            params.vcpu_dirty_limit = QEMU_DIRTY_LIMIT_HOLD_MIB_S;
        }
    }
    if (e->caps & QEMU_CAP_BIT(QEMU_CAP_MULTIFD)) {
        params.multifd_channels = e->cfg.parallel;
    }
    if (tls_setup(e, e->src, &params) < 0 ||
        engine_send(e, e->src,
                    qemu_set_capabilities(
                        e->caps, qemu_caps_conflicting(&e->version, e->caps) &
                                     e->caps_known),
                    setup_reply) < 0 ||
        engine_send(e, e->src, qemu_set_parameters(&params), setup_reply) < 0 ||
        e->dst == NULL) {
        return;
    }
    memset(&dparams, 0, sizeof(dparams));
    if (e->dst_caps & QEMU_CAP_BIT(QEMU_CAP_MULTIFD)) {
        dparams.multifd_channels = e->cfg.parallel;
    }
    if (tls_setup(e, e->dst, &dparams) < 0 ||
        engine_send(e, e->dst,
                    qemu_set_capabilities(
                        e->dst_caps,
                        qemu_caps_conflicting(&e->dst_version, e->dst_caps) &
                            e->dst_caps_known),
                    setup_reply) < 0) {
        return;
    }
    /* TLS and the channels must be in place before the destination listens */
    if ((dparams.tls_creds != NULL || dparams.multifd_channels != 0) &&
        engine_send(e, e->dst, qemu_set_parameters(&dparams), setup_reply) <
            0) {
        return;
    }
    if (e->dst_needs_incoming) {
        engine_send(e, e->dst, qemu_migrate_incoming(e->cfg.uri), setup_reply);
    }
}
