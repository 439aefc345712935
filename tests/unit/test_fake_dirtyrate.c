/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's calc-dirty-rate, QMP and model, against QEMU 7.2. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fake-qemu/fake.h"

#define MIB 1048576.0

/*
 * Recorded from qemu-system-x86_64 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)
 * under KVM, 1 GiB, the test guest not started yet (nothing dirtied),
 * with the pauses given (CRLF removed).  The fake must print the same
 * bytes; its model time is set so that start-time matches.
 */
static const struct {
    double advance; /* model seconds before the request */
    const char *request;
    const char *reply;
} transcript_72[] = {
    {2615, "{\"execute\": \"query-dirty-rate\"}",
     "{\"return\": {\"status\": \"unstarted\", \"sample-pages\": 0, \"mode\": "
     "\"page-sampling\", \"start-time\": 0, \"calc-time\": 0}}"},
    {0, "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1}}",
     "{\"return\": {}}"},
    /* QEMU's thread has not said "measuring" yet */
    {0, "{\"execute\": \"query-dirty-rate\"}",
     "{\"return\": {\"status\": \"unstarted\", \"sample-pages\": 512, "
     "\"mode\": \"page-sampling\", \"start-time\": 2615, \"calc-time\": 1}}"},
    /* and so a second one is taken */
    {0, "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1}}",
     "{\"return\": {}}"},
    {1.3, "{\"execute\": \"query-dirty-rate\"}",
     "{\"return\": {\"status\": \"measured\", \"sample-pages\": 512, "
     "\"dirty-rate\": 0, \"mode\": \"page-sampling\", \"start-time\": 2615, "
     "\"calc-time\": 1}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 61}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"calc-time is out "
     "of range[1, 60].\"}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
     "\"1\"}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter "
     "type for 'calc-time', expected: integer\"}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"mode\": \"bogus\"}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'mode' "
     "does not accept value 'bogus'\"}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"calc-time-unit\": \"millisecond\"}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter "
     "'calc-time-unit' is unexpected\"}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"sample-pages\": 100}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"sample-pages is "
     "out of range[128, 16384].\"}}"},
    /* QEMU's clock had reached 2617 s by then */
    {0.7,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"sample-pages\": 1024, \"mode\": \"dirty-bitmap\"}}",
     "{\"return\": {}}"},
    {0.05,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"mode\": \"dirty-ring\"}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"the dirty rate is "
     "already being measured.\"}}"},
    {0, "{\"execute\": \"calc-dirty-rate\", \"arguments\": {}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter "
     "'calc-time' is missing\"}}"},
    {0,
     "{\"execute\": \"query-dirty-rate\", \"arguments\": {\"calc-time-unit\": "
     "\"second\"}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter "
     "'calc-time-unit' is unexpected\"}}"},
    {1.2, "{\"execute\": \"query-dirty-rate\"}",
     "{\"return\": {\"status\": \"measured\", \"sample-pages\": 0, "
     "\"dirty-rate\": 0, \"mode\": \"dirty-bitmap\", \"start-time\": 2617, "
     "\"calc-time\": 1}}"},
    {0,
     "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": 1, "
     "\"sample-pages\": 16384.5}}",
     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter "
     "type for 'sample-pages', expected: integer\"}}"},
};

static void
init_vm(struct fq_vm *vm, const char *version, double ws_mib, double rate,
        bool ring)
{
    struct fq_model_config cfg;
    struct fq_version v;
    struct fq_error err;

    fq_model_config_init(&cfg);
    cfg.working_set_bytes = (uint64_t)(ws_mib * MIB);
    cfg.dirty_rate = rate;
    cfg.dirty_ring = ring;
    assert_int_equal(fq_version_parse(version, &v, &err), 0);
    assert_int_equal(fq_vm_init(vm, "vm", &cfg, &v, &err), 0);
}

static char *
request(struct fq_vm *vm, struct fq_session *s, const char *text)
{
    json_error_t jerr;
    json_t *req = json_loads(text, 0, &jerr);
    json_t *rsp;
    char *out;

    assert_non_null(req);
    rsp = fq_monitor_request(vm, s, req);
    assert_non_null(rsp);
    out = fq_json_dumps_qemu(rsp);
    assert_non_null(out);
    json_decref(rsp);
    json_decref(req);
    return out;
}

