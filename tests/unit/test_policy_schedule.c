/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: VDSM schedule profiles and the schedule file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define DT POLICY_SCHEDULE_SET_DOWNTIME
#define PC POLICY_SCHEDULE_POSTCOPY
#define AB POLICY_SCHEDULE_ABORT

struct want {
    int limit;
    enum policy_schedule_verb verb;
    uint64_t ms;
};

static void
assert_schedule(const struct policy_schedule *sc, uint64_t init,
                const struct want *w, size_t n)
{
    size_t i;

    assert_int_equal(sc->init_downtime_ms, init);
    assert_int_equal(sc->n_entries, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(sc->entries[i].limit, w[i].limit);
        assert_int_equal(sc->entries[i].verb, w[i].verb);
        assert_int_equal(sc->entries[i].downtime_ms, w[i].ms);
    }
}

/* oVirt's stock policies, from ovirt-engine's 0000_config.sql. */
static void
test_profiles(void **unused)
{
    static const struct want minimal[] = {
        {1, DT, 150}, {2, DT, 200}, {3, DT, 300},
        {4, DT, 400}, {6, DT, 500}, {-1, AB, 0},
    };
    static const struct want suspend[] = {
        {1, DT, 150}, {2, DT, 200},   {3, DT, 300}, {4, DT, 400},
        {6, DT, 500}, {-1, DT, 5000}, {-1, AB, 0},
    };
    static const struct want postcopy[] = {
        {1, DT, 150},
        {2, DT, 200},
        {-1, PC, 0},
        {-1, AB, 0},
    };
    static const struct want large[] = {
        {1, DT, 400},  {2, DT, 500},   {3, DT, 700}, {4, DT, 1000},
        {6, DT, 1500}, {-1, DT, 5000}, {-1, AB, 0},
    };
    struct policy_schedule sc;

    (void)unused;
    assert_int_equal(policy_schedule_profile("minimal-downtime", &sc), 0);
    assert_string_equal(sc.name, "minimal-downtime");
    assert_int_equal(sc.mode, POLICY_SCHEDULE_ENTRIES);
    assert_schedule(&sc, 100, minimal, 6);
    assert_int_equal(policy_schedule_profile("suspend-workload", &sc), 0);
    assert_schedule(&sc, 100, suspend, 7);
    assert_int_equal(policy_schedule_profile("post-copy", &sc), 0);
    assert_schedule(&sc, 100, postcopy, 4);
    assert_int_equal(policy_schedule_profile("very-large-vms", &sc), 0);
    assert_schedule(&sc, 300, large, 7);
    assert_int_equal(policy_schedule_profile("legacy", &sc), 0);
    assert_int_equal(sc.mode, POLICY_SCHEDULE_LEGACY);
    assert_int_equal(policy_schedule_profile("timed", &sc), 0);
    assert_int_equal(sc.mode, POLICY_SCHEDULE_TIMED);

    memset(&sc, 0x5a, sizeof(sc));
    assert_int_equal(policy_schedule_profile("Minimal downtime", &sc), -1);
    assert_int_equal(sc.n_entries, 0x5a5a5a5a5a5a5a5aULL); /* untouched */
    assert_int_equal(policy_schedule_profile(NULL, &sc), -1);
}

/* A file that spells out "Suspend workload if needed". */
static void
test_parse_file(void **unused)
{
    static const char text[] =
        "# oVirt's Suspend workload if needed\r\n"
        "init set-downtime 100\r\n"
        "\n"
        "1 set-downtime 150   # after the first new iteration\n"
        "2\tset-downtime\t200\n"
        "3 set-downtime 300\n"
        "4 set-downtime 400\n"
        "  6 set-downtime 500\n"
        "last set-downtime 5000\n"
        "-1 abort";
    static const struct want suspend[] = {
        {1, DT, 150}, {2, DT, 200},   {3, DT, 300}, {4, DT, 400},
        {6, DT, 500}, {-1, DT, 5000}, {-1, AB, 0},
    };
    struct policy_schedule sc, profile;
    char err[256] = "";

    (void)unused;
    assert_int_equal(policy_schedule_parse(text, "/etc/qmigrate/suspend.sched",
                                           &sc, err, sizeof(err)),
                     0);
    assert_string_equal(err, "");
    assert_string_equal(sc.name, "suspend.sched");
    assert_int_equal(sc.mode, POLICY_SCHEDULE_ENTRIES);
    assert_schedule(&sc, 100, suspend, 7);
    assert_int_equal(policy_schedule_profile("suspend-workload", &profile), 0);
    assert_memory_equal(sc.entries, profile.entries, 7 * sizeof(sc.entries[0]));

    assert_int_equal(
        policy_schedule_parse("0 postcopy\n", "p", &sc, err, sizeof(err)), 0);
    assert_int_equal(sc.init_downtime_ms, 0);
    assert_int_equal(sc.entries[0].limit, 0);
    assert_int_equal(sc.entries[0].verb, PC);
    /* An init alone is a schedule. */
    assert_int_equal(policy_schedule_parse("init set-downtime 250", "i", &sc,
                                           err, sizeof(err)),
                     0);
    assert_int_equal(sc.init_downtime_ms, 250);
    assert_int_equal(sc.n_entries, 0);
}

