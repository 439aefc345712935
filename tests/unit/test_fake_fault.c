/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's fault grammar and when faults fire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fake-qemu/fake.h"

static struct fq_fault
parse(const char *spec)
{
    struct fq_fault f;
    struct fq_error err;

    if (fq_fault_parse(spec, &f, &err) < 0) {
        fail_msg("'%s': %s", spec, err.desc);
    }
    return f;
}

static void
test_grammar(void **unused)
{
    struct fq_fault f;

    (void)unused;
    f = parse("at=5s hangup");
    assert_int_equal(f.trigger, FQ_TRIG_AT);
    assert_true(f.at == 5.0);
    assert_int_equal(f.action, FQ_ACT_HANGUP);
    assert_string_equal(f.vm, "");

    f = parse("on=migrate error GenericError:text with spaces");
    assert_int_equal(f.trigger, FQ_TRIG_COMMAND);
    assert_string_equal(f.command, "migrate");
    assert_int_equal(f.n, 1);
    assert_int_equal(f.action, FQ_ACT_ERROR);
    assert_string_equal(f.cls, "GenericError");
    assert_string_equal(f.desc, "text with spaces");

    f = parse("on=migrate error:DeviceNotActive:No migration: here");
    assert_string_equal(f.cls, "DeviceNotActive");
    assert_string_equal(f.desc, "No migration: here");

    f = parse("on=query-status error");
    assert_string_equal(f.cls, "GenericError");
    assert_string_equal(f.desc, "fake-qemu: injected error");

    f = parse("on=pass:3 fail-migration:Unable to write to socket");
    assert_int_equal(f.trigger, FQ_TRIG_PASS);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.action, FQ_ACT_FAIL_MIGRATION);
    assert_string_equal(f.desc, "Unable to write to socket");

    f = parse("on=status:active fail-migration");
    assert_int_equal(f.trigger, FQ_TRIG_STATUS);
    assert_int_equal(f.status, FQ_STATUS_ACTIVE);
    assert_string_equal(f.desc, "Unable to write to socket: Broken pipe");

    f = parse("at=2s stall-bandwidth");
    assert_int_equal(f.action, FQ_ACT_STALL);
    assert_true(f.seconds == 0);
    f = parse("at=2s stall-bandwidth:1500ms");
    assert_true(f.seconds == 1.5);

    f = parse("on=query-migrate:2 late:3s");
    assert_string_equal(f.command, "query-migrate");
    assert_int_equal(f.n, 2);
    assert_int_equal(f.action, FQ_ACT_LATE);
    assert_true(f.seconds == 3.0);

    f = parse("at=1s garbage-json");
    assert_int_equal(f.action, FQ_ACT_GARBAGE_JSON);
    f = parse("at=1s bad-utf8");
    assert_int_equal(f.action, FQ_ACT_BAD_UTF8);
    f = parse("at=1s hangup-mid-message");
    assert_int_equal(f.action, FQ_ACT_HANGUP_MID);
    f = parse("at=4s die");
    assert_int_equal(f.action, FQ_ACT_DIE);
    assert_true(f.at == 4.0);

    f = parse("vm=web1 on=connect:2 after=250ms hangup");
    assert_string_equal(f.vm, "web1");
    assert_int_equal(f.trigger, FQ_TRIG_CONNECT);
    assert_int_equal(f.n, 2);
    assert_true(f.after == 0.25);

    f = parse("at=1m dirty-rate:50000");
    assert_true(f.at == 60);
    assert_true(f.rate == 50000);
    f = parse("  at=3   restore-bandwidth  ");
    assert_int_equal(f.action, FQ_ACT_UNSTALL);
    assert_string_equal(fq_action_name(FQ_ACT_HANGUP_MID),
                        "hangup-mid-message");
    assert_true(fq_action_on_reply(FQ_ACT_LATE));
    assert_false(fq_action_on_reply(FQ_ACT_DIE));
}