static void
test_transcript_72(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    char *r;
    size_t i;

    (void)unused;
    init_vm(&vm, "7.2.22", 0, 0, false);
    free(request(&vm, &s, "{\"execute\": \"qmp_capabilities\"}"));
    for (i = 0; i < sizeof(transcript_72) / sizeof(transcript_72[0]); i++) {
        fq_model_advance(vm.model, transcript_72[i].advance);
        r = request(&vm, &s, transcript_72[i].request);
        if (strcmp(r, transcript_72[i].reply) != 0) {
            fail_msg("%s\n fake: %s\n qemu: %s", transcript_72[i].request, r,
                     transcript_72[i].reply);
        }
        free(r);
    }
    fq_vm_fini(&vm);
}

static json_t *
ret(struct fq_vm *vm, struct fq_session *s, const char *text)
{
    json_error_t jerr;
    json_t *req = json_loads(text, 0, &jerr);
    json_t *rsp;

    assert_non_null(req);
    rsp = fq_monitor_request(vm, s, req);
    json_decref(req);
    return rsp;
}

static const char *
desc(const json_t *rsp)
{
    const char *d = json_string_value(
        json_object_get(json_object_get(rsp, "error"), "desc"));

    return d != NULL ? d : "(no error)";
}

/* 8.2+: milliseconds, the stricter sample-pages rule, calc-time-unit. */
static void
test_version_10(void **unused)
{
    struct fq_session s = {.negotiated = true};
    struct fq_vm vm;
    json_t *r, *info;

    (void)unused;
    init_vm(&vm, "10.0.2", 64, 393000, false);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "49, \"calc-time-unit\": \"millisecond\"}}");
    assert_string_equal(desc(r),
                        "Calculation time is out of range [50ms, 60000ms].");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "61}}");
    assert_string_equal(desc(r),
                        "Calculation time is out of range [50ms, 60000ms].");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "1, \"sample-pages\": 512, \"mode\": \"dirty-bitmap\"}}");
    assert_string_equal(desc(r),
                        "sample-pages is used only in page-sampling mode");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "1, \"mode\": \"dirty-ring\"}}");
    assert_string_equal(desc(r),
                        "mode dirty-ring is not enabled, use other method "
                        "instead.");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "250, \"calc-time-unit\": \"millisecond\", \"sample-pages\": "
            "16384}}");
    assert_non_null(json_object_get(r, "return"));
    json_decref(r);
    fq_model_advance(vm.model, 0.1);
    r = ret(&vm, &s,
            "{\"execute\": \"query-dirty-rate\", \"arguments\": "
            "{\"calc-time-unit\": \"millisecond\"}}");
    info = json_object_get(r, "return");
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "measuring");
    assert_int_equal(json_integer_value(json_object_get(info, "calc-time")),
                     250);
    assert_string_equal(
        json_string_value(json_object_get(info, "calc-time-unit")),
        "millisecond");
    assert_null(json_object_get(info, "dirty-rate"));
    json_decref(r);
    /* 16384 pages hashed at 650 MB/s: 0.1 s after the 250 ms */
    fq_model_advance(vm.model, 0.26);
    r = ret(&vm, &s, "{\"execute\": \"query-dirty-rate\"}");
    info = json_object_get(r, "return");
    assert_string_equal(json_string_value(json_object_get(info, "status")),
                        "measured");
    /* in seconds unless asked: 250 ms shows as 0 */
    assert_int_equal(json_integer_value(json_object_get(info, "calc-time")), 0);
    assert_string_equal(
        json_string_value(json_object_get(info, "calc-time-unit")), "second");
    /* 64 MiB in a quarter second: 256 MiB/s, give or take the samples */
    assert_true(json_integer_value(json_object_get(info, "dirty-rate")) > 200);
    assert_true(json_integer_value(json_object_get(info, "dirty-rate")) < 310);
    json_decref(r);
    fq_vm_fini(&vm);
}

