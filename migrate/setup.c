/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migrate/setup: what QEMU must know before migrate: the capabilities the
 * options ask for, checked against the version, then the parameters. */
#include <stdio.h>
#include <string.h>

#include "migrate/internal.h"

/* The capabilities the source needs for this configuration. */
static unsigned
wanted_caps(const struct engine *e)
{
    unsigned caps = QEMU_CAP_BIT(QEMU_CAP_EVENTS);

    if (e->cfg.disk == ENGINE_DISK_MIRROR) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_PAUSE_BEFORE_SWITCHOVER);
    } else if (e->cfg.disk == ENGINE_DISK_BLK) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_BLOCK);
    }
    if (e->policy.auto_converge_permitted) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_AUTO_CONVERGE);
    }
    if (e->policy.postcopy_permitted) {
        caps |= QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM);
    }
    return caps;
}

int
engine_negotiate(struct engine *e)
{
    char why[512];

    if (qemu_caps_check(&e->version, wanted_caps(e), why, sizeof(why)) < 0) {
        engine_finish(e, QM_EXIT_USAGE, "error", "%s", why);
        return -1;
    }
    return 0;
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
    unsigned dcaps = QEMU_CAP_BIT(QEMU_CAP_EVENTS);
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
    if (e->policy.auto_converge_permitted &&
        e->policy.kind == POLICY_ADAPTIVE) {
        /* Held back until the policy releases it; see docs/policy.md. */
        params.set_throttle_trigger_threshold = true;
        params.throttle_trigger_threshold = 100;
    }
    if (tls_setup(e, e->src, &params) < 0 ||
        engine_send(e, e->src, qemu_set_capabilities(wanted_caps(e)),
                    setup_reply) < 0 ||
        engine_send(e, e->src, qemu_set_parameters(&params), setup_reply) < 0 ||
        e->dst == NULL) {
        return;
    }
    memset(&dparams, 0, sizeof(dparams));
    if (e->policy.postcopy_permitted) {
        dcaps |= QEMU_CAP_BIT(QEMU_CAP_POSTCOPY_RAM);
    }
    if (tls_setup(e, e->dst, &dparams) < 0 ||
        engine_send(e, e->dst, qemu_set_capabilities(dcaps), setup_reply) < 0) {
        return;
    }
    /* TLS must be in place before the destination listens */
    if (dparams.tls_creds != NULL &&
        engine_send(e, e->dst, qemu_set_parameters(&dparams), setup_reply) <
            0) {
        return;
    }
    if (e->dst_needs_incoming) {
        engine_send(e, e->dst, qemu_migrate_incoming(e->cfg.uri), setup_reply);
    }
}
