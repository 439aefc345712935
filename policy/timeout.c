/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: the --timeout-action, abort or force-complete, applied once. */
#include "policy/internal.h"

void
policy_internal_timeout_action(const struct policy_config *cfg,
                               struct policy_state *st,
                               const struct policy_sample *s,
                               struct policy_output *out, const char *why)
{
    if (st->cancelled || migration_status_is_postcopy(s->status)) {
        return;
    }
    if (cfg->timeout_action == POLICY_TIMEOUT_ABORT) {
        policy_internal_cancel(st, out, s, "%s: abort", why);
        return;
    }
    if (cfg->postcopy_permitted && !st->postcopy_requested) {
        if (policy_internal_emit(out, s, POLICY_ACTION_START_POSTCOPY, 0,
                                 "%s: force-complete by post-copy",
                                 why) != NULL) {
            st->postcopy_requested = true;
        }
        return;
    }
    /*
     * Callers skip this while a requested post-copy may still start.
     * Nova re-enqueues the pause every poll; one stop is enough.
     */
    if (!st->paused &&
        policy_internal_emit(out, s, POLICY_ACTION_PAUSE, 0,
                             "%s: force-complete by pausing the guest "
                             "(%s)",
                             why,
                             cfg->postcopy_permitted
                                 ? "post-copy did not start"
                                 : "post-copy not permitted") != NULL) {
        st->paused = true;
    }
}