struct err_row {
    const char *text;
    const char *message;
};

static void
test_parse_errors(void **unused)
{
    static const struct err_row rows[] = {
        {"init set-downtime 100\n1 set-downtime 150\nbogus abort\n",
         "f.sched:3: 'bogus' is not 'init', 'last' or an iteration limit "
         "0..1000000"},
        {"1 set-downtime\n", "f.sched:1: set-downtime needs a value in ms"},
        {"# c\n\n1 set-downtime 0\n",
         "f.sched:3: downtime '0' is not a whole number of ms in "
         "1..2000000"},
        {"1 set-downtime 2000001",
         "f.sched:1: downtime '2000001' is not a whole number of ms in "
         "1..2000000"},
        {"1 set-downtime 1.5",
         "f.sched:1: downtime '1.5' is not a whole number of ms in "
         "1..2000000"},
        {"1 set-downtime 150 x",
         "f.sched:1: unexpected 'x' after set-downtime 150"},
        {"1 jump",
         "f.sched:1: unknown action 'jump' (expected set-downtime MS, "
         "postcopy or abort)"},
        {"init set-downtime 100\ninit set-downtime 200",
         "f.sched:2: init given twice (first on line 1)"},
        {"init abort", "f.sched:1: init takes only set-downtime, not abort"},
        {"4 set-downtime 150\n2 set-downtime 200",
         "f.sched:2: limit 2 is below the previous limit 4 (entries fire "
         "in order)"},
        {"last abort\n3 set-downtime 100",
         "f.sched:2: limit 3 after a 'last' entry (numbered entries come "
         "first)"},
        {"\n\nabort\n",
         "f.sched:3: 'abort' has no action (expected WHEN ACTION [MS])"},
        {"last abort now", "f.sched:1: unexpected 'now' after abort"},
        {"1 a b c d", "f.sched:1: too many words (expected WHEN ACTION [MS])"},
        {"-5 abort",
         "f.sched:1: '-5' is not 'init', 'last' or an iteration limit "
         "0..1000000"},
        {"99999999999999999999 abort",
         "f.sched:1: '99999999999999999999' is not 'init', 'last' or an "
         "iteration limit 0..1000000"},
        {"", "f.sched: no entries (expected lines such as 'init "
             "set-downtime 100', '1 set-downtime 150', 'last abort')"},
        {"# nothing\n   \n",
         "f.sched: no entries (expected lines such as 'init set-downtime "
         "100', '1 set-downtime 150', 'last abort')"},
    };
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct policy_schedule sc;
        char err[256] = "";

        memset(&sc, 0x5a, sizeof(sc));
        assert_int_equal(policy_schedule_parse(rows[i].text, "f.sched", &sc,
                                               err, sizeof(err)),
                         -1);
        assert_string_equal(err, rows[i].message);
        assert_int_equal(sc.n_entries, 0x5a5a5a5a5a5a5a5aULL);
    }
}

static void
test_parse_limits(void **unused)
{
    char text[4096];
    char err[256];
    struct policy_schedule sc;
    size_t used = 0;
    int i;

    (void)unused;
    for (i = 0; i < POLICY_MAX_SCHEDULE; i++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "%d set-downtime %d\n", i, 100 + i);
    }
    assert_int_equal(policy_schedule_parse(text, "big", &sc, err, sizeof(err)),
                     0);
    assert_int_equal(sc.n_entries, POLICY_MAX_SCHEDULE);
    assert_int_equal(sc.entries[31].downtime_ms, 131);
    snprintf(text + used, sizeof(text) - used, "last abort\n");
    assert_int_equal(policy_schedule_parse(text, "big", &sc, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "big:33: more than 32 entries");

    memset(text, ' ', 300);
    memcpy(text + 290, "1 abort", 7);
    text[297] = '\0';
    assert_int_equal(policy_schedule_parse(text, "long", &sc, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "long:1: line longer than 255 characters");

    /* A short buffer gets a truncated message, never an overflow. */
    assert_int_equal(policy_schedule_parse("1 jump", "f", &sc, err, 8), -1);
    assert_string_equal(err, "f:1: un");
    assert_int_equal(policy_schedule_parse("1 jump", "f", &sc, NULL, 0), -1);
    assert_int_equal(policy_schedule_parse(NULL, NULL, &sc, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "(schedule): no text");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
