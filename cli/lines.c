/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/lines: the members of the start and end lines, the same in the JSON
 * lines and in a trace. */
#include <math.h>

#include "cli/cli.h"

json_t *
start_json(const struct engine_start *st)
{
    json_t *obj = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "source", st->source, "uri",
        st->uri, "policy", policy_kind_name(st->policy->kind), "ram_total",
        (json_int_t)st->ram_total, "disk_total", (json_int_t)st->disk_total,
        "downtime_limit_ms", (json_int_t)st->downtime_limit_ms, "bandwidth",
        (json_int_t)st->bandwidth);

    json_object_set_new(obj, "settings",
                        settings_json(st->policy, st->interval_ms));
    if (st->dest != NULL) {
        json_object_set_new(obj, "dest", json_string(st->dest));
    }
    return obj;
}

json_t *
end_json(const struct engine_result *res)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "result", json_string(res->result));
    json_object_set_new(obj, "reason", json_string(res->reason));
    json_object_set_new(obj, "exit_code", json_integer(res->code));
    json_object_set_new(obj, "downtime_ms",
                        res->downtime_ms >= 0 ? json_integer(res->downtime_ms)
                                              : json_null());
    json_object_set_new(
        obj, "total_time_ms",
        json_integer((json_int_t)llround(res->total_time_s * 1000.0)));
    json_object_set_new(obj, "transferred",
                        json_integer((json_int_t)res->transferred));
    return obj;
}

/* A bound as JSON: null when it is unknown (infinite). */
static json_t *
bound(double v)
{
    return isfinite(v) ? json_real(round(v)) : json_null();
}

json_t *
preflight_json(const struct policy_preflight_report *r)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "verdict",
                        json_string(policy_verdict_name(r->verdict)));
    json_object_set_new(obj, "reason", json_string(r->reason));
    json_object_set_new(obj, "downtime_ms",
                        r->verdict == POLICY_VERDICT_DOWNTIME
                            ? json_integer((json_int_t)r->downtime_ms)
                            : json_null());
    json_object_set_new(obj, "measurements",
                        json_integer((json_int_t)r->est.n));
    json_object_set_new(obj, "decided_by",
                        r->decided_by > 0
                            ? json_integer((json_int_t)r->decided_by)
                            : json_null());
    json_object_set_new(obj, "dirty_rate_low", bound(r->est.rate_lo));
    json_object_set_new(obj, "dirty_rate_high", bound(r->est.rate_hi));
    json_object_set_new(obj, "working_set_low", bound(r->est.ws_lo));
    json_object_set_new(obj, "working_set_high", bound(r->est.ws_hi));
    json_object_set_new(obj, "bandwidth", bound(r->est.bandwidth));
    json_object_set_new(obj, "needs_s_low",
                        isfinite(r->est.need_lo_s)
                            ? json_real(round(r->est.need_lo_s * 1000) / 1000)
                            : json_null());
    json_object_set_new(obj, "needs_s_high",
                        isfinite(r->est.need_hi_s)
                            ? json_real(round(r->est.need_hi_s * 1000) / 1000)
                            : json_null());
    return obj;
}
