/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the QMP commands a migration controller uses. */
#include "tests/fake-qemu/fake.h"

#include <string.h>

static json_t *
cmd_migrate(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec72[] = {
        {"uri", FQ_ARG_STR, true},      {"blk", FQ_ARG_BOOL, false},
        {"inc", FQ_ARG_BOOL, false},    {"detach", FQ_ARG_BOOL, false},
        {"resume", FQ_ARG_BOOL, false},
    };
    static const struct fq_arg spec91[] = {
        {"uri", FQ_ARG_STR, false},
        {"channels", FQ_ARG_ANY, false},
        {"detach", FQ_ARG_BOOL, false},
        {"resume", FQ_ARG_BOOL, false},
    };
    struct fq_migrate_args a = {0};
    const char *uri;
    bool v91 = fq_version_at_least(&vm->version, 9, 1);

    if (v91 ? fq_args_check(args, spec91, 4, err)
            : fq_args_check(args, spec72, 5, err)) {
        return NULL;
    }
    uri = json_string_value(json_object_get(args, "uri"));
    if (v91 && fq_channels_check(json_object_get(args, "uri"),
                                 json_object_get(args, "channels"), err) < 0) {
        return NULL;
    }
    if (v91 && uri != NULL && !fq_uri_scheme_known(&vm->version, uri)) {
        /* 9.1+ parse the URI before anything starts */
        fq_error_set(err, "GenericError", "unknown migration protocol: %s",
                     uri);
        return NULL;
    }
    if (json_is_true(json_object_get(args, "resume"))) {
        return fq_levers_resume(vm, uri, err);
    }
    a.blk = json_is_true(json_object_get(args, "blk"));
    a.inc = json_is_true(json_object_get(args, "inc"));
    if (fq_model_migrate(vm->model, &a, err) < 0) {
        return NULL;
    }
    if (uri != NULL && !fq_uri_scheme_known(&vm->version, uri)) {
        /* QEMU sets up, then fails the migration without a description */
        fq_model_fail(vm->model, "");
        fq_error_set(err, "GenericError",
                     "Parameter 'uri' expects a valid migration protocol");
        return NULL;
    }
    fq_link_migrate(vm, uri);
    return json_object();
}

static json_t *
cmd_set_parameters(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    struct fq_params p = *fq_model_params(vm->model);

    if (fq_params_set(vm->params, args, &vm->version, &p, err) < 0) {
        return NULL;
    }
    fq_model_set_params(vm->model, &p);
    return json_object();
}

static json_t *
cmd_set_capabilities(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    bool state[FQ_MAX_CAPS];
    struct fq_caps c = *fq_model_caps(vm->model);

    memcpy(state, vm->caps, sizeof(state));
    if (fq_caps_set(state, args, &vm->version, &c, err) < 0 ||
        fq_model_set_caps(vm->model, &c, err) < 0) {
        return NULL;
    }
    memcpy(vm->caps, state, sizeof(state));
    return json_object();
}

static json_t *
cmd_continue(struct fq_vm *vm, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"state", FQ_ARG_STR, true},
    };
    const char *name;
    int st;

    if (fq_args_check(args, spec, 1, err) < 0) {
        return NULL;
    }
    name = json_string_value(json_object_get(args, "state"));
    st = fq_status_from_name(name);
    if (st < 0 || (st == FQ_STATUS_NONE && strcmp(name, "none") != 0)) {
        fq_error_set(err, "GenericError",
                     "Parameter 'state' does not accept value '%s'", name);
        return NULL;
    }
    if (fq_model_continue(vm->model, (enum fq_status)st, err) < 0) {
        return NULL;
    }
    return json_object();
}

static json_t *
cmd_query_migrate(struct fq_vm *vm)
{
    struct fq_migration_info info;

    if (fq_model_runstate(vm->model) == FQ_RUN_INMIGRATE) {
        return fq_link_dest_query_migrate(vm);
    }
    fq_model_query(vm->model, &info);
    return fq_query_migrate_json(&info, &vm->version);
}

static json_t *
cmd_query_status(struct fq_vm *vm)
{
    enum fq_runstate r = fq_model_runstate(vm->model);
    const char *name =
        r == FQ_RUN_INMIGRATE ? fq_link_dest_runstate(vm) : fq_runstate_name(r);
    bool running = strcmp(name, "running") == 0;

    /* StatusInfo's members in schema order */
    if (!fq_status_has_singlestep(&vm->version)) {
        return json_pack("{s:b, s:s}", "running", running, "status", name);
    }
    return json_pack("{s:b, s:b, s:s}", "running", running, "singlestep", 0,
                     "status", name);
}

