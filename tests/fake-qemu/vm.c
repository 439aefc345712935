/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: one fake QEMU, its model plus what only QMP sees. */
#include "tests/fake-qemu/fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
fq_version_parse(const char *text, struct fq_version *v, struct fq_error *err)
{
    int major;
    int minor;
    int micro;
    int end = 0;

    if (sscanf(text, "%d.%d.%d%n", &major, &minor, &micro, &end) != 3 ||
        text[end] != '\0' || major < 0 || minor < 0 || micro < 0 ||
        major > 99 || minor > 99 || micro > 999) {
        fq_error_set(err, "GenericError",
                     "version '%s' is not MAJOR.MINOR.MICRO (e.g. 7.2.22)",
                     text);
        return -1;
    }
    if (major * 100 + minor < 702) {
        fq_error_set(err, "GenericError",
                     "version '%s' is older than 7.2, which fake-qemu "
                     "cannot pretend to be",
                     text);
        return -1;
    }
    v->major = major;
    v->minor = minor;
    v->micro = micro;
    return 0;
}

int
fq_vm_init(struct fq_vm *vm, const char *name,
           const struct fq_model_config *cfg, const struct fq_version *version,
           struct fq_error *err)
{
    struct fq_model_config c = *cfg;

    memset(vm, 0, sizeof(*vm));
    snprintf(vm->name, sizeof(vm->name), "%s", name);
    vm->version = *version;
    c.device_switchover = fq_version_at_least(version, 10, 0);
    vm->model = fq_model_new(&c, err);
    if (vm->model == NULL) {
        return -1;
    }
    vm->params = fq_params_defaults(version);
    if (vm->params == NULL) {
        fq_model_free(vm->model);
        vm->model = NULL;
        fq_error_set(err, "GenericError", "out of memory");
        return -1;
    }
    fq_link_register(vm);
    return 0;
}

void
fq_vm_fini(struct fq_vm *vm)
{
    fq_link_unregister(vm);
    fq_model_free(vm->model);
    json_decref(vm->params);
    vm->model = NULL;
    vm->params = NULL;
}
