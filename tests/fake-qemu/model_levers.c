/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the newer levers in the model: multifd channels, dirty-limit,
 * post-copy's pause and recovery, and what each costs the guest. */
#include "tests/fake-qemu/model_internal.h"

#include <math.h>
#include <stdio.h>

#define MIB 1048576.0
/* How long postcopy-recover lasts before post-copy runs again. */
#define RECOVER_S 0.05
/*
 * Without the preempt channel a page a fault asks for waits behind the
 * background copy already queued in the stream: taken as this much.
 */
#define POSTCOPY_BACKLOG_BYTES (256.0 * 1024.0)

static void
set_error(struct fq_error *err, const char *desc)
{
    if (err != NULL) {
        snprintf(err->cls, sizeof(err->cls), "GenericError");
        snprintf(err->desc, sizeof(err->desc), "%s", desc);
    }
}

/* --- dirty-limit ------------------------------------------------------------
 */

/* Pages/s all vCPUs may dirty under the limit; INFINITY when none. */
static double
limit_pages(const struct fq_model *m)
{
    if (!m->dl_in_service) {
        return INFINITY;
    }
    return (double)m->cfg.vcpus * (double)m->dl_quota * MIB /
           (double)m->cfg.page_size;
}

double
fq_dirty_rate_now(const struct fq_model *m)
{
    return fmin(m->dirty_rate, limit_pages(m));
}

double
fq_model_vcpu_dirty_rate(const struct fq_model *m)
{
    return fq_dirty_rate_now(m) / (m->cfg.vcpus ? m->cfg.vcpus : 1);
}

/* migration_dirty_limit_guest(): the parameter's quota, set or updated. */
void
fq_dirty_limit_trigger(struct fq_model *m)
{
    m->dl_in_service = true;
    m->dl_quota = m->params.vcpu_dirty_limit;
}

/* dirtylimit_is_allowed(): not while the migration's own is in service. */
static int
dirty_limit_allowed(const struct fq_model *m, const char *what,
                    struct fq_error *err)
{
    char desc[128];

    if (!m->cfg.dirty_ring) {
        set_error(err, "dirty page limit feature requires KVM with "
                       "accelerator property 'dirty-ring-size' set'");
        return -1;
    }
    if (fq_model_migrating(m) && m->caps.dirty_limit && m->dl_in_service) {
        snprintf(desc, sizeof(desc),
                 "can't %s dirty page rate limit while migration is running",
                 what);
        set_error(err, desc);
        return -1;
    }
    return 0;
}

int
fq_model_set_dirty_limit(struct fq_model *m, uint64_t mib_s,
                         struct fq_error *err)
{
    if (dirty_limit_allowed(m, "set", err) < 0) {
        return -1;
    }
    if (mib_s == 0) {
        m->dl_in_service = false;
        return 0;
    }
    m->dl_in_service = true;
    m->dl_quota = mib_s;
    return 0;
}

int
fq_model_cancel_dirty_limit(struct fq_model *m, struct fq_error *err)
{
    if (!m->cfg.dirty_ring) {
        return 0; /* QEMU: nothing to cancel, and no error */
    }
    if (dirty_limit_allowed(m, "cancel", err) < 0) {
        return -1;
    }
    m->dl_in_service = false;
    return 0;
}

uint64_t
fq_model_dirty_limit(const struct fq_model *m)
{
    return m->dl_in_service ? m->dl_quota : 0;
}

/* --- multifd -----------------------------------------------------------------
 */

double
fq_channels_rate(const struct fq_model *m, double rate)
{
    double n = m->caps.multifd && m->params.multifd_channels > 0
                   ? (double)m->params.multifd_channels
                   : 1;

    if (m->cfg.channel_rate > 0) {
        rate = fmin(rate, n * m->cfg.channel_rate);
    }
    return rate;
}

/* --- post-copy: pause and recovery
 * -------------------------------------------- */

static bool
in_postcopy(const struct fq_model *m)
{
    return m->phase == FQ_PHASE_POSTCOPY ||
           m->phase == FQ_PHASE_POSTCOPY_RECOVER ||
           m->phase == FQ_PHASE_POSTCOPY_SWITCH;
}

