/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: policy names, configuration defaults and validation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

static void
test_status_names(void **unused)
{
    static const struct {
        enum migration_status status;
        const char *name;
        bool final, postcopy;
    } rows[] = {
        {MIGRATION_STATUS_NONE, "none", false, false},
        {MIGRATION_STATUS_SETUP, "setup", false, false},
        {MIGRATION_STATUS_CANCELLING, "cancelling", false, false},
        {MIGRATION_STATUS_CANCELLED, "cancelled", true, false},
        {MIGRATION_STATUS_ACTIVE, "active", false, false},
        {MIGRATION_STATUS_POSTCOPY_ACTIVE, "postcopy-active", false, true},
        {MIGRATION_STATUS_POSTCOPY_PAUSED, "postcopy-paused", false, true},
        {MIGRATION_STATUS_POSTCOPY_RECOVER_SETUP, "postcopy-recover-setup",
         false, true},
        {MIGRATION_STATUS_POSTCOPY_RECOVER, "postcopy-recover", false, true},
        {MIGRATION_STATUS_COMPLETED, "completed", true, false},
        {MIGRATION_STATUS_FAILED, "failed", true, false},
        {MIGRATION_STATUS_COLO, "colo", false, false},
        {MIGRATION_STATUS_PRE_SWITCHOVER, "pre-switchover", false, false},
        {MIGRATION_STATUS_DEVICE, "device", false, false},
        {MIGRATION_STATUS_WAIT_UNPLUG, "wait-unplug", false, false},
    };
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_string_equal(migration_status_name(rows[i].status),
                            rows[i].name);
        assert_int_equal(migration_status_from_name(rows[i].name),
                         rows[i].status);
        assert_int_equal(migration_status_is_final(rows[i].status),
                         rows[i].final);
        assert_int_equal(migration_status_is_postcopy(rows[i].status),
                         rows[i].postcopy);
    }
    assert_string_equal(migration_status_name(MIGRATION_STATUS_UNKNOWN),
                        "unknown");
    assert_string_equal(migration_status_name((enum migration_status)99),
                        "unknown");
    assert_int_equal(migration_status_from_name("migrating"),
                     MIGRATION_STATUS_UNKNOWN);
    assert_int_equal(migration_status_from_name("unknown"),
                     MIGRATION_STATUS_UNKNOWN);
    assert_int_equal(migration_status_from_name(NULL),
                     MIGRATION_STATUS_UNKNOWN);
    assert_int_equal(migration_status_from_name("Active"),
                     MIGRATION_STATUS_UNKNOWN);
}

static void
test_action_and_kind_names(void **unused)
{
    static const char *const kinds[] = {"adaptive", "nova", "vdsm", "proxmox",
                                        "pray"};
    enum policy_kind k;
    size_t i;

    (void)unused;
    assert_string_equal(policy_action_name(POLICY_ACTION_SET_DOWNTIME),
                        "set-downtime");
    assert_string_equal(policy_action_name(POLICY_ACTION_SET_BANDWIDTH),
                        "set-bandwidth");
    assert_string_equal(policy_action_name(POLICY_ACTION_AUTO_CONVERGE),
                        "auto-converge");
    assert_string_equal(policy_action_name(POLICY_ACTION_START_POSTCOPY),
                        "start-postcopy");
    assert_string_equal(policy_action_name(POLICY_ACTION_PAUSE), "pause");
    assert_string_equal(policy_action_name(POLICY_ACTION_CANCEL), "cancel");
    for (i = 0; i < 5; i++) {
        assert_int_equal(policy_kind_from_name(kinds[i], &k), 0);
        assert_int_equal(k, (enum policy_kind)i);
        assert_string_equal(policy_kind_name(k), kinds[i]);
    }
    k = POLICY_NOVA;
    assert_int_equal(policy_kind_from_name("ovirt", &k), -1);
    assert_int_equal(k, POLICY_NOVA); /* untouched */
    assert_int_equal(policy_kind_from_name(NULL, &k), -1);
    assert_string_equal(policy_kind_name((enum policy_kind)42), "unknown");
}

static void
test_defaults(void **unused)
{
    struct policy_config cfg;
    char err[256];

    (void)unused;
    memset(&cfg, 0xa5, sizeof(cfg));
    policy_config_init(&cfg);
    assert_int_equal(cfg.kind, POLICY_ADAPTIVE);
    assert_int_equal(cfg.downtime_ms, 500);
    assert_int_equal(cfg.downtime_initial_ms, 300);
    assert_int_equal(cfg.downtime_steps, 10);
    assert_true(cfg.downtime_delay_s == 75);
    assert_true(cfg.completion_timeout_s == 800);
    assert_true(cfg.progress_timeout_s == 150);
    assert_false(cfg.progress_timeout_given);
    assert_int_equal(cfg.timeout_action, POLICY_TIMEOUT_ABORT);
    assert_false(cfg.postcopy_permitted);
    assert_false(cfg.auto_converge_permitted);
    assert_int_equal(cfg.bandwidth, 0);
    assert_int_equal(cfg.n_disks, 0);
    assert_string_equal(cfg.schedule.name, "minimal-downtime");
    assert_int_equal(cfg.schedule.init_downtime_ms, 100);
    assert_int_equal(cfg.schedule.n_entries, 6);
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
}

