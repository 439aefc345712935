/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: a source and its destination in one process: the source's
 * migrate finds the destination listening at its URI, and the destination
 * reports the source's migration as its own. */
#include "tests/fake-qemu/fake.h"

#include <string.h>

#define LINK_MAX 4096

/* Every VM of the process (a test fake is one process, one thread). */
static struct fq_vm *registry[LINK_MAX];

void
fq_link_register(struct fq_vm *vm)
{
    size_t i;

    for (i = 0; i < LINK_MAX; i++) {
        if (registry[i] == NULL) {
            registry[i] = vm;
            return;
        }
    }
}

void
fq_link_unregister(struct fq_vm *vm)
{
    size_t i;

    for (i = 0; i < LINK_MAX; i++) {
        if (registry[i] == vm) {
            registry[i] = NULL;
        } else if (registry[i] != NULL && registry[i]->peer == vm) {
            registry[i]->peer = NULL;
        }
    }
}

/* multifd must agree on both sides, or QEMU's channels never connect. */
static void
check_channels(struct fq_vm *src, struct fq_vm *dst)
{
    const struct fq_caps *sc = fq_model_caps(src->model);
    const struct fq_caps *dc = fq_model_caps(dst->model);

    if (sc->multifd != dc->multifd ||
        (sc->multifd && fq_model_params(src->model)->multifd_channels !=
                            fq_model_params(dst->model)->multifd_channels)) {
        fq_model_fail(src->model, "multifd: the destination's capability or "
                                  "channels differ from the source's");
    } else if (sc->postcopy_ram != dc->postcopy_ram ||
               sc->postcopy_preempt != dc->postcopy_preempt) {
        fq_model_fail(src->model, "post-copy: the destination's capabilities "
                                  "differ from the source's");
    }
}

void
fq_link_migrate(struct fq_vm *vm, const char *uri)
{
    size_t i;

    for (i = 0; uri != NULL && i < LINK_MAX; i++) {
        struct fq_vm *d = registry[i];

        if (d != NULL && d != vm && d->listen_uri[0] != '\0' &&
            strcmp(d->listen_uri, uri) == 0) {
            vm->peer = d;
            d->peer = vm;
            check_channels(vm, d);
            return;
        }
    }
}

/* What the destination says of the migration its source runs. */
static const char *
dest_status(const struct fq_vm *dst)
{
    enum fq_status st = fq_model_status(dst->peer->model);

    switch (st) {
    case FQ_STATUS_POSTCOPY_ACTIVE:
    case FQ_STATUS_POSTCOPY_PAUSED:
    case FQ_STATUS_POSTCOPY_RECOVER:
    case FQ_STATUS_COMPLETED:
        return fq_status_name(st);
    case FQ_STATUS_FAILED:
    case FQ_STATUS_CANCELLED:
    case FQ_STATUS_CANCELLING:
        return "failed";
    default:
        return "active";
    }
}

json_t *
fq_link_dest_query_migrate(const struct fq_vm *dst)
{
    if (dst->peer != NULL) {
        return json_pack("{s:s}", "status", dest_status(dst));
    }
    if (dst->listen_uri[0] != '\0') {
        return json_pack("{s:[{s:s, s:s}]}", "socket-address", "type", "uri",
                         "uri", dst->listen_uri);
    }
    return json_object();
}

const char *
fq_link_dest_runstate(const struct fq_vm *dst)
{
    enum fq_status st;

    if (dst->peer == NULL) {
        return "inmigrate";
    }
    st = fq_model_status(dst->peer->model);
    if (st == FQ_STATUS_COMPLETED || st == FQ_STATUS_POSTCOPY_ACTIVE ||
        st == FQ_STATUS_POSTCOPY_PAUSED || st == FQ_STATUS_POSTCOPY_RECOVER) {
        return "running";
    }
    return "inmigrate";
}
