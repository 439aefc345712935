/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tests/unit/lib/peer: a QMP monitor in the test's own libev loop, answering
 * through a function, recording every command. */
#ifndef QMIGRATE_TESTS_PEER_H
#define QMIGRATE_TESTS_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>
#include <jansson.h>

#include "qmp/stream.h"

#define PEER_MAX_LOG 512

struct peer;

/*
 * How the peer answers a command: return the "return" value (a new
 * reference; NULL for {}), or set *error (a string the peer sends as a
 * GenericError's desc) and return NULL.  args is borrowed, may be NULL.
 */
typedef json_t *peer_answer_fn(struct peer *p, const char *command,
                               json_t *args, const char **error);

struct peer {
    struct ev_loop *loop;
    char path[108]; /* the UNIX socket it listens on */
    int listen_fd, fd;
    ev_io accept_w, read_w;
    struct qmp_stream in;
    peer_answer_fn *answer;
    void *opaque;            /* for answer */
    int major, minor;        /* the QEMU version it greets with */
    size_t n_log;            /* commands received, in order */
    char *log[PEER_MAX_LOG]; /* "name {args}" */
};

/* Listens on a fresh socket in dir; 0 or -1. */
int peer_start(struct peer *p, struct ev_loop *loop, const char *dir,
               const char *name, peer_answer_fn *answer, void *opaque);
void peer_stop(struct peer *p);
/* Sends an event now (e.g. "MIGRATION"); data may be NULL (stolen). */
void peer_event(struct peer *p, const char *name, json_t *data);
/* How many commands named command were received. */
size_t peer_count(const struct peer *p, const char *command);
/* The first logged entry starting with prefix after index from, or -1. */
int peer_find(const struct peer *p, const char *prefix, size_t from);

#endif /* QMIGRATE_TESTS_PEER_H */