static void
test_grammar_errors(void **unused)
{
    static const struct {
        const char *spec;
        const char *message;
    } rows[] = {
        {"hangup", "expected at=TIME or on=EVENT, not 'hangup'"},
        {"at=5x hangup", "'5x' is not a duration"},
        {"at=5s", "no action given"},
        {"", "no trigger (at=TIME or on=EVENT) given"},
        {"at=1s explode", "unknown action 'explode'"},
        {"at=1s hangup now", "this action takes no argument ('now')"},
        {"on=pass hangup", "on=pass needs a pass number"},
        {"on=pass:0 hangup", "on=pass needs a pass number"},
        {"on=status:sleeping hangup", "on=status needs a migration status"},
        {"on=migrate:x hangup", "'x' is not a count of 1 or more"},
        {"on=mig/rate hangup", "'mig/rate' is not a command name"},
        {"at=1s late", "late needs a duration"},
        {"at=1s late:soon", "late needs a duration, like late:3s, not "
                            "'soon'"},
        {"at=1s error:Oops:x", "error class must be GenericError"},
        {"at=1s dirty-rate", "dirty-rate needs pages/s"},
        {"at=1s stall-bandwidth:x", "stall-bandwidth takes a duration"},
        {"vm=a/b at=1s die", "'a/b' is not a VM name"},
        {"at=1s after=x die", "'x' is not a duration"},
    };
    struct fq_fault f;
    struct fq_error err;
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char prefix[600];

        if (fq_fault_parse(rows[i].spec, &f, &err) != -1) {
            fail_msg("'%s' was accepted", rows[i].spec);
        }
        snprintf(prefix, sizeof(prefix), "fault '%s': ", rows[i].spec);
        assert_memory_equal(err.desc, prefix, strlen(prefix));
        if (strstr(err.desc, rows[i].message) == NULL) {
            fail_msg("'%s': message '%s' lacks '%s'", rows[i].spec, err.desc,
                     rows[i].message);
        }
    }
}

static void
test_firing(void **unused)
{
    struct fq_fault all[7];
    struct fq_faults fs;
    struct fq_event ev = {.type = FQ_EVENT_MIGRATION_PASS};

    (void)unused;
    all[0] = parse("on=query-migrate:2 late:3s");
    all[1] = parse("vm=other at=1s die");
    all[2] = parse("on=migrate fail-migration");
    all[3] = parse("on=pass:3 after=2s hangup");
    all[4] = parse("at=5s error");
    all[5] = parse("on=connect:2 hangup-mid-message");
    all[6] = parse("on=status:completed die");
    assert_int_equal(fq_faults_init(&fs, all, 7, "vm1"), 0);
    /* vm=other is not ours */
    assert_int_equal(fs.n, 6);

    assert_int_equal(fq_faults_command(&fs, "query-migrate", 0.1), -1);
    assert_int_equal(fq_faults_command(&fs, "query-status", 0.2), -1);
    assert_int_equal(fq_faults_command(&fs, "query-migrate", 0.3), 0);
    /* each fault fires once */
    assert_int_equal(fq_faults_command(&fs, "query-migrate", 0.4), -1);
    assert_int_equal(fq_faults_command(&fs, "query-migrate", 0.5), -1);

    /* not a reply fault: it becomes due at once, after the reply */
    assert_int_equal(fq_faults_command(&fs, "migrate", 0.6), -1);
    assert_int_equal(fq_faults_next_due(&fs, 0.6), 1);
    assert_int_equal(fq_faults_next_due(&fs, 0.6), -1);

    ev.pass = 2;
    fq_faults_event(&fs, &ev, 1.0);
    assert_int_equal(fq_faults_next_due(&fs, 10.0), 3);
    ev.pass = 3;
    fq_faults_event(&fs, &ev, 11.0);
    assert_int_equal(fq_faults_next_due(&fs, 12.9), -1);
    assert_int_equal(fq_faults_next_due(&fs, 13.0), 2);

    assert_int_equal(fq_faults_connect(&fs, 14.0), -1);
    assert_int_equal(fq_faults_connect(&fs, 15.0), 4);

    ev.type = FQ_EVENT_MIGRATION;
    ev.status = FQ_STATUS_ACTIVE;
    fq_faults_event(&fs, &ev, 16.0);
    assert_int_equal(fq_faults_next_due(&fs, 16.0), -1);
    ev.status = FQ_STATUS_COMPLETED;
    fq_faults_event(&fs, &ev, 17.0);
    assert_int_equal(fq_faults_next_due(&fs, 17.0), 5);
    assert_int_equal(fq_faults_next_due(&fs, 100.0), -1);
    fq_faults_fini(&fs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_grammar_errors),
        cmocka_unit_test(test_firing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