static void
test_dirty_ring_modes(void **unused)
{
    struct fq_session s = {.negotiated = true};
    struct fq_vm vm;
    json_t *r, *info, *vcpu;

    (void)unused;
    init_vm(&vm, "7.2.22", 64, 393000, true);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "1, \"mode\": \"dirty-bitmap\"}}");
    assert_string_equal(desc(r), "mode dirty-bitmap is not enabled, use other "
                                 "method instead.");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "1, \"mode\": \"dirty-ring\", \"sample-pages\": 512}}");
    assert_string_equal(desc(r),
                        "either sample-pages or dirty-ring can be specified.");
    json_decref(r);
    r = ret(&vm, &s,
            "{\"execute\": \"calc-dirty-rate\", \"arguments\": {\"calc-time\": "
            "1, \"mode\": \"dirty-ring\"}}");
    assert_non_null(json_object_get(r, "return"));
    json_decref(r);
    fq_model_advance(vm.model, 1.01);
    r = ret(&vm, &s, "{\"execute\": \"query-dirty-rate\"}");
    info = json_object_get(r, "return");
    assert_string_equal(json_string_value(json_object_get(info, "mode")),
                        "dirty-ring");
    assert_int_equal(json_integer_value(json_object_get(info, "sample-pages")),
                     0);
    vcpu = json_array_get(json_object_get(info, "vcpu-dirty-rate"), 0);
    assert_non_null(vcpu);
    /*
     * 64 MiB is 16384 pages, more than the ring's 4096 entries: every
     * write counts, 393000 pages/s is 1535 MiB/s; far above the 64 MiB
     * of distinct pages that page-sampling sees.
     */
    assert_int_equal(json_integer_value(json_object_get(info, "dirty-rate")),
                     json_integer_value(json_object_get(vcpu, "dirty-rate")));
    assert_true(json_integer_value(json_object_get(info, "dirty-rate")) > 1500);
    json_decref(r);
    fq_vm_fini(&vm);
}

/* The model alone: a measurement of period ms, its result in MiB/s. */
static int64_t
measure(struct fq_model *m, int64_t ms, uint64_t pages)
{
    struct fq_dirty_args a = {.calc_time_ms = ms,
                              .has_sample_pages = pages != 0,
                              .sample_pages = pages};
    struct fq_dirty_info info;
    struct fq_error err;
    int steps = 0;

    assert_int_equal(fq_model_calc_dirty_rate(m, &a, &err), 0);
    do {
        fq_model_advance(m, 0.01);
        fq_model_query_dirty_rate(m, &info);
        assert_true(++steps < 100000);
    } while (info.status != FQ_DIRTY_MEASURED);
    assert_true(info.has_dirty_rate);
    return info.dirty_rate;
}

static struct fq_model *
guest(double ram_gib, double ws_mib, double pages_per_s, uint64_t seed)
{
    struct fq_model_config c;
    struct fq_error err;
    struct fq_model *m;

    fq_model_config_init(&c);
    c.ram_bytes = (uint64_t)(ram_gib * 1073741824.0);
    c.working_set_bytes = (uint64_t)(ws_mib * MIB);
    c.dirty_rate = pages_per_s;
    c.seed = seed;
    m = fq_model_new(&c, &err);
    assert_non_null(m);
    return m;
}

/* Distinct pages: a working set counts once, however often rewritten. */
static void
test_period_dependence(void **unused)
{
    struct fq_model *m;

    (void)unused;
    /* 64 MiB rewritten 24 times a second: 64 MiB/s over 1 s, 32 over 2 */
    m = guest(1, 64, 393000, 1);
    assert_true(labs((long)measure(m, 1000, 16384) - 64) <= 6);
    assert_true(labs((long)measure(m, 2000, 16384) - 32) <= 4);
    fq_model_free(m);
    /* 256 MiB at 16 MiB/s never comes round in 2 s: 16 MiB/s both */
    m = guest(1, 256, 4096, 1);
    assert_true(labs((long)measure(m, 1000, 16384) - 16) <= 3);
    assert_true(labs((long)measure(m, 2000, 16384) - 16) <= 3);
    fq_model_free(m);
    /* an idle guest: 0 */
    m = guest(1, 0, 0, 1);
    assert_int_equal(measure(m, 1000, 512), 0);
    fq_model_free(m);
}

/* Deterministic under a seed; the mean is the truth, the spread binomial. */
static void
test_noise(void **unused)
{
    struct fq_model *a = guest(1, 64, 393000, 7);
    struct fq_model *b = guest(1, 64, 393000, 7);
    double sum = 0, sq = 0, mean, sd;
    int i, n = 200, differ = 0;

    (void)unused;
    for (i = 0; i < 5; i++) {
        int64_t x = measure(a, 1000, 512), y = measure(b, 1000, 512);

        assert_int_equal(x, y);
    }
    fq_model_free(a);
    fq_model_free(b);
    for (i = 0; i < n; i++) {
        struct fq_model *m = guest(1, 64, 393000, (uint64_t)i + 1);
        double x = (double)measure(m, 1000, 512);

        differ += x != 64;
        sum += x;
        sq += x * x;
        fq_model_free(m);
    }
    mean = sum / n;
    sd = sqrt(sq / n - mean * mean);
    /*
     * 512 samples, p = 1/16: 32 +- 5.5 changed, 64 +- 11 MiB/s, less
     * QEMU's truncation to an integer (half a MiB/s on average).
     */
    assert_true(fabs(mean - 63.5) < 2.5);
    assert_true(sd > 8 && sd < 14);
    assert_true(differ > n / 2);
}

