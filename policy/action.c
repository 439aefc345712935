/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: appending actions to an output, with their reasons. */
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

static struct policy_action *
vemit(struct policy_output *out, const struct policy_sample *s,
      enum policy_action_kind kind, uint64_t value, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static struct policy_action *
vemit(struct policy_output *out, const struct policy_sample *s,
      enum policy_action_kind kind, uint64_t value, const char *fmt, va_list ap)
{
    struct policy_action *a;
    char *nl;

    if (out->n_actions >= POLICY_MAX_ACTIONS) {
        return NULL;
    }
    /* The last guard: post-copy cannot be aborted or paused away. */
    if (s != NULL && migration_status_is_postcopy(s->status) &&
        (kind == POLICY_ACTION_CANCEL || kind == POLICY_ACTION_PAUSE)) {
        return NULL;
    }
    a = &out->actions[out->n_actions++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->value = value;
    vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
    /* One line, whatever went into it. */
    while ((nl = strpbrk(a->reason, "\r\n")) != NULL) {
        *nl = ' ';
    }
    return a;
}

struct policy_action *
policy_internal_emit(struct policy_output *out, const struct policy_sample *s,
                     enum policy_action_kind kind, uint64_t value,
                     const char *fmt, ...)
{
    struct policy_action *a;
    va_list ap;

    va_start(ap, fmt);
    a = vemit(out, s, kind, value, fmt, ap);
    va_end(ap);
    return a;
}

void
policy_internal_set_downtime(struct policy_state *st, struct policy_output *out,
                             const struct policy_sample *s, uint64_t ms,
                             const char *why)
{
    if (policy_internal_emit(out, s, POLICY_ACTION_SET_DOWNTIME, ms,
                             "%s: downtime %llu ms", why,
                             (unsigned long long)ms) != NULL) {
        st->downtime_ms = ms;
    }
}

bool
policy_internal_cancel(struct policy_state *st, struct policy_output *out,
                       const struct policy_sample *s, const char *fmt, ...)
{
    struct policy_action *a;
    va_list ap;

    va_start(ap, fmt);
    a = vemit(out, s, POLICY_ACTION_CANCEL, 0, fmt, ap);
    va_end(ap);
    if (a != NULL) {
        st->cancelled = true;
    }
    return a != NULL;
}

double
policy_internal_mb(double bytes)
{
    return bytes / 1e6;
}

int
policy_internal_mb_prec(double bytes)
{
    return bytes < 10e6 ? 1 : 0;
}
