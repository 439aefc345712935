/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the cli parsers: query-migrate samples, INI, config, plans, URIs,
 * settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "cli/ini.h"
#include "cli/util.h"

static json_t *
load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (v == NULL) {
        fail_msg("bad test JSON: %s", jerr.text);
    }
    return v;
}

static void
test_sample_from_qemu_72(void **state)
{
    /* a reply recorded from QEMU 7.2.22 */
    json_t *r =
        load("{\"expected-downtime\": 2667, \"status\": \"active\", "
             "\"setup-time\": 2, \"total-time\": 3014, \"ram\": {\"total\": "
             "537403392, \"dirty-sync-count\": 2, \"pages-per-second\": 12069, "
             "\"page-size\": 4096, \"remaining\": 110796800, \"mbps\": "
             "396.26091089108905, \"transferred\": 155085367, "
             "\"dirty-pages-rate\": 12067, \"normal\": 37572}, "
             "\"cpu-throttle-percentage\": 30}");
    struct policy_sample s;
    char err[256];

    (void)state;
    assert_int_equal(sample_from_query_migrate(r, &s, err, sizeof(err)), 0);
    assert_int_equal(s.status, MIGRATION_STATUS_ACTIVE);
    assert_int_equal(s.ram_total, 537403392);
    assert_int_equal(s.ram_remaining, 110796800);
    assert_int_equal(s.ram_transferred, 155085367);
    assert_int_equal(s.ram_dirty_pages_rate, 12067);
    assert_int_equal(s.ram_dirty_sync_count, 2);
    assert_int_equal(s.ram_page_size, 4096);
    assert_float_equal(s.ram_mbps, 396.26091089108905, 1e-9);
    assert_int_equal(s.expected_downtime_ms, 2667);
    assert_int_equal(s.throttle_percent, 30);
    assert_int_equal(s.disk_total, 0);
    json_decref(r);
}

static void
test_sample_empty_and_final(void **state)
{
    json_t *none = load("{}");
    json_t *done = load("{\"status\": \"completed\", \"downtime\": 51, "
                        "\"total-time\": 8209, \"ram\": {\"total\": 5}}");
    json_t *failed = load("{\"status\": \"failed\", \"error-desc\": "
                          "\"Unable to write to socket: Broken pipe\"}");
    json_t *odd = load("{\"status\": \"postcopy-recover-setup\"}");
    struct migrate_summary sum;
    struct policy_sample s;
    char err[256];

    (void)state;
    assert_int_equal(sample_from_query_migrate(none, &s, err, sizeof(err)), 0);
    assert_int_equal(s.status, MIGRATION_STATUS_NONE);
    assert_int_equal(s.expected_downtime_ms, -1);
    assert_int_equal(sample_from_query_migrate(done, &s, err, sizeof(err)), 0);
    assert_true(migration_status_is_final(s.status));
    summary_from_query_migrate(done, &sum);
    assert_int_equal(sum.downtime_ms, 51);
    assert_int_equal(sum.total_time_ms, 8209);
    summary_from_query_migrate(failed, &sum);
    assert_int_equal(sum.downtime_ms, -1);
    assert_string_equal(sum.error_desc,
                        "Unable to write to socket: Broken pipe");
    /* a status of a newer QEMU is carried, not refused */
    assert_int_equal(sample_from_query_migrate(odd, &s, err, sizeof(err)), 0);
    json_decref(none);
    json_decref(done);
    json_decref(failed);
    json_decref(odd);
}

static void
expect_sample_error(const char *text, const char *needle)
{
    json_t *r = load(text);
    struct policy_sample s;
    char err[256] = "";

    assert_int_equal(sample_from_query_migrate(r, &s, err, sizeof(err)), -1);
    if (strstr(err, needle) == NULL) {
        fail_msg("'%s' does not name '%s'", err, needle);
    }
    json_decref(r);
}