static void
test_takes_model_time(void **unused)
{
    struct fq_model *m = guest(1, 64, 393000, 1);
    struct fq_dirty_args a = {.calc_time_ms = 1000};
    struct fq_dirty_info info;
    struct fq_error err;

    (void)unused;
    fq_model_query_dirty_rate(m, &info);
    assert_int_equal(info.status, FQ_DIRTY_UNSTARTED);
    assert_int_equal(fq_model_calc_dirty_rate(m, &a, &err), 0);
    fq_model_advance(m, 0.5);
    fq_model_query_dirty_rate(m, &info);
    assert_int_equal(info.status, FQ_DIRTY_MEASURING);
    assert_false(info.has_dirty_rate);
    assert_int_equal(fq_model_calc_dirty_rate(m, &a, &err), -1);
    assert_string_equal(err.desc, "the dirty rate is already being measured.");
    /* 512 pages: 3 ms of hashing after the second */
    fq_model_advance(m, 0.5);
    fq_model_query_dirty_rate(m, &info);
    assert_int_equal(info.status, FQ_DIRTY_MEASURING);
    fq_model_advance(m, 0.004);
    fq_model_query_dirty_rate(m, &info);
    assert_int_equal(info.status, FQ_DIRTY_MEASURED);
    assert_int_equal(info.calc_time_ms, 1000);
    fq_model_free(m);
}

/* During a migration and across a change of the guest. */
static void
test_during_migration_and_change(void **unused)
{
    struct fq_model *m = guest(4, 64, 393000, 3);
    struct fq_migrate_args args = {0};
    struct fq_error err;
    int64_t before, after;

    (void)unused;
    assert_int_equal(fq_model_migrate(m, &args, &err), 0);
    fq_model_advance(m, 0.1);
    before = measure(m, 1000, 4096);
    assert_true(labs((long)before - 64) <= 8);
    fq_model_set_working_set(m, 1024ull << 20);
    after = measure(m, 1000, 4096);
    /* 1 GiB at 1535 MiB/s comes round in 0.7 s: 1024 MiB/s */
    assert_true(labs((long)after - 1024) <= 60);
    fq_model_set_working_set(m, 64ull << 20);
    after = measure(m, 1000, 4096);
    assert_true(labs((long)after - 64) <= 8);
    /* a stopped guest dirties nothing */
    fq_model_stop(m);
    assert_int_equal(measure(m, 1000, 4096), 0);
    fq_model_free(m);
}

static void
test_scenario_options(void **unused)
{
    struct fq_model_config c;
    struct fq_error err;

    (void)unused;
    fq_model_config_init(&c);
    assert_int_equal(fq_dirtyrate_set_model(&c, "dirty-ring", "4096", &err), 1);
    assert_true(c.dirty_ring);
    assert_int_equal(c.dirty_ring_size, 4096);
    assert_int_equal(fq_dirtyrate_set_model(&c, "dirty-ring", "0", &err), 1);
    assert_false(c.dirty_ring);
    assert_int_equal(fq_dirtyrate_set_model(&c, "dirty-ring", "3000", &err),
                     -1);
    assert_string_equal(err.desc, "--dirty-ring: '3000' is not 0 (none) or a "
                                  "power of two in 1024..65536 (entries)");
    assert_int_equal(fq_dirtyrate_set_model(&c, "hash-rate", "1G", &err), 1);
    assert_true(c.hash_rate == 1073741824.0);
    assert_int_equal(fq_dirtyrate_set_model(&c, "hash-rate", "fast", &err), -1);
    assert_int_equal(fq_dirtyrate_set_model(&c, "seed", "42", &err), 1);
    assert_int_equal(c.seed, 42);
    assert_int_equal(fq_dirtyrate_set_model(&c, "seed", "-1", &err), -1);
    assert_int_equal(fq_dirtyrate_set_model(&c, "ram", "1G", &err), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcript_72),
        cmocka_unit_test(test_version_10),
        cmocka_unit_test(test_dirty_ring_modes),
        cmocka_unit_test(test_period_dependence),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_takes_model_time),
        cmocka_unit_test(test_during_migration_and_change),
        cmocka_unit_test(test_scenario_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
