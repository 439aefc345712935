/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the model's event queue (MIGRATION, MIGRATION_PASS, STOP...). */
#include "tests/fake-qemu/model_internal.h"

#include <stdlib.h>
#include <string.h>

/*
 * Events queue up until the owner takes them.  The queue grows as needed;
 * should memory run out, the oldest event is dropped rather than failing
 * the model, and the loss shows as a gap in the pass numbers.
 */
static void
push(struct fq_model *m, const struct fq_event *ev)
{
    if (m->ev_head + m->ev_len == m->ev_cap && m->ev_head > 0) {
        memmove(m->events, m->events + m->ev_head,
                m->ev_len * sizeof(*m->events));
        m->ev_head = 0;
    }
    if (m->ev_len == m->ev_cap) {
        size_t cap = m->ev_cap ? m->ev_cap * 2 : 16;
        struct fq_event *n = realloc(m->events, cap * sizeof(*n));

        if (n == NULL) {
            if (m->ev_len == 0) {
                return;
            }
            m->ev_head++;
            m->ev_len--;
            push(m, ev);
            return;
        }
        m->events = n;
        m->ev_cap = cap;
    }
    m->events[m->ev_head + m->ev_len] = *ev;
    m->ev_len++;
}

void
fq_model_push_event(struct fq_model *m, enum fq_event_type type)
{
    struct fq_event ev = {.type = type, .time = m->now};

    push(m, &ev);
}

void
fq_model_push_status(struct fq_model *m, enum fq_status status)
{
    struct fq_event ev = {
        .type = FQ_EVENT_MIGRATION,
        .time = m->now,
        .status = status,
    };

    m->status = status;
    push(m, &ev);
}

void
fq_model_push_pass(struct fq_model *m, uint64_t pass)
{
    struct fq_event ev = {
        .type = FQ_EVENT_MIGRATION_PASS,
        .time = m->now,
        .pass = pass,
    };

    push(m, &ev);
}

int
fq_model_next_event(struct fq_model *m, struct fq_event *ev)
{
    if (m->ev_len == 0) {
        return 0;
    }
    *ev = m->events[m->ev_head];
    m->ev_head++;
    m->ev_len--;
    if (m->ev_len == 0) {
        m->ev_head = 0;
    }
    return 1;
}
