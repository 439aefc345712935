/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/settings: a job's effective policy settings as JSON, and back (for
 * replay). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/*
 * The settings object uses the long options' names, with typed values,
 * so a tool reads it plainly and replay feeds it back through
 * options_set().  The vdsm schedule, the disk sizes and the guest's vCPUs,
 * which no single option holds, travel as "schedule", "disks" and "vcpus".
 */

static json_t *
schedule_json(const struct policy_schedule *sch)
{
    json_t *entries = json_array();
    size_t i;

    for (i = 0; i < sch->n_entries && i < POLICY_MAX_SCHEDULE; i++) {
        json_array_append_new(
            entries, json_pack("[i, i, I]", sch->entries[i].limit,
                               (int)sch->entries[i].verb,
                               (json_int_t)sch->entries[i].downtime_ms));
    }
    return json_pack("{s:s, s:i, s:I, s:o}", "name", sch->name, "mode",
                     (int)sch->mode, "init_downtime_ms",
                     (json_int_t)sch->init_downtime_ms, "entries", entries);
}

json_t *
settings_json(const struct policy_config *p, unsigned interval_ms)
{
    json_t *disks = json_array();
    json_t *obj;
    size_t i;

    for (i = 0; i < p->n_disks && i < POLICY_MAX_DISKS; i++) {
        json_array_append_new(disks,
                              json_integer((json_int_t)p->disk_bytes[i]));
    }
    obj = json_pack(
        "{s:s, s:I, s:I, s:i, s:f, s:f, s:s, s:f, s:b, s:b, s:i, s:o, s:o}",
        "policy", policy_kind_name(p->kind), "downtime",
        (json_int_t)p->downtime_ms, "downtime-initial",
        (json_int_t)p->downtime_initial_ms, "downtime-steps",
        (int)p->downtime_steps, "downtime-delay", p->downtime_delay_s,
        "completion-timeout", p->completion_timeout_s, "timeout-action",
        p->timeout_action == POLICY_TIMEOUT_ABORT ? "abort" : "force-complete",
        "bandwidth", (double)p->bandwidth / 1048576.0, "auto-converge",
        p->auto_converge_permitted, "postcopy", p->postcopy_permitted,
        "interval", (int)interval_ms, "schedule", schedule_json(&p->schedule),
        "disks", disks);
    json_object_set_new(obj, "dirty-limit",
                        json_boolean(p->dirty_limit_permitted));
    if (p->vcpus > 0) {
        json_object_set_new(obj, "vcpus", json_integer(p->vcpus));
    }
    if (p->progress_timeout_given || p->kind != POLICY_NOVA) {
        json_object_set_new(obj, "progress-timeout",
                            json_real(p->progress_timeout_s));
    }
    return obj;
}

json_t *
options_settings_json(const struct qm_options *o)
{
    return settings_json(&o->policy, o->interval_ms);
}

static int
apply_schedule(struct policy_schedule *sch, json_t *v, char *err, size_t errlen)
{
    json_t *entries = json_object_get(v, "entries");
    json_t *e;
    size_t i;

    memset(sch, 0, sizeof(*sch));
    if (!json_is_object(v) || !json_is_array(entries) ||
        json_array_size(entries) > POLICY_MAX_SCHEDULE) {
        snprintf(err, errlen, "settings: 'schedule' is malformed");
        return -1;
    }
    snprintf(sch->name, sizeof(sch->name), "%s",
             json_string_value(json_object_get(v, "name")) ?: "");
    sch->mode = (enum policy_schedule_mode)json_integer_value(
        json_object_get(v, "mode"));
    sch->init_downtime_ms =
        (uint64_t)json_integer_value(json_object_get(v, "init_downtime_ms"));
    json_array_foreach (entries, i, e) {
        if (!json_is_array(e) || json_array_size(e) != 3) {
            snprintf(err, errlen, "settings: schedule entry %zu is malformed",
                     i);
            return -1;
        }
        sch->entries[i].limit = (int)json_integer_value(json_array_get(e, 0));
        sch->entries[i].verb =
            (enum policy_schedule_verb)json_integer_value(json_array_get(e, 1));
        sch->entries[i].downtime_ms =
            (uint64_t)json_integer_value(json_array_get(e, 2));
    }
    sch->n_entries = json_array_size(entries);
    return 0;
}

int
options_apply_settings(struct qm_options *o, json_t *settings, char *err,
                       size_t errlen)
{
    const char *key;
    json_t *v;
    char text[64], why[512];

    if (!json_is_object(settings)) {
        snprintf(err, errlen, "settings: not an object");
        return -1;
    }
    json_object_foreach (settings, key, v) {
        const char *value = text;

        if (strcmp(key, "schedule") == 0) {
            if (apply_schedule(&o->policy.schedule, v, err, errlen) < 0) {
                return -1;
            }
            continue;
        }
        if (strcmp(key, "disks") == 0) {
            size_t i;
            json_t *d;

            o->policy.n_disks = 0;
            json_array_foreach (v, i, d) {
                if (i < POLICY_MAX_DISKS && json_is_integer(d)) {
                    o->policy.disk_bytes[o->policy.n_disks++] =
                        (uint64_t)json_integer_value(d);
                }
            }
            continue;
        }
        if (strcmp(key, "vcpus") == 0) {
            o->policy.vcpus = json_is_integer(v) && json_integer_value(v) > 0
                                  ? (unsigned)json_integer_value(v)
                                  : 0;
            continue;
        }
        if (option_find(key) == NULL) {
            continue; /* a setting of a newer qmigrate: ignored */
        }
        if (json_is_string(v)) {
            value = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%lld",
                     (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            snprintf(text, sizeof(text), "%.17g", json_real_value(v));
        } else if (json_is_boolean(v)) {
            snprintf(text, sizeof(text), "%s",
                     json_is_true(v) ? "true" : "false");
        } else {
            snprintf(err, errlen, "settings: '%s' has a value of no known type",
                     key);
            return -1;
        }
        if (options_set(o, key, value, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "settings: %s", why);
            return -1;
        }
    }
    return 0;
}
