/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/plan: the evacuate plan: a section per VM, checked before anything
 * starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ini.h"

#define PLAN_MAX_VMS 100000

struct plan_parse {
    struct plan *plan;
    const struct qm_options *global;
    size_t cap;
};

/* The evacuation's own limits may come before the first [vm]. */
static int
plan_top_entry(struct plan_parse *pp, const char *key, const char *value,
               char *err, size_t errlen)
{
    struct qm_options scratch = *pp->global;
    char why[512];

    if (key == NULL || (strcmp(key, "max-parallel") != 0 &&
                        strcmp(key, "max-parallel-per-dest") != 0)) {
        snprintf(err, errlen,
                 "'%s' is outside any [vm] section (only max-parallel and "
                 "max-parallel-per-dest may be)",
                 key ? key : "?");
        return -1;
    }
    if (options_set(&scratch, key, value, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (strcmp(key, "max-parallel") == 0) {
        pp->plan->max_parallel = scratch.max_parallel;
        pp->plan->has_max_parallel = true;
    } else {
        pp->plan->max_parallel_per_dest = scratch.max_parallel_per_dest;
        pp->plan->has_max_parallel_per_dest = true;
    }
    return 0;
}

static int
plan_entry(void *opaque, const char *section, const char *key,
           const char *value, char *err, size_t errlen)
{
    struct plan_parse *pp = opaque;
    struct plan *plan = pp->plan;
    const struct option_spec *spec;
    struct plan_vm *vm;
    char why[512];

    if (section[0] == '\0') {
        return plan_top_entry(pp, key, value, err, errlen);
    }
    if (key == NULL) {
        size_t i;

        for (i = 0; i < plan->n; i++) {
            if (strcmp(plan->vms[i].name, section) == 0) {
                snprintf(err, errlen, "VM [%s] appears twice", section);
                return -1;
            }
        }
        if (plan->n >= PLAN_MAX_VMS) {
            snprintf(err, errlen, "more than %d VMs", PLAN_MAX_VMS);
            return -1;
        }
        if (plan->n == pp->cap) {
            size_t cap = pp->cap ? pp->cap * 2 : 16;
            struct plan_vm *vms = realloc(plan->vms, cap * sizeof(*vms));

            if (vms == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            plan->vms = vms;
            pp->cap = cap;
        }
        vm = &plan->vms[plan->n++];
        memset(vm, 0, sizeof(*vm));
        snprintf(vm->name, sizeof(vm->name), "%s", section);
        vm->opts = *pp->global;
        vm->opts.command = CMD_MIGRATE;
        vm->opts.metrics[0] = '\0';
        options_new_layer(&vm->opts); /* its keys over the global ones */
        return 0;
    }
    vm = &plan->vms[plan->n - 1];
    spec = option_find(key);
    if (spec == NULL || !(spec->commands & CMD_MIGRATE) ||
        !(spec->where & OPTION_IN_PLAN)) {
        snprintf(err, errlen, "[%s]: unknown key '%s'", section, key);
        return -1;
    }
    if (spec->arg == NULL && value[0] == '\0') {
        value = "true";
    }
    if (options_set(&vm->opts, key, value, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "[%s]: %s", section, why);
        return -1;
    }
    return 0;
}

int
plan_parse(const char *text, const char *filename,
           const struct qm_options *global, struct plan *plan, char *err,
           size_t errlen)
{
    struct plan_parse pp = {plan, global, 0};
    char why[512];
    size_t i;

    memset(plan, 0, sizeof(*plan));
    if (ini_parse(text, filename, plan_entry, &pp, err, errlen) < 0) {
        goto fail;
    }
    if (plan->n == 0) {
        snprintf(err, errlen, "%s has no [vm] sections", filename);
        goto fail;
    }
    for (i = 0; i < plan->n; i++) {
        if (options_validate(&plan->vms[i].opts, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: [%s]: %s", filename, plan->vms[i].name,
                     why);
            goto fail;
        }
    }
    return 0;
fail:
    plan_free(plan);
    return -1;
}

void
plan_free(struct plan *plan)
{
    free(plan->vms);
    plan->vms = NULL;
    plan->n = 0;
}