static void
paused(struct fq_model *m, const char *desc)
{
    snprintf(m->error_desc, sizeof(m->error_desc), "%s", desc);
    m->phase = FQ_PHASE_POSTCOPY_PAUSED;
    fq_model_push_status(m, FQ_STATUS_POSTCOPY_PAUSED);
}

int
fq_model_pause(struct fq_model *m, struct fq_error *err)
{
    if (m->status != FQ_STATUS_POSTCOPY_ACTIVE &&
        m->status != FQ_STATUS_POSTCOPY_RECOVER) {
        set_error(err, "migrate-pause is currently only supported during "
                       "postcopy-active or postcopy-recover state");
        return -1;
    }
    paused(m, "Postcopy migration is paused by the user");
    return 0;
}

int
fq_model_break_stream(struct fq_model *m, const char *desc)
{
    if (!fq_model_migrating(m)) {
        return -1;
    }
    if (in_postcopy(m)) {
        paused(m, desc[0] ? desc
                          : "Detected IO failure for postcopy. "
                            "Migration paused.");
        return 0;
    }
    return fq_model_fail(m, desc[0] ? desc
                                    : "Unable to write to socket: "
                                      "Connection reset by peer");
}

int
fq_model_resume(struct fq_model *m, bool reachable, struct fq_error *err)
{
    if (m->phase != FQ_PHASE_POSTCOPY_PAUSED) {
        set_error(err, "Cannot resume if there is no paused migration");
        return -1;
    }
    if (!reachable) {
        /* the connection fails later; the migration stays paused */
        snprintf(m->error_desc, sizeof(m->error_desc),
                 "Failed to connect: Connection refused");
        return 0;
    }
    m->error_desc[0] = '\0';
    m->stalled = false; /* a new connection: whatever stalled the old */
    m->phase = FQ_PHASE_POSTCOPY_RECOVER;
    m->phase_end = m->now + RECOVER_S;
    fq_model_push_status(m, FQ_STATUS_POSTCOPY_RECOVER);
    return 0;
}

void
fq_step_postcopy_paused(struct fq_model *m, double end)
{
    double to = end;

    if (m->phase == FQ_PHASE_POSTCOPY_RECOVER && m->phase_end < end) {
        to = m->phase_end;
    }
    fq_cost_postcopy(m, to - m->now, true);
    m->now = to;
    if (m->phase == FQ_PHASE_POSTCOPY_RECOVER && m->now >= m->phase_end) {
        m->phase = FQ_PHASE_POSTCOPY;
        fq_model_push_status(m, FQ_STATUS_POSTCOPY_ACTIVE);
    }
}

/* --- what it costs the guest
 * -------------------------------------------------- */

void
fq_cost_throttled(struct fq_model *m, double dt)
{
    double run = (100.0 - m->throttle) / 100.0;
    double lost = 1 - run;

    if (m->dl_in_service && m->dirty_rate * run > limit_pages(m)) {
        /* the vCPUs sleep until their rate is down to the limit */
        lost += run * (1 - limit_pages(m) / (m->dirty_rate * run));
    }
    m->throttled_s += lost * dt;
}

/*
 * The destination's guest touches its working set at the dirty rate; a
 * page still on the source is a fault that waits for one round trip and
 * the page (behind the background copy without the preempt channel).  A
 * paused stream answers no fault: the guest waits as soon as it needs a
 * missing page.
 */
void
fq_cost_postcopy(struct fq_model *m, double dt, bool paused_stream)
{
    double missing = m->pages_ws > 0 ? m->dirty_ws / m->pages_ws : 0;
    double link = fq_channels_rate(m, m->cfg.link_bandwidth);
    double wait, n, blocked;

    if (dt <= 0 || missing <= FQ_EPS) {
        return;
    }
    if (paused_stream) {
        m->blocked_s += dt;
        return;
    }
    wait = m->cfg.fault_rtt + (double)m->cfg.page_size / link;
    if (!m->caps.postcopy_preempt) {
        wait += POSTCOPY_BACKLOG_BYTES / link;
    }
    n = m->dirty_rate * missing;
    blocked = n * wait / (1 + n * wait);
    m->blocked_s += blocked * dt;
}

void
fq_model_guest_cost(const struct fq_model *m, struct fq_guest_cost *c)
{
    c->throttled_s = m->throttled_s;
    c->blocked_s = m->blocked_s;
    c->faults = m->postcopy_requests;
}
