/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: one QMP session: greeting, negotiation, dispatch, replies. */
#include "tests/fake-qemu/fake.h"

#include <math.h>
#include <string.h>

json_t *
fq_monitor_greeting(const struct fq_vm *vm)
{
    return json_pack("{s:{s:{s:{s:i, s:i, s:i}, s:s}, s:[s]}}", "QMP",
                     "version", "qemu", "major", vm->version.major, "minor",
                     vm->version.minor, "micro", vm->version.micro, "package",
                     vm->version.package, "capabilities", "oob");
}

const char *
fq_monitor_command_name(const json_t *req)
{
    json_t *v = json_object_get(req, "execute");

    if (v == NULL) {
        v = json_object_get(req, "exec-oob");
    }
    return json_string_value(v);
}

/* {"error": {...}, "id": ...}: members in schema order, id last. */
json_t *
fq_monitor_error(const json_t *req, const struct fq_error *err)
{
    json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    json_t *rsp = json_pack("{s:{s:s, s:s}}", "error", "class", err->cls,
                            "desc", err->desc);

    if (rsp != NULL && id != NULL) {
        json_object_set(rsp, "id", id);
    }
    return rsp;
}

static json_t *
reply(const json_t *req, json_t *ret)
{
    json_t *id = json_object_get(req, "id");
    json_t *rsp = json_object();

    if (rsp == NULL || json_object_set_new(rsp, "return", ret) < 0) {
        json_decref(rsp);
        return NULL;
    }
    if (id != NULL) {
        json_object_set(rsp, "id", id);
    }
    return rsp;
}

/* qmp_dispatch()'s checks of the request itself. */
static int
check_request(const json_t *req, const struct fq_session *s, const char **name,
              struct fq_error *err)
{
    const char *key;
    json_t *val;

    *name = NULL;
    if (!json_is_object(req)) {
        fq_error_set(err, "GenericError", "QMP input must be a JSON object");
        return -1;
    }
    json_object_foreach ((json_t *)req, key, val) {
        if (strcmp(key, "execute") == 0 ||
            (strcmp(key, "exec-oob") == 0 && s->oob)) {
            if (!json_is_string(val)) {
                fq_error_set(err, "GenericError",
                             "QMP input member '%s' must be a string", key);
                return -1;
            }
            if (*name != NULL) {
                fq_error_set(err, "GenericError",
                             "QMP input member 'execute' and 'exec-oob' are "
                             "mutually exclusive");
                return -1;
            }
            *name = json_string_value(val);
        } else if (strcmp(key, "arguments") == 0) {
            if (!json_is_object(val)) {
                fq_error_set(err, "GenericError",
                             "QMP input member 'arguments' must be an "
                             "object");
                return -1;
            }
        } else if (strcmp(key, "id") != 0) {
            fq_error_set(err, "GenericError",
                         "QMP input member '%s' is unexpected", key);
            return -1;
        }
    }
    if (*name == NULL) {
        fq_error_set(err, "GenericError", "QMP input lacks member 'execute'");
        return -1;
    }
    return 0;
}

/* qmp_capabilities, the one command of negotiation mode. */
static json_t *
capabilities(struct fq_session *s, const json_t *args, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"enable", FQ_ARG_ANY, false},
    };
    json_t *enable;
    size_t i;

    if (s->negotiated) {
        fq_error_set(err, "CommandNotFound",
                     "Capabilities negotiation is already complete, command "
                     "ignored");
        return NULL;
    }
    if (fq_args_check(args, spec, 1, err) < 0) {
        return NULL;
    }
    enable = json_object_get(args, "enable");
    if (enable != NULL && !json_is_array(enable)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for 'enable', expected: array");
        return NULL;
    }
    for (i = 0; i < json_array_size(enable); i++) {
        json_t *c = json_array_get(enable, i);

        if (!json_is_string(c)) {
            fq_error_set(err, "GenericError",
                         "Invalid parameter type for "
                         "'enable[%zu]', expected: string",
                         i);
            return NULL;
        }
        if (strcmp(json_string_value(c), "oob") != 0) {
            fq_error_set(err, "GenericError",
                         "Parameter 'null' does not accept value '%s'",
                         json_string_value(c));
            return NULL;
        }
    }
    s->oob = json_array_size(enable) > 0;
    s->negotiated = true;
    return json_object();
}

/* The commands QEMU 7.2 runs out of band (query-qmp-schema's allow-oob). */
static bool
oob_allowed(const char *name)
{
    return strcmp(name, "migrate-pause") == 0 ||
           strcmp(name, "migrate-recover") == 0;
}

json_t *
fq_monitor_request(struct fq_vm *vm, struct fq_session *s, const json_t *req)
{
    struct fq_error err = {"GenericError", ""};
    const char *name;
    json_t *args;
    json_t *ret = NULL;

    if (check_request(req, s, &name, &err) < 0) {
        return fq_monitor_error(req, &err);
    }
    args = json_object_get(req, "arguments");
    if (json_object_get(req, "exec-oob") != NULL && !oob_allowed(name)) {
        fq_error_set(&err, "GenericError",
                     "The command %s does not support OOB", name);
    } else if (strcmp(name, "qmp_capabilities") == 0) {
        ret = capabilities(s, args, &err);
    } else if (!s->negotiated) {
        fq_error_set(&err, "CommandNotFound",
                     "Expecting capabilities "
                     "negotiation with "
                     "'qmp_capabilities'");
    } else if (!fq_command_exists(&vm->version, name)) {
        fq_error_set(&err, "CommandNotFound",
                     "The command %s has not been found", name);
    } else {
        ret = fq_command_run(vm, name, args, &err);
    }
    if (ret == NULL) {
        return fq_monitor_error(req, &err);
    }
    return reply(req, ret);
}

json_t *
fq_monitor_event(const struct fq_event *ev, double wall)
{
    json_int_t sec = (json_int_t)floor(wall);
    json_int_t usec = (json_int_t)llround((wall - (double)sec) * 1e6);
    json_t *msg;
    json_t *data;

    if (usec >= 1000000) {
        sec++;
        usec -= 1000000;
    }
    msg = json_pack("{s:{s:I, s:I}, s:s}", "timestamp", "seconds", sec,
                    "microseconds", usec, "event", fq_event_name(ev));
    data = fq_event_data_json(ev);

    if (msg != NULL && data != NULL) {
        json_object_set_new(msg, "data", data);
    } else {
        json_decref(data);
    }
    return msg;
}