static json_t *
cmd_query_version(struct fq_vm *vm)
{
    return json_pack("{s:{s:i, s:i, s:i}, s:s}", "qemu", "major",
                     vm->version.major, "minor", vm->version.minor, "micro",
                     vm->version.micro, "package", vm->version.package);
}

static const char *const command_names[] = {
    "calc-dirty-rate",
    "cont",
    "migrate",
    "migrate-continue",
    "migrate-set-capabilities",
    "migrate-set-parameters",
    "migrate-start-postcopy",
    "migrate_cancel",
    "qmp_capabilities",
    "query-block-jobs",
    "query-commands",
    "query-dirty-rate",
    "query-migrate",
    "query-migrate-capabilities",
    "query-migrate-parameters",
    "query-status",
    "query-version",
    "quit",
    "stop",
};

#define N_COMMANDS (sizeof(command_names) / sizeof(command_names[0]))

bool
fq_command_exists(const struct fq_version *v, const char *name)
{
    size_t i;

    (void)v;
    for (i = 0; i < N_COMMANDS; i++) {
        if (strcmp(command_names[i], name) == 0) {
            return true;
        }
    }
    for (i = 0; i < fq_levers_n_command_names; i++) {
        if (strcmp(fq_levers_command_names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static json_t *
cmd_query_commands(void)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < N_COMMANDS; i++) {
        if (json_array_append_new(
                a, json_pack("{s:s}", "name", command_names[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    for (i = 0; a != NULL && i < fq_levers_n_command_names; i++) {
        if (json_array_append_new(
                a, json_pack("{s:s}", "name", fq_levers_command_names[i])) <
            0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Commands without arguments refuse any, as QEMU does. */
static bool
no_args(const json_t *args, struct fq_error *err)
{
    return fq_args_check(args, NULL, 0, err) == 0;
}

json_t *
fq_command_run(struct fq_vm *vm, const char *name, const json_t *args,
               struct fq_error *err)
{
    json_t *ret = NULL;
    bool handled;

    ret = fq_levers_command(vm, name, args, &handled, err);
    if (handled) {
        return ret;
    }
    if (strcmp(name, "migrate") == 0) {
        return cmd_migrate(vm, args, err);
    } else if (strcmp(name, "migrate-set-parameters") == 0) {
        return cmd_set_parameters(vm, args, err);
    } else if (strcmp(name, "migrate-set-capabilities") == 0) {
        return cmd_set_capabilities(vm, args, err);
    } else if (strcmp(name, "migrate-continue") == 0) {
        return cmd_continue(vm, args, err);
    } else if (strcmp(name, "calc-dirty-rate") == 0) {
        return fq_cmd_calc_dirty_rate(vm, args, err);
    } else if (strcmp(name, "query-dirty-rate") == 0) {
        return fq_cmd_query_dirty_rate(vm, args, err);
    }
    if (!no_args(args, err)) {
        return NULL;
    }
    if (strcmp(name, "migrate_cancel") == 0) {
        fq_model_cancel(vm->model);
        ret = json_object();
    } else if (strcmp(name, "migrate-start-postcopy") == 0) {
        if (fq_model_start_postcopy(vm->model, err) < 0) {
            return NULL;
        }
        ret = json_object();
    } else if (strcmp(name, "query-migrate") == 0) {
        ret = cmd_query_migrate(vm);
    } else if (strcmp(name, "query-migrate-parameters") == 0) {
        ret = json_deep_copy(vm->params);
    } else if (strcmp(name, "query-migrate-capabilities") == 0) {
        ret = fq_caps_json(&vm->version, vm->caps);
    } else if (strcmp(name, "query-status") == 0) {
        ret = cmd_query_status(vm);
    } else if (strcmp(name, "stop") == 0) {
        fq_model_stop(vm->model);
        ret = json_object();
    } else if (strcmp(name, "cont") == 0) {
        if (fq_model_cont(vm->model, err) < 0) {
            return NULL;
        }
        ret = json_object();
    } else if (strcmp(name, "query-version") == 0) {
        ret = cmd_query_version(vm);
    } else if (strcmp(name, "query-block-jobs") == 0) {
        ret = json_array();
    } else if (strcmp(name, "query-commands") == 0) {
        ret = cmd_query_commands();
    } else if (strcmp(name, "quit") == 0) {
        vm->quit = true;
        ret = json_object();
    } else {
        fq_error_set(err, "CommandNotFound",
                     "The command %s has not been found", name);
        return NULL;
    }
    if (ret == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
    }
    return ret;
}