static void
test_sample_wrong_types(void **state)
{
    (void)state;
    expect_sample_error("{\"status\": 3}", "'status'");
    expect_sample_error("{\"status\": \"active\", \"ram\": []}", "'ram'");
    expect_sample_error("{\"status\": \"active\", \"ram\": {\"remaining\": "
                        "-5}}",
                        "'ram.remaining'");
    expect_sample_error("{\"status\": \"active\", \"ram\": {\"total\": "
                        "1.5}}",
                        "'ram.total'");
    expect_sample_error("{\"status\": \"active\", \"ram\": {\"mbps\": "
                        "\"fast\"}}",
                        "'ram.mbps'");
    expect_sample_error("{\"status\": \"active\", \"disk\": {\"total\": "
                        "\"x\"}}",
                        "'disk.total'");
    expect_sample_error("{\"status\": \"active\", \"expected-downtime\": "
                        "1.5}",
                        "'expected-downtime'");
}

/* A fuzzer found it: a huge ram.mbps overflowed a conversion (UB). */
static void
test_regression_huge_mbps(void **state)
{
    json_t *r = load("{\"status\":\"active\", \"ram\": {\"total\": 0, "
                     "\"mbps\": 39642609089108905}}");
    static const enum policy_kind kinds[] = {POLICY_ADAPTIVE, POLICY_NOVA,
                                             POLICY_VDSM, POLICY_PROXMOX};
    struct policy_sample s;
    char err[256];
    size_t k;

    (void)state;
    assert_int_equal(sample_from_query_migrate(r, &s, err, sizeof(err)), 0);
    for (k = 0; k < 4; k++) {
        struct policy_config cfg;
        struct policy_state st;
        struct policy_output out;

        policy_config_init(&cfg);
        cfg.kind = kinds[k];
        assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
        policy_state_init(&st, &cfg);
        memset(&out, 0, sizeof(out));
        s.t = 1.0;
        policy_step(&cfg, &st, &s, &out);
        s.t = 2.0;
        s.ram_dirty_sync_count++;
        policy_step(&cfg, &st, &s, &out);
        /* the report stays a number: clamped, not undefined */
        assert_true(out.report.bandwidth > 0);
    }
    json_decref(r);
}

struct ini_seen {
    char text[1024];
};

static int
ini_record(void *opaque, const char *section, const char *key,
           const char *value, char *err, size_t errlen)
{
    struct ini_seen *seen = opaque;
    size_t used = strlen(seen->text);

    (void)err;
    (void)errlen;
    snprintf(seen->text + used, sizeof(seen->text) - used, "[%s]%s=%s;",
             section, key ? key : "(header)", value ? value : "");
    return 0;
}

