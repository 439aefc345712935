/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: query-migrate JSON and QEMU's way of printing JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fake-qemu/query_json.h"

static const struct fq_version v72 = {7, 2, 22, ""};
static const struct fq_version v91 = {9, 1, 0, ""};

/* query-migrate return values printed by QEMU 7.2.22 (see the docs). */
static const char active_72[] =
    "{\"expected-downtime\": 300, \"status\": \"active\", \"setup-time\": 4, "
    "\"total-time\": 164, \"ram\": {\"total\": 537403392, "
    "\"postcopy-requests\": 0, \"dirty-sync-count\": 1, \"multifd-bytes\": "
    "0, \"pages-per-second\": 30320, \"downtime-bytes\": 0, \"page-size\": "
    "4096, \"remaining\": 514514944, \"postcopy-bytes\": 0, \"mbps\": "
    "838.89112, \"transferred\": 20975765, \"dirty-sync-missed-zero-copy\": "
    "0, \"precopy-bytes\": 20975765, \"duplicate\": 478, "
    "\"dirty-pages-rate\": 0, \"skipped\": 0, \"normal-bytes\": 20930560, "
    "\"normal\": 5110}}";

static const char completed_72[] =
    "{\"status\": \"completed\", \"setup-time\": 4, \"downtime\": 41, "
    "\"total-time\": 687, \"ram\": {\"total\": 537403392, "
    "\"postcopy-requests\": 0, \"dirty-sync-count\": 3, \"multifd-bytes\": "
    "0, \"pages-per-second\": 25560, \"downtime-bytes\": 67239943, "
    "\"page-size\": 4096, \"remaining\": 0, \"postcopy-bytes\": 0, "
    "\"mbps\": 1594.0138565153734, \"transferred\": 135976116, "
    "\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 68736173, "
    "\"duplicate\": 114705, \"dirty-pages-rate\": 0, \"skipped\": 0, "
    "\"normal-bytes\": 134680576, \"normal\": 32881}}";

static const char blk_72[] =
    "{\"expected-downtime\": 2000, \"status\": \"active\", \"disk\": "
    "{\"total\": 268435456, \"postcopy-requests\": 0, \"dirty-sync-count\": "
    "0, \"multifd-bytes\": 0, \"pages-per-second\": 0, \"downtime-bytes\": "
    "0, \"page-size\": 0, \"remaining\": 235929600, \"postcopy-bytes\": 0, "
    "\"mbps\": 0, \"transferred\": 32505856, "
    "\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 0, "
    "\"duplicate\": 0, \"dirty-pages-rate\": 0, \"skipped\": 0, "
    "\"normal-bytes\": 0, \"normal\": 0}, \"setup-time\": 5, "
    "\"total-time\": 128, \"ram\": {\"total\": 537403392, "
    "\"postcopy-requests\": 0, \"dirty-sync-count\": 1, \"multifd-bytes\": "
    "0, \"pages-per-second\": 0, \"downtime-bytes\": 0, \"page-size\": 4096, "
    "\"remaining\": 537403392, \"postcopy-bytes\": 0, \"mbps\": "
    "840.02192000000002, \"transferred\": 3112, "
    "\"dirty-sync-missed-zero-copy\": 0, \"precopy-bytes\": 3112, "
    "\"duplicate\": 0, \"dirty-pages-rate\": 0, \"skipped\": 0, "
    "\"normal-bytes\": 0, \"normal\": 0}}";

static void
ram(struct fq_migration_info *i, uint64_t transferred, uint64_t remaining,
    uint64_t sync, uint64_t pps, double mbps)
{
    i->has_ram = true;
    i->ram.total = 537403392;
    i->ram.page_size = 4096;
    i->ram.transferred = transferred;
    i->ram.remaining = remaining;
    i->ram.dirty_sync_count = sync;
    i->ram.pages_per_second = pps;
    i->ram.mbps = mbps;
}

static void
check(const struct fq_migration_info *info, const struct fq_version *v,
      const char *want)
{
    json_t *j = fq_query_migrate_json(info, v);
    char *s = fq_json_dumps_qemu(j);

    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
    json_decref(j);
}

static void
test_as_qemu_prints(void **unused)
{
    struct fq_migration_info i;

    (void)unused;
    memset(&i, 0, sizeof(i));
    i.status = FQ_STATUS_ACTIVE;
    ram(&i, 20975765, 514514944, 1, 30320, 838.89112);
    i.ram.precopy_bytes = 20975765;
    i.ram.duplicate = 478;
    i.ram.normal = 5110;
    i.ram.normal_bytes = 20930560;
    i.has_expected_downtime = true;
    i.expected_downtime = 300;
    i.has_setup_time = true;
    i.setup_time = 4;
    i.has_total_time = true;
    i.total_time = 164;
    check(&i, &v72, active_72);

    memset(&i, 0, sizeof(i));
    i.status = FQ_STATUS_COMPLETED;
    ram(&i, 135976116, 0, 3, 25560, 1594.0138565153734);
    i.ram.downtime_bytes = 67239943;
    i.ram.precopy_bytes = 68736173;
    i.ram.duplicate = 114705;
    i.ram.normal = 32881;
    i.ram.normal_bytes = 134680576;
    i.has_setup_time = true;
    i.setup_time = 4;
    i.has_downtime = true;
    i.downtime = 41;
    i.has_total_time = true;
    i.total_time = 687;
    check(&i, &v72, completed_72);

    memset(&i, 0, sizeof(i));
    i.status = FQ_STATUS_ACTIVE;
    ram(&i, 3112, 537403392, 1, 0, 840.02192000000002);
    i.ram.precopy_bytes = 3112;
    i.has_disk = true;
    i.disk.total = 268435456;
    i.disk.transferred = 32505856;
    i.disk.remaining = 235929600;
    i.has_expected_downtime = true;
    i.expected_downtime = 2000;
    i.has_setup_time = true;
    i.setup_time = 5;
    i.has_total_time = true;
    i.total_time = 128;
    check(&i, &v72, blk_72);
}

