/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: model state as QMP JSON, printed the way QEMU prints it. */
#ifndef QMIGRATE_FAKE_QUERY_JSON_H
#define QMIGRATE_FAKE_QUERY_JSON_H

#include <stdbool.h>

#include <jansson.h>

#include "tests/fake-qemu/model.h"

/* What differs between the QEMU versions the fake can pretend to be. */
struct fq_version {
    int major;
    int minor;
    int micro;
    char package[64];
};

/* query_json.c */
/* True when version v is at least major.minor. */
bool fq_version_at_least(const struct fq_version *v, int major, int minor);
/*
 * query-migrate's return value for info (a new reference; NULL only when
 * out of memory).  Members are those QEMU v prints: `disk` and
 * `ram.skipped` exist up to 9.0.
 */
json_t *fq_query_migrate_json(const struct fq_migration_info *info,
                              const struct fq_version *v);
/* The data of an event (new reference); NULL for events without data. */
json_t *fq_event_data_json(const struct fq_event *ev);
/* QEMU's event name for ev->type. */
const char *fq_event_name(const struct fq_event *ev);

/* qemu_json.c */
/*
 * Prints v the way QEMU's monitor does: members in QEMU's QDict order
 * (hash buckets, newest first within a bucket; insert members in the
 * QAPI schema's order to match), ", " and ": " separators, numbers with
 * %.17g, output in ASCII with \uXXXX escapes.  Returns a malloc'd string
 * the caller frees, or NULL when out of memory.
 */
char *fq_json_dumps_qemu(const json_t *v);

#endif /* QMIGRATE_FAKE_QUERY_JSON_H */
