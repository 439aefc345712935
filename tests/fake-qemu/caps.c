/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: migration capabilities per QEMU version, as QEMU checks them. */
#include "tests/fake-qemu/fake.h"

#include <string.h>

/* MigrationCapability in enum order; versions as major * 100 + minor. */
static const struct cap_def {
    const char *name;
    int since;
    int until; /* removed in; 0 for never */
} cap_defs[] = {
    {"xbzrle", 0, 0},
    {"rdma-pin-all", 0, 0},
    {"auto-converge", 0, 0},
    {"zero-blocks", 0, 0},
    {"compress", 0, 901},
    {"events", 0, 0},
    {"postcopy-ram", 0, 0},
    {"x-colo", 0, 0},
    {"release-ram", 0, 0},
    {"block", 0, 901},
    {"return-path", 0, 0},
    {"pause-before-switchover", 0, 0},
    {"multifd", 0, 0},
    {"dirty-bitmaps", 0, 0},
    {"postcopy-blocktime", 0, 0},
    {"late-block-activate", 0, 0},
    {"x-ignore-shared", 0, 0},
    {"validate-uuid", 0, 0},
    {"background-snapshot", 0, 0},
    {"zero-copy-send", 0, 0},
    {"postcopy-preempt", 0, 0},
    {"switchover-ack", 801, 0},
    {"dirty-limit", 801, 0},
    {"mapped-ram", 900, 0},
};

static bool
present(const struct cap_def *d, const struct fq_version *v)
{
    int ver = v->major * 100 + v->minor;

    return ver >= d->since && (d->until == 0 || ver < d->until);
}

size_t
fq_caps_names(const struct fq_version *v, const char **names, size_t max)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < sizeof(cap_defs) / sizeof(cap_defs[0]); i++) {
        if (present(&cap_defs[i], v) && n < max) {
            names[n++] = cap_defs[i].name;
        }
    }
    return n;
}

static int
cap_index(const struct fq_version *v, const char *name)
{
    const char *names[FQ_MAX_CAPS];
    size_t n = fq_caps_names(v, names, FQ_MAX_CAPS);
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

json_t *
fq_caps_json(const struct fq_version *v, const bool *state)
{
    const char *names[FQ_MAX_CAPS];
    size_t n = fq_caps_names(v, names, FQ_MAX_CAPS);
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < n; i++) {
        json_t *o = json_object();

        if (o == NULL || json_array_append_new(a, o) < 0 ||
            json_object_set_new(o, "capability", json_string(names[i])) < 0 ||
            json_object_set_new(o, "state", json_boolean(state[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static bool
on(const bool *state, const struct fq_version *v, const char *name)
{
    int i = cap_index(v, name);

    return i >= 0 && state[i];
}

/* migrate_caps_check(), the checks that matter for a source. */
static int
caps_check(const bool *st, const struct fq_version *v, struct fq_error *err)
{
    if (on(st, v, "postcopy-preempt") && !on(st, v, "postcopy-ram")) {
        fq_error_set(err, "GenericError",
                     "Postcopy preempt requires postcopy-ram");
        return -1;
    }
    if (on(st, v, "switchover-ack") && !on(st, v, "return-path")) {
        fq_error_set(err, "GenericError",
                     "Capability 'switchover-ack' "
                     "requires capability 'return-path'");
        return -1;
    }
    if (on(st, v, "dirty-limit") && on(st, v, "auto-converge")) {
        fq_error_set(err, "GenericError",
                     "dirty-limit conflicts with auto-converge either of then "
                     "available currently");
        return -1;
    }
    if (on(st, v, "postcopy-ram") && on(st, v, "multifd") &&
        !fq_version_at_least(v, 10, 1)) {
        fq_error_set(err, "GenericError",
                     "Postcopy is not yet compatible with multifd");
        return -1;
    }
    if (on(st, v, "zero-copy-send") && !on(st, v, "multifd")) {
        fq_error_set(err, "GenericError",
                     "Zero copy only available for non-compressed non-TLS "
                     "multifd migration");
        return -1;
    }
    return 0;
}

static int
parse_item(const json_t *item, size_t i, const struct fq_version *v, int *index,
           bool *value, struct fq_error *err)
{
    const char *key;
    json_t *val;
    json_t *cap;
    json_t *state;

    if (!json_is_object(item)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for "
                     "'capabilities[%zu]', expected: object",
                     i);
        return -1;
    }
    cap = json_object_get(item, "capability");
    if (cap == NULL) {
        fq_error_set(err, "GenericError",
                     "Parameter 'capabilities[%zu].capability' is missing", i);
        return -1;
    }
    if (!json_is_string(cap)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for "
                     "'capabilities[%zu].capability', expected: string",
                     i);
        return -1;
    }
    *index = cap_index(v, json_string_value(cap));
    if (*index < 0) {
        fq_error_set(err, "GenericError",
                     "Parameter 'capability' does not accept value '%s'",
                     json_string_value(cap));
        return -1;
    }
    state = json_object_get(item, "state");
    if (state == NULL) {
        fq_error_set(err, "GenericError",
                     "Parameter 'capabilities[%zu].state' is missing", i);
        return -1;
    }
    if (!json_is_boolean(state)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for "
                     "'capabilities[%zu].state', expected: boolean",
                     i);
        return -1;
    }
    *value = json_is_true(state);
    json_object_foreach ((json_t *)item, key, val) {
        if (strcmp(key, "capability") != 0 && strcmp(key, "state") != 0) {
            fq_error_set(err, "GenericError",
                         "Parameter 'capabilities[%zu].%s' is unexpected", i,
                         key);
            return -1;
        }
    }
    return 0;
}

int
fq_caps_set(bool *state, const json_t *args, const struct fq_version *v,
            struct fq_caps *mc, struct fq_error *err)
{
    static const struct fq_arg spec[] = {
        {"capabilities", FQ_ARG_ANY, true},
    };
    bool next[FQ_MAX_CAPS];
    const json_t *list;
    size_t i;

    if (fq_args_check(args, spec, 1, err) < 0) {
        return -1;
    }
    list = json_object_get(args, "capabilities");
    if (!json_is_array(list)) {
        fq_error_set(err, "GenericError",
                     "Invalid parameter type for "
                     "'capabilities', expected: array");
        return -1;
    }
    memcpy(next, state, sizeof(next));
    for (i = 0; i < json_array_size(list); i++) {
        int index;
        bool value;

        if (parse_item(json_array_get(list, i), i, v, &index, &value, err) <
            0) {
            return -1;
        }
        next[index] = value;
    }
    if (caps_check(next, v, err) < 0) {
        return -1;
    }
    mc->events = on(next, v, "events");
    mc->auto_converge = on(next, v, "auto-converge");
    mc->postcopy_ram = on(next, v, "postcopy-ram");
    mc->pause_before_switchover = on(next, v, "pause-before-switchover");
    mc->block = on(next, v, "block");
    mc->multifd = on(next, v, "multifd");
    mc->dirty_limit = on(next, v, "dirty-limit");
    mc->postcopy_preempt = on(next, v, "postcopy-preempt");
    memcpy(state, next, sizeof(next));
    return 0;
}
