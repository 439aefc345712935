/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's QMP session against a real QEMU 7.2 transcript. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fake-qemu/fake.h"

/*
 * Recorded from qemu-system-x86_64 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)
 * with the test guest, idle, no migration destination: each request and
 * the lines QEMU answered (CRLF removed), events first.  The fake must
 * print the same bytes.
 */
static const char greeting_72[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "
    "\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, "
    "\"capabilities\": [\"oob\"]}}";

static const struct exchange {
    const char *request;
    const char *lines[2];
} transcript_72[] = {
    {
        "{\"execute\": \"query-status\", \"id\": \"a-1\"}",
        {
            "{\"id\": \"a-1\", \"error\": {\"class\": \"Command"
            "NotFound\", \"des"
            "c\": \"Expecting capabilities negotiation with 'qmp_capabi"
            "lities'\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": "
        "[\"oob\"]}, \"id\": {\"any\": [\"json\", 1]}}",
        {
            "{\"return\": {}, \"id\": {\"any\": [\"json\", 1]}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"qmp_capabilities\", \"id\": 2}",
        {
            "{\"id\": 2, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
            "\"Capabilities negotiation is already complete, command i"
            "gnored\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"nope\", \"id\": 3}",
        {
            "{\"id\": 3, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
            "\"The command nope has not been found\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate\", \"id\": 4}",
        {
            "{\"return\": {}, \"id\": 4}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate-capabilities\", \"id\": 5}",
        {
            "{\"return\": [{\"state\": false, \"capability\": \"xbzrle\"}, {\""
            "state\": false, \"capability\": \"rdma-pin-all\"}, {\"state\": "
            "false, \"capability\": \"auto-converge\"}, {\"state\": false, "
            "\"capability\": \"zero-blocks\"}, {\"state\": false, \"capabili"
            "ty\": \"compress\"}, {\"state\": false, \"capability\": \"events"
            "\"}, {\"state\": false, \"capability\": \"postcopy-ram\"}, {\"st"
            "ate\": false, \"capability\": \"x-colo\"}, {\"state\": false, \""
            "capability\": \"release-ram\"}, {\"state\": false, \"capabilit"
            "y\": \"block\"}, {\"state\": false, \"capability\": \"return-pat"
            "h\"}, {\"state\": false, \"capability\": \"pause-before-switch"
            "over\"}, {\"state\": false, \"capability\": \"multifd\"}, {\"sta"
            "te\": false, \"capability\": \"dirty-bitmaps\"}, {\"state\": fa"
            "lse, \"capability\": \"postcopy-blocktime\"}, {\"state\": fals"
            "e, \"capability\": \"late-block-activate\"}, {\"state\": false"
            ", \"capability\": \"x-ignore-shared\"}, {\"state\": false, \"ca"
            "pability\": \"validate-uuid\"}, {\"state\": false, \"capabilit"
            "y\": \"background-snapshot\"}, {\"state\": false, \"capability"
            "\": \"zero-copy-send\"}, {\"state\": false, \"capability\": \"po"
            "stcopy-preempt\"}], \"id\": 5}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-version\", \"id\": 6}",
        {
            "{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7"
            "}, \"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"id\": "
            "6}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-status\"}",
        {
            "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"r"
            "unning\": true}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate\", \"id\": 7}",
        {
            "{\"id\": 7, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Pa"
            "rameter 'uri' is missing\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0"
        ".1:1\", \"blk\": \"yes\"}, \"id\": 8}",
        {
            "{\"id\": 8, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"In"
            "valid parameter type for 'blk', expected: boolean\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0"
        ".1:1\", \"bogus\": 1}, \"id\": 9}",
        {
            "{\"id\": 9, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Pa"
            "rameter 'bogus' is unexpected\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"dow"
        "ntime-limit\": \"x\"}, \"id\": 10}",
        {
            "{\"id\": 10, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'downtime-limit' expects uint64\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"dow"
        "ntime-limit\": -1}, \"id\": 11}",
        {
            "{\"id\": 11, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'downtime_limit' expects an integer in the rang"
            "e of 0 to (2000 * 1000) ms\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"cpu"
        "-throttle-initial\": 0}, \"id\": 12}",
        {
            "{\"id\": 12, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'cpu_throttle_initial' expects an integer in th"
            "e range of 1 to 99\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max"
        "-cpu-throttle\": 10}, \"id\": 13}",
        {
            "{\"id\": 13, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'max_cpu_throttle' expects an integer in the ra"
            "nge of cpu_throttle_initial to 99\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"xbz"
        "rle-cache-size\": 1000}, \"id\": 14}",
        {
            "{\"id\": 14, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'xbzrle_cache_size' expects a power of two no l"
            "ess than the target page size\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"tls"
        "-creds\": null, \"downtime-limit\": 250}, \"id\": 15}",
        {
            "{\"return\": {}, \"id\": 15}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"mul"
        "tifd-compression\": \"lzma\"}, \"id\": 16}",
        {
            "{\"id\": 16, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'multifd-compression' does not accept value 'lz"
            "ma'\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"c"
        "apabilities\": [{\"capability\": \"events\"}]}, \"id\": 17}",
        {
            "{\"id\": 17, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'capabilities[0].state' is missing\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"c"
        "apabilities\": [{\"capability\": \"postcopy-preempt\", \"state"
        "\": true}]}, \"id\": 18}",
        {
            "{\"id\": 18, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "ostcopy preempt requires postcopy-ram\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"c"
        "apabilities\": {}}, \"id\": 19}",
        {
            "{\"id\": 19, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"I"
            "nvalid parameter type for 'capabilities', expected: arra"
            "y\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-start-postcopy\", \"id\": 20}",
        {
            "{\"id\": 20, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"E"
            "nable postcopy with migrate_set_capability before the st"
            "art of migration\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-continue\", \"arguments\": {\"state\": \""
        "pre-switchover\"}, \"id\": 21}",
        {
            "{\"id\": 21, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"M"
            "igration not in expected state: none\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-continue\", \"arguments\": {\"state\": \""
        "bogus\"}, \"id\": 22}",
        {
            "{\"id\": 22, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'state' does not accept value 'bogus'\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"cont\", \"id\": 23}",
        {
            "{\"return\": {}, \"id\": 23}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-block-jobs\", \"id\": 24}",
        {
            "{\"return\": [], \"id\": 24}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate\", \"arguments\": {\"x\": 1}, \"id\""
        ": 25}",
        {
            "{\"id\": 25, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'x' is unexpected\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate_cancel\", \"id\": 26}",
        {
            "{\"return\": {}, \"id\": 26}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate\", \"id\": 27}",
        {
            "{\"return\": {}, \"id\": 27}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"bogus:1\"}, "
        "\"id\": 28}",
        {
            "{\"id\": 28, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'uri' expects a valid migration protocol\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate\", \"id\": 29}",
        {
            "{\"return\": {\"status\": \"failed\"}, \"id\": 29}",
            NULL,
        },
    },
    {
        "{\"execute\": 5, \"id\": 30}",
        {
            "{\"id\": 30, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Q"
            "MP input member 'execute' must be a string\"}}",
            NULL,
        },
    },
    {
        "{\"id\": 31}",
        {
            "{\"id\": 31, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Q"
            "MP input lacks member 'execute'\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-status\", \"foo\": 1, \"id\": 32}",
        {
            "{\"id\": 32, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Q"
            "MP input member 'foo' is unexpected\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-status\", \"arguments\": [], \"id\": 33}",
        {
            "{\"id\": 33, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"Q"
            "MP input member 'arguments' must be an object\"}}",
            NULL,
        },
    },
    {
        "{\"exec-oob\": \"query-status\", \"id\": 34}",
        {
            "{\"id\": 34, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"T"
            "he command query-status does not support OOB\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"stop\", \"id\": 35}",
        {
            "{\"timestamp\": {\"seconds\": 1795527879, \"microseconds\": 78"
            "7290}, \"event\": \"STOP\"}",
            "{\"return\": {}, \"id\": 35}",
        },
    },
    {
        "{\"execute\": \"query-status\", \"id\": 36}",
        {
            "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"ru"
            "nning\": false}, \"id\": 36}",
            NULL,
        },
    },
    {
        "{\"execute\": \"cont\", \"id\": 37}",
        {
            "{\"timestamp\": {\"seconds\": 1795527879, \"microseconds\": 98"
            "9889}, \"event\": \"RESUME\"}",
            "{\"return\": {}, \"id\": 37}",
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"dow"
        "ntime_limit\": 5}, \"id\": 38}",
        {
            "{\"id\": 38, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'downtime_limit' is unexpected\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"cpu"
        "-throttle-initial\": 300}, \"id\": 39}",
        {
            "{\"id\": 39, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'cpu-throttle-initial' expects uint8_t\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"c"
        "apabilities\": [{\"capability\": \"dirty-limit\", \"state\": tr"
        "ue}]}, \"id\": 40}",
        {
            "{\"id\": 40, \"error\": {\"class\": \"GenericError"
            "\", \"desc\": \"P"
            "arameter 'capability' does not accept value 'dirty-limit"
            "'\"}}",
            NULL,
        },
    },
    {
        "{\"execute\": \"query-migrate-parameters\", \"id\": 41}",
        {
            "{\"return\": {\"cpu-throttle-tailslow\": false, \"xbzrle-cach"
            "e-size\": 67108864, \"cpu-throttle-initial\": 20, \"announce"
            "-max\": 550, \"decompress-threads\": 2, \"compress-threads\":"
            " 8, \"compress-level\": 1, \"multifd-channels\": 2, \"multifd"
            "-zstd-level\": 1, \"announce-initial\": 50, \"block-incremen"
            "tal\": false, \"compress-wait-thread\": true, \"downtime-lim"
            "it\": 250, \"tls-authz\": \"\", \"multifd-compression\": \"none\""
            ", \"announce-rounds\": 5, \"announce-step\": 100, \"tls-creds"
            "\": \"\", \"multifd-zlib-level\": 1, \"max-cpu-throttle\": 99, "
            "\"max-postcopy-bandwidth\": 0, \"tls-hostname\": \"\", \"thrott"
            "le-trigger-threshold\": 50, \"max-bandwidth\": 134217728, \""
            "x-checkpoint-delay\": 20000, \"cpu-throttle-increment\": 10"
            "}, \"id\": 41}",
            NULL,
        },
    },
};

/* The wall time of the STOP and RESUME events in the recording. */
static const double event_walls[] = {1795527879.787290, 1795527879.989889};

static void
init_vm(struct fq_vm *vm, const char *version)
{
    struct fq_model_config cfg;
    struct fq_version v;
    struct fq_error err;

    fq_model_config_init(&cfg);
    assert_int_equal(fq_version_parse(version, &v, &err), 0);
    snprintf(v.package, sizeof(v.package), "%s",
             "Debian 1:7.2+dfsg-7+deb12u18+b3");
    assert_int_equal(fq_vm_init(vm, "vm", &cfg, &v, &err), 0);
}

static char *
dump(json_t *v)
{
    char *s = fq_json_dumps_qemu(v);

    assert_non_null(s);
    json_decref(v);
    return s;
}

/* Runs one request; returns the lines as the server would send them. */
static size_t
exchange(struct fq_vm *vm, struct fq_session *s, const char *request,
         char **lines, size_t max, const double *walls, size_t *wall_i)
{
    json_error_t jerr;
    json_t *req = json_loads(request, 0, &jerr);
    json_t *rsp;
    struct fq_event ev;
    size_t n = 0;

    assert_non_null(req);
    rsp = fq_monitor_request(vm, s, req);
    while (fq_model_next_event(vm->model, &ev)) {
        bool migration =
            ev.type == FQ_EVENT_MIGRATION || ev.type == FQ_EVENT_MIGRATION_PASS;

        if (migration && !fq_model_caps(vm->model)->events) {
            continue;
        }
        assert_true(n < max);
        lines[n++] = dump(fq_monitor_event(&ev, walls[(*wall_i)++]));
    }
    assert_true(n < max);
    lines[n++] = dump(rsp);
    json_decref(req);
    return n;
}

static void
test_transcript_72(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    char *g;
    size_t i;
    size_t wall_i = 0;

    (void)unused;
    init_vm(&vm, "7.2.22");
    g = dump(fq_monitor_greeting(&vm));
    assert_string_equal(g, greeting_72);
    free(g);
    for (i = 0; i < sizeof(transcript_72) / sizeof(transcript_72[0]); i++) {
        const struct exchange *x = &transcript_72[i];
        char *lines[4];
        size_t n =
            exchange(&vm, &s, x->request, lines, 4, event_walls, &wall_i);
        size_t want = x->lines[1] ? 2 : 1;
        size_t j;

        if (n != want) {
            fail_msg("%s: %zu lines, QEMU sent %zu", x->request, n, want);
        }
        for (j = 0; j < n; j++) {
            if (strcmp(lines[j], x->lines[j]) != 0) {
                fail_msg("%s\n fake: %s\n qemu: %s", x->request, lines[j],
                         x->lines[j]);
            }
            free(lines[j]);
        }
    }
    fq_vm_fini(&vm);
}

static json_t *
run(struct fq_vm *vm, struct fq_session *s, const char *request)
{
    json_error_t jerr;
    json_t *req = json_loads(request, 0, &jerr);
    json_t *rsp;

    assert_non_null(req);
    rsp = fq_monitor_request(vm, s, req);
    json_decref(req);
    assert_non_null(rsp);
    return rsp;
}

static const char *
error_desc(const json_t *rsp)
{
    return json_string_value(
        json_object_get(json_object_get(rsp, "error"), "desc"));
}

static void
test_version_91(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    json_t *rsp;
    json_t *ret;

    (void)unused;
    init_vm(&vm, "9.1.0");
    json_decref(run(&vm, &s, "{\"execute\": \"qmp_capabilities\"}"));
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate\", \"arguments\": "
              "{\"uri\": \"tcp:127.0.0.1:4444\", \"blk\": true}}");
    assert_string_equal(error_desc(rsp), "Parameter 'blk' is unexpected");
    json_decref(rsp);
    rsp = run(&vm, &s, "{\"execute\": \"migrate\", \"arguments\": {}}");
    assert_string_equal(error_desc(rsp),
                        "need either 'uri' or 'channels' argument");
    json_decref(rsp);
    rsp = run(&vm, &s, "{\"execute\": \"query-migrate-parameters\"}");
    ret = json_object_get(rsp, "return");
    assert_null(json_object_get(ret, "block-incremental"));
    assert_null(json_object_get(ret, "compress-level"));
    assert_true(json_is_false(json_object_get(ret, "direct-io")));
    assert_string_equal(json_string_value(json_object_get(ret, "mode")),
                        "normal");
    assert_int_equal(
        json_integer_value(json_object_get(ret, "avail-switchover-bandwidth")),
        0);
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate-set-capabilities\", "
              "\"arguments\": {\"capabilities\": [{\"capability\": "
              "\"block\", \"state\": true}]}}");
    assert_string_equal(error_desc(rsp),
                        "Parameter 'capability' does not accept value "
                        "'block'");
    json_decref(rsp);
    rsp = run(&vm, &s, "{\"execute\": \"query-version\"}");
    ret = json_object_get(json_object_get(rsp, "return"), "qemu");
    assert_int_equal(json_integer_value(json_object_get(ret, "major")), 9);
    assert_int_equal(json_integer_value(json_object_get(ret, "minor")), 1);
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate\", \"arguments\": "
              "{\"uri\": \"tcp:127.0.0.1:4444\"}}");
    assert_non_null(json_object_get(rsp, "return"));
    json_decref(rsp);
    fq_model_advance(vm.model, 0.5);
    rsp = run(&vm, &s, "{\"execute\": \"query-migrate\"}");
    ret = json_object_get(json_object_get(rsp, "return"), "ram");
    assert_null(json_object_get(ret, "skipped"));
    assert_int_equal(json_integer_value(json_object_get(ret, "page-size")),
                     4096);
    json_decref(rsp);
    fq_vm_fini(&vm);
}

static void
test_migration_flow(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    json_t *rsp;
    json_t *ret;
    json_t *caps;
    size_t i;

    (void)unused;
    init_vm(&vm, "7.2.22");
    json_decref(run(&vm, &s, "{\"execute\": \"qmp_capabilities\"}"));
    assert_false(s.oob);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate-set-capabilities\", "
              "\"arguments\": {\"capabilities\": [{\"capability\": "
              "\"events\", \"state\": true}, {\"capability\": "
              "\"auto-converge\", \"state\": true}]}}");
    assert_non_null(json_object_get(rsp, "return"));
    json_decref(rsp);
    assert_true(fq_model_caps(vm.model)->events);
    assert_true(fq_model_caps(vm.model)->auto_converge);
    rsp = run(&vm, &s, "{\"execute\": \"query-migrate-capabilities\"}");
    caps = json_object_get(rsp, "return");
    assert_int_equal(json_array_size(caps), 21);
    for (i = 0; i < json_array_size(caps); i++) {
        json_t *c = json_array_get(caps, i);
        const char *name = json_string_value(json_object_get(c, "capability"));
        bool want =
            strcmp(name, "events") == 0 || strcmp(name, "auto-converge") == 0;

        assert_int_equal(json_is_true(json_object_get(c, "state")), want);
    }
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate-set-parameters\", "
              "\"arguments\": {\"max-bandwidth\": 104857600, "
              "\"downtime-limit\": 2000}}");
    json_decref(rsp);
    assert_int_equal(fq_model_params(vm.model)->max_bandwidth, 104857600);
    assert_int_equal(fq_model_params(vm.model)->downtime_limit, 2000);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate\", \"arguments\": "
              "{\"uri\": \"unix:/tmp/x\"}, \"id\": 9}");
    assert_int_equal(json_integer_value(json_object_get(rsp, "id")), 9);
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate-set-capabilities\", "
              "\"arguments\": {\"capabilities\": []}}");
    assert_string_equal(error_desc(rsp),
                        "There's a migration process in progress");
    json_decref(rsp);
    fq_model_advance(vm.model, 0.3);
    rsp = run(&vm, &s, "{\"execute\": \"query-migrate\"}");
    ret = json_object_get(rsp, "return");
    assert_string_equal(json_string_value(json_object_get(ret, "status")),
                        "active");
    assert_int_equal(json_integer_value(json_object_get(ret, "total-time")),
                     300);
    assert_int_equal(
        json_integer_value(json_object_get(ret, "expected-downtime")), 2000);
    json_decref(rsp);
    fq_model_advance(vm.model, 5);
    rsp = run(&vm, &s, "{\"execute\": \"query-migrate\"}");
    ret = json_object_get(rsp, "return");
    assert_string_equal(json_string_value(json_object_get(ret, "status")),
                        "completed");
    assert_non_null(json_object_get(ret, "downtime"));
    json_decref(rsp);
    rsp = run(&vm, &s, "{\"execute\": \"query-status\"}");
    ret = json_object_get(rsp, "return");
    assert_string_equal(json_string_value(json_object_get(ret, "status")),
                        "postmigrate");
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"migrate\", \"arguments\": "
              "{\"uri\": \"unix:/tmp/x\"}}");
    assert_string_equal(error_desc(rsp), "Can't migrate the vm that was "
                                         "paused due to previous migration");
    json_decref(rsp);
    assert_false(vm.quit);
    rsp = run(&vm, &s, "{\"execute\": \"quit\"}");
    assert_true(vm.quit);
    json_decref(rsp);
    fq_vm_fini(&vm);
}

static void
test_requests_and_negotiation(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    json_t *rsp;

    (void)unused;
    init_vm(&vm, "7.2.22");
    rsp = run(&vm, &s, "{\"execute\": \"nope\"}");
    assert_string_equal(error_desc(rsp), "Expecting capabilities negotiation "
                                         "with 'qmp_capabilities'");
    json_decref(rsp);
    rsp = run(&vm, &s, "[1]");
    assert_string_equal(error_desc(rsp), "QMP input must be a JSON object");
    assert_null(json_object_get(rsp, "id"));
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"qmp_capabilities\", \"arguments\": "
              "{\"enable\": [\"x\"]}}");
    assert_string_equal(error_desc(rsp),
                        "Parameter 'null' does not accept value 'x'");
    json_decref(rsp);
    rsp = run(&vm, &s, "{\"exec-oob\": \"qmp_capabilities\"}");
    assert_string_equal(error_desc(rsp),
                        "QMP input member 'exec-oob' is unexpected");
    json_decref(rsp);
    json_decref(run(&vm, &s,
                    "{\"execute\": \"qmp_capabilities\", "
                    "\"arguments\": {\"enable\": [\"oob\"]}}"));
    assert_true(s.oob);
    assert_true(s.negotiated);
    rsp = run(&vm, &s, "{\"execute\": \"query-commands\"}");
    /* 17, calc-dirty-rate, query-dirty-rate, and 7 of commands_levers.c */
    assert_int_equal(json_array_size(json_object_get(rsp, "return")), 26);
    json_decref(rsp);
    rsp = run(&vm, &s,
              "{\"execute\": \"query-status\", \"exec-oob\": "
              "\"stop\"}");
    assert_string_equal(error_desc(rsp), "QMP input member 'execute' and "
                                         "'exec-oob' are mutually "
                                         "exclusive");
    json_decref(rsp);
    fq_vm_fini(&vm);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcript_72),
        cmocka_unit_test(test_version_91),
        cmocka_unit_test(test_migration_flow),
        cmocka_unit_test(test_requests_and_negotiation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