static void
test_members_by_status(void **unused)
{
    struct fq_migration_info i;

    (void)unused;
    memset(&i, 0, sizeof(i));
    check(&i, &v72, "{}");
    i.status = FQ_STATUS_SETUP;
    check(&i, &v72, "{\"status\": \"setup\"}");
    i.status = FQ_STATUS_CANCELLED;
    check(&i, &v72, "{\"status\": \"cancelled\"}");
    i.status = FQ_STATUS_FAILED;
    i.has_error_desc = true;
    strcpy(i.error_desc, "Unable to write to socket: Broken pipe");
    check(&i, &v72,
          "{\"status\": \"failed\", \"error-desc\": \"Unable to "
          "write to socket: Broken pipe\"}");
    memset(&i, 0, sizeof(i));
    i.status = FQ_STATUS_ACTIVE;
    i.has_cpu_throttle_percentage = true;
    i.cpu_throttle_percentage = 30;
    check(&i, &v72,
          "{\"cpu-throttle-percentage\": 30, \"status\": "
          "\"active\"}");
}

static void
test_version_91(void **unused)
{
    struct fq_migration_info i;
    json_t *j;
    json_t *r;

    (void)unused;
    memset(&i, 0, sizeof(i));
    i.status = FQ_STATUS_ACTIVE;
    ram(&i, 1, 2, 3, 4, 5.5);
    i.has_disk = true;
    i.disk.total = 10;
    j = fq_query_migrate_json(&i, &v91);
    assert_null(json_object_get(j, "disk"));
    r = json_object_get(j, "ram");
    assert_null(json_object_get(r, "skipped"));
    assert_int_equal(json_object_size(r), 17);
    assert_true(json_is_real(json_object_get(r, "mbps")));
    json_decref(j);
    j = fq_query_migrate_json(&i, &v72);
    assert_int_equal(json_object_size(json_object_get(j, "ram")), 18);
    assert_int_equal(json_object_size(json_object_get(j, "disk")), 18);
    json_decref(j);
    assert_true(fq_version_at_least(&v91, 9, 1));
    assert_true(fq_version_at_least(&v91, 8, 2));
    assert_false(fq_version_at_least(&v72, 8, 0));
    assert_true(fq_version_at_least(&v72, 7, 2));
}

static void
test_events(void **unused)
{
    struct fq_event ev = {.type = FQ_EVENT_MIGRATION_PASS, .pass = 7};
    json_t *d;

    (void)unused;
    assert_string_equal(fq_event_name(&ev), "MIGRATION_PASS");
    d = fq_event_data_json(&ev);
    assert_int_equal(json_integer_value(json_object_get(d, "pass")), 7);
    json_decref(d);
    ev.type = FQ_EVENT_MIGRATION;
    ev.status = FQ_STATUS_POSTCOPY_ACTIVE;
    d = fq_event_data_json(&ev);
    assert_string_equal(json_string_value(json_object_get(d, "status")),
                        "postcopy-active");
    json_decref(d);
    ev.type = FQ_EVENT_RESUME;
    assert_null(fq_event_data_json(&ev));
    assert_string_equal(fq_event_name(&ev), "RESUME");
}

static void
test_dumps(void **unused)
{
    json_t *j = json_pack("{s:s, s:f, s:f, s:[i, b, n], s:{}}", "s",
                          "a\"b\\c\n\t\x01 \xc3\xa9 \xf0\x9f\x98\x80", "r", 0.1,
                          "whole", 2.0, "a", -3, 1, "o");
    char *s = fq_json_dumps_qemu(j);

    (void)unused;
    assert_non_null(s);
    /* keys in QDict bucket order; output is ASCII with \uXXXX escapes */
    assert_string_equal(s, "{\"r\": 0.10000000000000001, \"s\": "
                           "\"a\\\"b\\\\c\\n\\t\\u0001 \\u00E9 "
                           "\\uD83D\\uDE00\", \"o\": {}, \"a\": [-3, true, "
                           "null], \"whole\": 2}");
    free(s);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as_qemu_prints),
        cmocka_unit_test(test_members_by_status),
        cmocka_unit_test(test_version_91),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_dumps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