/* One row: a change to the defaults, and the message it must give. */
struct bad_row {
    enum policy_kind kind;
    const char *field;
    double value;
    const char *message; /* NULL: accepted */
};

static void
apply(struct policy_config *cfg, const struct bad_row *r)
{
    cfg->kind = r->kind;
    if (strcmp(r->field, "downtime") == 0) {
        cfg->downtime_ms = (uint64_t)r->value;
    } else if (strcmp(r->field, "initial") == 0) {
        cfg->downtime_initial_ms = (uint64_t)r->value;
    } else if (strcmp(r->field, "steps") == 0) {
        cfg->downtime_steps = (unsigned)r->value;
    } else if (strcmp(r->field, "delay") == 0) {
        cfg->downtime_delay_s = r->value;
    } else if (strcmp(r->field, "completion") == 0) {
        cfg->completion_timeout_s = r->value;
    } else if (strcmp(r->field, "progress") == 0) {
        cfg->progress_timeout_s = r->value;
    } else if (strcmp(r->field, "disks") == 0) {
        cfg->n_disks = (size_t)r->value;
    } else {
        fail_msg("unknown field %s", r->field);
    }
}

static void
test_validate_table(void **unused)
{
    static const struct bad_row rows[] = {
        {POLICY_NOVA, "downtime", 99,
         "--downtime 99: --policy nova needs at least 100 ms"},
        {POLICY_NOVA, "downtime", 100, NULL},
        {POLICY_ADAPTIVE, "downtime", 99, NULL},
        {POLICY_NOVA, "steps", 2,
         "--downtime-steps 2: --policy nova needs at least 3"},
        {POLICY_NOVA, "steps", 3, NULL},
        {POLICY_VDSM, "steps", 1, NULL},
        {POLICY_NOVA, "delay", 2.5,
         "--downtime-delay 2.5: --policy nova needs at least 3"},
        {POLICY_ADAPTIVE, "delay", 2.5, NULL},
        {POLICY_ADAPTIVE, "downtime", 0, "--downtime 0: must be 1..2000000 ms"},
        {POLICY_ADAPTIVE, "downtime", 2000001,
         "--downtime 2000001: must be 1..2000000 ms"},
        {POLICY_ADAPTIVE, "initial", 600,
         "--downtime-initial 600: above --downtime 500"},
        {POLICY_ADAPTIVE, "initial", 0,
         "--downtime-initial 0: must be at least 1 ms"},
        {POLICY_ADAPTIVE, "steps", 0, "--downtime-steps 0: must be 1..1000"},
        {POLICY_ADAPTIVE, "steps", 1001,
         "--downtime-steps 1001: must be 1..1000"},
        {POLICY_ADAPTIVE, "delay", -1,
         "--downtime-delay -1: must be a non-negative number of seconds"},
        {POLICY_ADAPTIVE, "completion", -5,
         "--completion-timeout -5: must be 0 (off) or a positive number "
         "of seconds"},
        {POLICY_ADAPTIVE, "completion", 0, NULL},
        {POLICY_ADAPTIVE, "progress", -1,
         "--progress-timeout -1: must be 0 (off) or a positive number of "
         "seconds"},
        {POLICY_ADAPTIVE, "disks", 17, "17 disks: at most 16 are supported"},
    };
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct policy_config cfg;
        char err[256] = "";

        policy_config_init(&cfg);
        apply(&cfg, &rows[i]);
        if (rows[i].message == NULL) {
            assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
            assert_string_equal(err, "");
        } else {
            assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)),
                             -1);
            assert_string_equal(err, rows[i].message);
        }
    }
}

static void
test_validate_nan(void **unused)
{
    struct policy_config cfg;
    char err[256];

    (void)unused;
    policy_config_init(&cfg);
    cfg.downtime_delay_s = NAN;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--downtime-delay"));
    policy_config_init(&cfg);
    cfg.completion_timeout_s = INFINITY;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--completion-timeout"));
    /* No buffer: still refused. */
    assert_int_equal(policy_config_validate(&cfg, NULL, 0), -1);
}

/* The default start follows a lower --downtime; a given one is refused. */
static void
test_initial_clamped(void **unused)
{
    struct policy_config cfg;
    char err[256];

    (void)unused;
    policy_config_init(&cfg);
    cfg.downtime_ms = 200;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.downtime_initial_ms, 200);
    cfg.downtime_initial_ms = 250;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "--downtime-initial 250: above --downtime 200");
}

static void
test_vdsm_postcopy_needs_permission(void **unused)
{
    struct policy_config cfg;
    char err[256];

    (void)unused;
    policy_config_init(&cfg);
    cfg.kind = POLICY_VDSM;
    assert_int_equal(policy_schedule_profile("post-copy", &cfg.schedule), 0);
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), -1);
    assert_string_equal(err, "--schedule post-copy switches to post-copy, "
                             "which needs --postcopy (the postcopy-ram "
                             "capability is set before migrate)");
    cfg.postcopy_permitted = true;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
    /* Other policies ignore the schedule. */
    cfg.postcopy_permitted = false;
    cfg.kind = POLICY_ADAPTIVE;
    assert_int_equal(policy_config_validate(&cfg, err, sizeof(err)), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_action_and_kind_names),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_validate_nan),
        cmocka_unit_test(test_initial_clamped),
        cmocka_unit_test(test_vdsm_postcopy_needs_permission),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
