/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the commands of the newer levers (dirty-limit, post-copy
 * recovery, vCPUs) and of a destination (migrate-incoming). */
#include "tests/fake-qemu/fake.h"

#include <string.h>

const char *const fq_levers_command_names[] = {
    "cancel-vcpu-dirty-limit", "migrate-incoming", "migrate-pause",
    "migrate-recover",         "query-cpus-fast",  "query-vcpu-dirty-limit",
    "set-vcpu-dirty-limit",
};

const size_t fq_levers_n_command_names =
    sizeof(fq_levers_command_names) / sizeof(fq_levers_command_names[0]);

static json_t *
cpus(const struct fq_vm *vm)
{
    unsigned n = fq_model_config(vm->model)->vcpus;
    json_t *list = json_array();
    unsigned i;

    for (i = 0; i < n; i++) {
        json_array_append_new(
            list, json_pack("{s:i, s:s, s:i, s:s}", "cpu-index", (int)i,
                            "qom-path", "/machine/unattached/device[0]",
                            "thread-id", (int)(1000 + i), "target", "x86_64"));
    }
    return list;
}

static json_t *
dirty_limits(const struct fq_vm *vm)
{
    unsigned n = fq_model_config(vm->model)->vcpus;
    uint64_t quota = fq_model_dirty_limit(vm->model);
    double rate = fq_model_vcpu_dirty_rate(vm->model) *
                  (double)fq_model_config(vm->model)->page_size / 1048576.0;
    json_t *list = json_array();
    unsigned i;

    for (i = 0; quota != 0 && i < n; i++) {
        json_array_append_new(list,
                              json_pack("{s:I, s:I, s:i}", "limit-rate",
                                        (json_int_t)quota, "current-rate",
                                        (json_int_t)rate, "cpu-index", (int)i));
    }
    return list;
}

static json_t *
set_dirty_limit(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"cpu-index", FQ_ARG_ANY, false},
        {"dirty-rate", FQ_ARG_ANY, true},
    };
    json_t *rate;

    if (fq_args_check(args, spec, 2, err) < 0) {
        return NULL;
    }
    rate = json_object_get(args, "dirty-rate");
    if (!json_is_integer(rate) || json_integer_value(rate) < 0) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for 'dirty-rate', expected: "
                     "integer");
        return NULL;
    }
    if (fq_model_set_dirty_limit(vm->model, (uint64_t)json_integer_value(rate),
                                 err) < 0) {
        return NULL;
    }
    return json_object();
}

/* A destination started with -incoming defer starts listening. */
static json_t *
migrate_incoming(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"uri", FQ_ARG_STR, true},
    };

    if (fq_args_check(args, spec, 1, err) < 0) {
        return NULL;
    }
    if (fq_model_runstate(vm->model) != FQ_RUN_INMIGRATE) {
        fq_error_set(err, "GenericError",
                     "'-incoming' was not specified on the command line");
        return NULL;
    }
    if (vm->listen_uri[0] != '\0') {
        fq_error_set(err, "GenericError",
                     "The incoming migration has already been started");
        return NULL;
    }
    snprintf(vm->listen_uri, sizeof(vm->listen_uri), "%s",
             json_string_value(json_object_get(args, "uri")));
    return json_object();
}

/* On the destination: listen again, once its source is paused. */
static json_t *
migrate_recover(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"uri", FQ_ARG_STR, true},
    };

    if (fq_args_check(args, spec, 1, err) < 0) {
        return NULL;
    }
    if (fq_model_runstate(vm->model) != FQ_RUN_INMIGRATE || vm->peer == NULL ||
        fq_model_status(vm->peer->model) != FQ_STATUS_POSTCOPY_PAUSED) {
        fq_error_set(err, "GenericError",
                     "Migrate recover can only be run when postcopy is "
                     "paused.");
        return NULL;
    }
    snprintf(vm->recover_uri, sizeof(vm->recover_uri), "%s",
             json_string_value(json_object_get(args, "uri")));
    return json_object();
}

json_t *
fq_levers_resume(struct fq_vm *vm, const char *uri, struct fq_error *err)
{
    bool reachable = vm->peer != NULL && uri != NULL &&
                     strcmp(vm->peer->recover_uri, uri) == 0;

    if (fq_model_resume(vm->model, reachable, err) < 0) {
        return NULL;
    }
    if (reachable) {
        vm->peer->recover_uri[0] = '\0';
    }
    return json_object();
}

/* The commands without arguments (QEMU refuses any before acting). */
static json_t *
no_args_command(struct fq_vm *vm, const char *name, struct fq_error *err)
{
    if (strcmp(name, "cancel-vcpu-dirty-limit") == 0) {
        return fq_model_cancel_dirty_limit(vm->model, err) < 0 ? NULL
                                                               : json_object();
    }
    if (strcmp(name, "migrate-pause") == 0) {
        return fq_model_pause(vm->model, err) < 0 ? NULL : json_object();
    }
    if (strcmp(name, "query-cpus-fast") == 0) {
        return cpus(vm);
    }
    return dirty_limits(vm); /* query-vcpu-dirty-limit */
}

json_t *
fq_levers_command(struct fq_vm *vm, const char *name, const json_t *args,
                  bool *handled, struct fq_error *err)
{
    size_t i;

    *handled = true;
    if (strcmp(name, "set-vcpu-dirty-limit") == 0) {
        return set_dirty_limit(vm, args, err);
    }
    if (strcmp(name, "migrate-incoming") == 0) {
        return migrate_incoming(vm, args, err);
    }
    if (strcmp(name, "migrate-recover") == 0) {
        return migrate_recover(vm, args, err);
    }
    for (i = 0; i < fq_levers_n_command_names; i++) {
        if (strcmp(name, fq_levers_command_names[i]) == 0) {
            return fq_args_check(args, NULL, 0, err) < 0
                       ? NULL
                       : no_args_command(vm, name, err);
        }
    }
    *handled = false;
    return NULL;
}