static void
test_ini(void **state)
{
    struct ini_seen seen = {""};
    char err[256];

    (void)state;
    assert_int_equal(ini_parse("# comment\n; also\n\n a = 1 \nflag\n"
                               "[vm 1]\nb=\"quoted value\"\r\nc =\n",
                               "f.ini", ini_record, &seen, err, sizeof(err)),
                     0);
    assert_string_equal(seen.text, "[]a=1;[]flag=;[vm 1](header)=;"
                                   "[vm 1]b=quoted value;[vm 1]c=;");
    assert_int_equal(ini_parse("a = 1\nbad line here\n", "f.ini", ini_record,
                               &seen, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "f.ini:2: expected 'key = value', got 'bad "
                             "line here'");
    assert_int_equal(
        ini_parse("[open\n", "f.ini", ini_record, &seen, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "f.ini:1: a section header"));
    assert_int_equal(
        ini_parse("a = \"open\n", "f.ini", ini_record, &seen, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "unterminated quote"));
    assert_int_equal(
        ini_parse("a = \x01\n", "f.ini", ini_record, &seen, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "control character"));
}

static void
test_config_precedence_and_errors(void **state)
{
    struct qm_options o;
    char err[512];

    (void)state;
    options_init(&o);
    o.command = CMD_WATCH;
    /* 'to' and 'disk' are migrate's: skipped for watch, not errors */
    assert_int_equal(config_apply(&o,
                                  "downtime = 900\nto = tcp:h:1\ndisk = blk\n"
                                  "json\npolicy = nova\n",
                                  "a.conf", err, sizeof(err)),
                     0);
    assert_int_equal(o.policy.downtime_ms, 900);
    assert_true(o.json);
    assert_int_equal(o.policy.kind, POLICY_NOVA);
    assert_string_equal(o.uri, "");
    assert_int_equal(o.disk, DISK_NONE);
    /* the command line comes after, and wins */
    assert_int_equal(options_set(&o, "downtime", "1200", err, sizeof(err)), 0);
    assert_int_equal(o.policy.downtime_ms, 1200);
    assert_int_equal(
        config_apply(&o, "\n\nfrob = 1\n", "b.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "b.conf:3: unknown key 'frob'");
    assert_int_equal(
        config_apply(&o, "interval = 5\n", "c.conf", err, sizeof(err)), -1);
    assert_string_equal(err, "c.conf:1: key 'interval': --interval: 5 is out "
                             "of range 10..600000");
}

static void
test_plan(void **state)
{
    struct qm_options global;
    struct plan plan;
    char err[512];

    (void)state;
    options_init(&global);
    global.command = CMD_EVACUATE;
    global.policy.downtime_ms = 700;
    assert_int_equal(plan_parse("[a]\nsource = /a.qmp\nto = unix:/m\n"
                                "[b]\nsource = /b.qmp\nto = tcp:h:4\n"
                                "downtime = 900\npostcopy\n",
                                "p.ini", &global, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(plan.n, 2);
    assert_string_equal(plan.vms[0].name, "a");
    assert_int_equal(plan.vms[0].opts.policy.downtime_ms, 700);
    assert_int_equal(plan.vms[1].opts.policy.downtime_ms, 900);
    assert_true(plan.vms[1].opts.policy.postcopy_permitted);
    assert_int_equal(plan.vms[1].opts.command, CMD_MIGRATE);
    plan_free(&plan);
    assert_int_equal(plan_parse("[a]\nsource = x\nto = unix:/m\n[a]\n", "p.ini",
                                &global, &plan, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "p.ini:4: VM [a] appears twice");
    assert_int_equal(
        plan_parse("source = x\n", "p.ini", &global, &plan, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "outside any [vm] section"));
    assert_int_equal(plan_parse("[a]\nsource = x\nto = exec:cat\n", "p.ini",
                                &global, &plan, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "p.ini: [a]: --to: exec: URIs are refused"));
    assert_int_equal(
        plan_parse("# nothing\n", "p.ini", &global, &plan, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "no [vm] sections"));
}

/* ssh keeps the first value of an option: the plan's come first, then the
 * command line's, then the config file's. */
static void
test_ssh_options_layers(void **state)
{
    struct qm_options o;
    struct plan plan;
    char err[512];

    (void)state;
    options_init(&o);
    o.command = CMD_EVACUATE;
    assert_int_equal(config_apply(&o,
                                  "ssh-option = IdentityFile=/cfg/key\n"
                                  "ssh-option = Port=1\n",
                                  "c.conf", err, sizeof(err)),
                     0);
    options_new_layer(&o);
    assert_int_equal(options_set(&o, "ssh-option", "IdentityFile=/cli/key",
                                 err, sizeof(err)),
                     0);
    assert_int_equal(options_set(&o, "ssh-option", "User=cli", err,
                                 sizeof(err)),
                     0);
    assert_int_equal(o.n_ssh_options, 4);
    assert_string_equal(o.ssh_options[0], "IdentityFile=/cli/key");
    assert_string_equal(o.ssh_options[1], "User=cli");
    assert_string_equal(o.ssh_options[2], "IdentityFile=/cfg/key");
    assert_string_equal(o.ssh_options[3], "Port=1");
    assert_int_equal(plan_parse("[a]\nsource = /a.qmp\nto = unix:/m\n"
                                "ssh-option = User=plan\n"
                                "[b]\nsource = /b.qmp\nto = unix:/m\n",
                                "p.ini", &o, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(plan.vms[0].opts.n_ssh_options, 5);
    assert_string_equal(plan.vms[0].opts.ssh_options[0], "User=plan");
    assert_string_equal(plan.vms[0].opts.ssh_options[1],
                        "IdentityFile=/cli/key");
    assert_int_equal(plan.vms[1].opts.n_ssh_options, 4);
    plan_free(&plan);
    assert_int_equal(
        options_set(&o, "ssh-option", "-oProxyCommand=x", err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "--ssh-option: ssh option '-oProxyCommand=x' "
                                "is not KEY=VALUE"));
    while (o.n_ssh_options < QM_SSH_OPTIONS_MAX) {
        assert_int_equal(
            options_set(&o, "ssh-option", "Port=2", err, sizeof(err)), 0);
    }
    assert_int_equal(options_set(&o, "ssh-option", "Port=2", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "more than 16 options"));
}

/* Monitor addresses are checked for form before anything starts. */
static void
test_monitor_addresses(void **state)
{
    struct qm_options o;
    char err[512];

    (void)state;
    options_init(&o);
    o.command = CMD_MIGRATE;
    snprintf(o.uri, sizeof(o.uri), "unix:/m");
    snprintf(o.source, sizeof(o.source), "ssh://root@h:22/run/s.qmp");
    snprintf(o.dest, sizeof(o.dest), "ssh://h/run/d.qmp");
    assert_int_equal(options_validate(&o, err, sizeof(err)), 0);
    snprintf(o.dest, sizeof(o.dest), "ssh://h:99999/run/d.qmp");
    assert_int_equal(options_validate(&o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--dest: monitor address "
                                "'ssh://h:99999/run/d.qmp': port '99999' is "
                                "not 1..65535"));
    snprintf(o.dest, sizeof(o.dest), "tcp:h");
    assert_int_equal(options_validate(&o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--dest: "));
    snprintf(o.dest, sizeof(o.dest), "tcp:h:4");
    snprintf(o.source, sizeof(o.source), "ssh://h");
    assert_int_equal(options_validate(&o, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--source: "));
}

/* The evacuation's limits: before the first [vm], and the command line
 * wins over the plan, which wins over the config file. */
static void
test_plan_limits(void **state)
{
    struct qm_options o;
    struct plan plan;
    char err[512];

    (void)state;
    options_init(&o);
    o.command = CMD_EVACUATE;
    assert_int_equal(o.max_parallel_per_dest, 0);
    assert_int_equal(plan_parse("max-parallel = 6\nmax-parallel-per-dest = 2\n"
                                "[a]\nsource = /a.qmp\nto = unix:/m\n",
                                "p.ini", &o, &plan, err, sizeof(err)),
                     0);
    assert_true(plan.has_max_parallel);
    assert_int_equal(plan.max_parallel, 6);
    assert_true(plan.has_max_parallel_per_dest);
    assert_int_equal(plan.max_parallel_per_dest, 2);
    plan_free(&plan);
    assert_int_equal(plan_parse("max-parallel-per-dest = x\n[a]\n", "p.ini",
                                &o, &plan, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "p.ini:1: --max-parallel-per-dest: 'x' is not "
                                "a whole number"));
    assert_int_equal(plan_parse("[a]\nsource = /a.qmp\nto = unix:/m\n"
                                "max-parallel-per-dest = 1\n",
                                "p.ini", &o, &plan, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "unknown key 'max-parallel-per-dest'"));
    assert_int_equal(o.max_parallel_layer, 0);
    options_new_layer(&o);
    assert_int_equal(
        options_set(&o, "max-parallel-per-dest", "3", err, sizeof(err)), 0);
    assert_int_equal(o.per_dest_layer, 1);
}

/* A monitor over plain TCP off this machine gets the loud warning. */
static void
test_monitor_exposed(void **state)
{
    (void)state;
    assert_true(util_monitor_exposed("tcp:10.213.0.2:4444"));
    assert_true(util_monitor_exposed("tcp:host.example:4444"));
    assert_true(util_monitor_exposed("tcp:[fd00::2]:4444"));
    assert_true(util_monitor_exposed("tcp:0.0.0.0:4444"));
    assert_false(util_monitor_exposed("tcp:127.0.0.1:4444"));
    assert_false(util_monitor_exposed("tcp:127.1.2.3:4444"));
    assert_false(util_monitor_exposed("tcp:localhost:4444"));
    assert_false(util_monitor_exposed("tcp:[::1]:4444"));
    assert_false(util_monitor_exposed("/run/vm.qmp"));
    assert_false(util_monitor_exposed("unix:/run/vm.qmp"));
    assert_false(util_monitor_exposed("ssh://h/run/vm.qmp"));
}

static void
test_uris(void **state)
{
    char err[256];

    (void)state;
    assert_int_equal(util_check_uri("tcp:10.0.0.2:4444", err, sizeof(err)), 0);
    assert_int_equal(util_check_uri("tcp:[::1]:4444", err, sizeof(err)), 0);
    assert_int_equal(util_check_uri("unix:/run/m.sock", err, sizeof(err)), 0);
    assert_int_equal(util_check_uri("exec:nc h 1", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("tcp:host", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("tcp:host:0", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("tcp:host:99999", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("tcp:host:4x", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("unix:", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("unix:/a\nb", err, sizeof(err)), -1);
    assert_int_equal(util_check_uri("ftp://x", err, sizeof(err)), -1);
}

static void
test_settings_round_trip(void **state)
{
    struct qm_options a, b;
    char err[512];
    json_t *j;

    (void)state;
    options_init(&a);
    a.command = CMD_MIGRATE;
    assert_int_equal(options_set(&a, "policy", "vdsm", err, sizeof(err)), 0);
    assert_int_equal(
        options_set(&a, "schedule", "very-large-vms", err, sizeof(err)), 0);
    assert_int_equal(options_set(&a, "bandwidth", "123.25", err, sizeof(err)),
                     0);
    assert_int_equal(options_set(&a, "downtime", "1500", err, sizeof(err)), 0);
    assert_int_equal(
        options_set(&a, "timeout-action", "force-complete", err, sizeof(err)),
        0);
    a.policy.n_disks = 2;
    a.policy.disk_bytes[0] = 1 << 30;
    a.policy.disk_bytes[1] = 5;
    j = options_settings_json(&a);
    options_init(&b);
    b.command = CMD_REPLAY;
    assert_int_equal(options_apply_settings(&b, j, err, sizeof(err)), 0);
    assert_int_equal(b.policy.kind, POLICY_VDSM);
    assert_int_equal(b.policy.bandwidth, a.policy.bandwidth);
    assert_int_equal(b.policy.downtime_ms, 1500);
    assert_int_equal(b.policy.timeout_action, POLICY_TIMEOUT_FORCE_COMPLETE);
    assert_int_equal(b.policy.n_disks, 2);
    assert_int_equal(b.policy.disk_bytes[0], 1 << 30);
    assert_memory_equal(&b.policy.schedule, &a.policy.schedule,
                        offsetof(struct policy_schedule, entries));
    assert_int_equal(b.policy.schedule.n_entries, a.policy.schedule.n_entries);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_from_qemu_72),
        cmocka_unit_test(test_sample_empty_and_final),
        cmocka_unit_test(test_sample_wrong_types),
        cmocka_unit_test(test_regression_huge_mbps),
        cmocka_unit_test(test_ini),
        cmocka_unit_test(test_config_precedence_and_errors),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_ssh_options_layers),
        cmocka_unit_test(test_monitor_addresses),
        cmocka_unit_test(test_plan_limits),
        cmocka_unit_test(test_monitor_exposed),
        cmocka_unit_test(test_settings_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
