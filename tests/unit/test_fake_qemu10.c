/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu --version 10.0.2 against a real QEMU 10.0.2. */
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
 * Recorded from qemu-system-x86_64 10.0.2 (Debian
 * 1:10.0.2+ds-2+deb13u1~bpo12+1, bookworm-backports, as
 * scripts/install-deps unpacks it), no migration destination: each
 * request and the line QEMU answered (CRLF removed).  The fake must print
 * the same bytes.
 */
static const char greeting_10[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \""
    "major\": 10}, \"package\": \"Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"
    "\"}, \"capabilities\": [\"oob\"]}}";

static const struct exchange10 {
    const char *request;
    const char *reply;
} transcript_10[] = {
    {
        "{\"execute\": \"qmp_capabilities\"}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"query-migrate\"}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"query-migrate-capabilities\"}",
        "{\"return\": [{\"state\": false, \"capability\": \"xbzrle\"}, {\"s"
        "tate\": false, \"capability\": \"rdma-pin-all\"}, {\"state\": fals"
        "e, \"capability\": \"auto-converge\"}, {\"state\": false, \"capabi"
        "lity\": \"zero-blocks\"}, {\"state\": false, \"capability\": \"eve"
        "nts\"}, {\"state\": false, \"capability\": \"postcopy-ram\"}, {\"s"
        "tate\": false, \"capability\": \"x-colo\"}, {\"state\": false, \"c"
        "apability\": \"release-ram\"}, {\"state\": false, \"capability\": "
        "\"return-path\"}, {\"state\": false, \"capability\": \"pause-befor"
        "e-switchover\"}, {\"state\": false, \"capability\": \"multifd\"}, "
        "{\"state\": false, \"capability\": \"dirty-bitmaps\"}, {\"state\":"
        " false, \"capability\": \"postcopy-blocktime\"}, {\"state\": false"
        ", \"capability\": \"late-block-activate\"}, {\"state\": false, \"c"
        "apability\": \"x-ignore-shared\"}, {\"state\": false, \"capability"
        "\": \"validate-uuid\"}, {\"state\": false, \"capability\": \"backg"
        "round-snapshot\"}, {\"state\": false, \"capability\": \"zero-copy-"
        "send\"}, {\"state\": false, \"capability\": \"postcopy-preempt\"},"
        " {\"state\": false, \"capability\": \"switchover-ack\"}, {\"state"
        "\": false, \"capability\": \"dirty-limit\"}, {\"state\": false, \""
        "capability\": \"mapped-ram\"}]}",
    },
    {
        "{\"execute\": \"query-migrate-parameters\"}",
        "{\"return\": {\"cpu-throttle-tailslow\": false, \"xbzrle-cache-siz"
        "e\": 67108864, \"cpu-throttle-initial\": 20, \"announce-max\": 550"
        ", \"direct-io\": false, \"avail-switchover-bandwidth\": 0, \"zero-"
        "page-detection\": \"multifd\", \"multifd-qatzip-level\": 1, \"mult"
        "ifd-channels\": 2, \"mode\": \"normal\", \"multifd-zstd-level\": 1"
        ", \"announce-initial\": 50, \"downtime-limit\": 300, \"tls-authz\""
        ": \"\", \"vcpu-dirty-limit\": 1, \"multifd-compression\": \"none\""
        ", \"announce-rounds\": 5, \"announce-step\": 100, \"tls-creds\": "
        "\"\", \"x-vcpu-dirty-limit-period\": 1000, \"multifd-zlib-level\":"
        " 1, \"max-cpu-throttle\": 99, \"max-postcopy-bandwidth\": 0, \"tls"
        "-hostname\": \"\", \"throttle-trigger-threshold\": 50, \"max-bandw"
        "idth\": 134217728, \"x-checkpoint-delay\": 20000, \"cpu-throttle-i"
        "ncrement\": 10}}",
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capa"
        "bilities\": [{\"capability\": \"events\", \"state\": true}]}}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capa"
        "bilities\": [{\"capability\": \"block\", \"state\": true}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'c"
        "apability' does not accept value 'block'\"}}",
    },
    {
        "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capa"
        "bilities\": [{\"capability\": \"compress\", \"state\": true}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'c"
        "apability' does not accept value 'compress'\"}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"compre"
        "ss-level\": 1}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'c"
        "ompress-level' is unexpected\"}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"block-"
        "incremental\": true}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'b"
        "lock-incremental' is unexpected\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0."
        "1:1\", \"blk\": true}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'b"
        "lk' is unexpected\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0."
        "1:1\", \"inc\": true}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'i"
        "nc' is unexpected\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"need either "
        "'uri' or 'channels' argument\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"tcp:127.0.0."
        "1:1\", \"channels\": [{\"channel-type\": \"main\", \"addr\": {\"tr"
        "ansport\": \"socket\", \"type\": \"inet\", \"host\": \"127.0.0.1\""
        ", \"port\": \"1\"}}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"need either "
        "'uri' or 'channels' argument\"}}",
    },
    {
        "{\"execute\": \"query-status\"}",
        "{\"return\": {\"status\": \"running\", \"running\": true}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": [{\"chann"
        "el-type\": \"main\", \"addr\": {\"transport\": \"socket\", \"type"
        "\": \"unix\", \"path\": \"/tmp/x\"}}, {\"channel-type\": \"main\","
        " \"addr\": {\"transport\": \"socket\", \"type\": \"unix\", \"path"
        "\": \"/tmp/y\"}}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Channel list"
        " has more than one main entry\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": []}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"need either "
        "'uri' or 'channels' argument\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": [{\"chann"
        "el-type\": \"main\", \"addr\": {\"transport\": \"socket\", \"type"
        "\": \"bogus\", \"path\": \"/tmp/x\"}}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 't"
        "ype' does not accept value 'bogus'\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": [{\"chann"
        "el-type\": \"main\", \"addr\": {\"transport\": \"socket\", \"type"
        "\": \"unix\"}}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'c"
        "hannels[0].addr.path' is missing\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": [{\"chann"
        "el-type\": \"main\"}]}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'c"
        "hannels[0].addr' is missing\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"channels\": \"x\"}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid para"
        "meter type for 'channels', expected: array\"}}",
    },
    {
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"bogus:x\"}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"unknown migr"
        "ation protocol: bogus:x\"}}",
    },
    {
        "{\"execute\": \"query-migrate\"}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multif"
        "d-qatzip-level\": 0}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'm"
        "ultifd_qatzip_level' expects a value between 1 and 9\"}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multif"
        "d-qatzip-level\": 9}}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"mode\""
        ": \"cpr-transfer\"}}",
        "{\"return\": {}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"mode\""
        ": \"cpr-exec\"}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'm"
        "ode' does not accept value 'cpr-exec'\"}}",
    },
    {
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"multif"
        "d-compression\": \"qatzip\"}}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'm"
        "ultifd-compression' does not accept value 'qatzip'\"}}",
    },
    {
        "{\"execute\": \"query-migrate-parameters\"}",
        "{\"return\": {\"cpu-throttle-tailslow\": false, \"xbzrle-cache-siz"
        "e\": 67108864, \"cpu-throttle-initial\": 20, \"announce-max\": 550"
        ", \"direct-io\": false, \"avail-switchover-bandwidth\": 0, \"zero-"
        "page-detection\": \"multifd\", \"multifd-qatzip-level\": 9, \"mult"
        "ifd-channels\": 2, \"mode\": \"cpr-transfer\", \"multifd-zstd-leve"
        "l\": 1, \"announce-initial\": 50, \"downtime-limit\": 300, \"tls-a"
        "uthz\": \"\", \"vcpu-dirty-limit\": 1, \"multifd-compression\": \""
        "none\", \"announce-rounds\": 5, \"announce-step\": 100, \"tls-cred"
        "s\": \"\", \"x-vcpu-dirty-limit-period\": 1000, \"multifd-zlib-lev"
        "el\": 1, \"max-cpu-throttle\": 99, \"max-postcopy-bandwidth\": 0, "
        "\"tls-hostname\": \"\", \"throttle-trigger-threshold\": 50, \"max-"
        "bandwidth\": 134217728, \"x-checkpoint-delay\": 20000, \"cpu-throt"
        "tle-increment\": 10}}",
    },
};

static void
init_vm(struct fq_vm *vm, const char *version)
{
    struct fq_model_config cfg;
    struct fq_version v;
    struct fq_error err;

    fq_model_config_init(&cfg);
    assert_int_equal(fq_version_parse(version, &v, &err), 0);
    snprintf(v.package, sizeof(v.package), "%s",
             "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1");
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

static void
test_transcript_10(void **unused)
{
    struct fq_session s = {0};
    struct fq_vm vm;
    char *g;
    size_t i;

    (void)unused;
    init_vm(&vm, "10.0.2");
    g = dump(fq_monitor_greeting(&vm));
    assert_string_equal(g, greeting_10);
    free(g);
    for (i = 0; i < sizeof(transcript_10) / sizeof(transcript_10[0]); i++) {
        json_error_t jerr;
        json_t *req = json_loads(transcript_10[i].request, 0, &jerr);
        char *got;

        assert_non_null(req);
        got = dump(fq_monitor_request(&vm, &s, req));
        json_decref(req);
        if (strcmp(got, transcript_10[i].reply) != 0) {
            fail_msg("%s\n fake: %s\n qemu: %s", transcript_10[i].request, got,
                     transcript_10[i].reply);
        }
        free(got);
    }
    fq_vm_fini(&vm);
}

/*
 * Appends the model's events to seq: MIGRATION's status, STOP, and PASS
 * once for a run of passes.
 */
static void
take_events(struct fq_model *m, char *seq, size_t size)
{
    struct fq_event ev;

    while (fq_model_next_event(m, &ev)) {
        const char *word = NULL;
        size_t len = strlen(seq);

        if (ev.type == FQ_EVENT_MIGRATION) {
            word = fq_status_name(ev.status);
        } else if (ev.type == FQ_EVENT_STOP) {
            word = "STOP";
        } else if (ev.type == FQ_EVENT_MIGRATION_PASS) {
            if (len >= 4 && strcmp(seq + len - 4, "PASS") == 0) {
                continue;
            }
            word = "PASS";
        }
        if (word != NULL) {
            snprintf(seq + len, size - len, "%s%s", len > 0 ? " " : "", word);
        }
    }
}

/*
 * The events of a 64 MiB working set at 100 MiB/s, run to the end either
 * with a downtime limit that fits or with post-copy requested after 1 s.
 */
static void
run_events(bool device_switchover, bool postcopy, char *seq, size_t size)
{
    struct fq_model_config cfg;
    struct fq_caps caps = {.events = true, .postcopy_ram = postcopy};
    struct fq_migrate_args a = {0};
    struct fq_error err;
    struct fq_params p;
    struct fq_model *m;
    int i;

    fq_model_config_init(&cfg);
    cfg.ram_bytes = 512ull << 20;
    cfg.device_switchover = device_switchover;
    m = fq_model_new(&cfg, &err);
    assert_non_null(m);
    p = *fq_model_params(m);
    p.max_bandwidth = 100ull << 20;
    p.downtime_limit = postcopy ? 300 : 2000;
    fq_model_set_params(m, &p);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    assert_int_equal(fq_model_migrate(m, &a, &err), 0);
    seq[0] = '\0';
    for (i = 0; i < 3000 && fq_model_status(m) != FQ_STATUS_COMPLETED; i++) {
        fq_model_advance(m, 0.01);
        if (postcopy && i == 100) {
            assert_int_equal(fq_model_start_postcopy(m, &err), 0);
        }
        take_events(m, seq, size);
    }
    fq_model_free(m);
}

/*
 * The orders recorded from QEMU 10.0.2 and 7.2.22 (docs/fake-qemu.md):
 * 10.0 switches over in 'device' after the STOP, pre-copy and post-copy
 * alike; 7.2 has no 'device' there and says 'postcopy-active' first.
 */
static void
test_switchover_events(void **unused)
{
    char seq[512];

    (void)unused;
    run_events(true, false, seq, sizeof(seq));
    assert_string_equal(seq, "setup PASS active PASS STOP device PASS "
                             "completed");
    run_events(false, false, seq, sizeof(seq));
    assert_string_equal(seq, "setup PASS active PASS STOP PASS completed");
    run_events(true, true, seq, sizeof(seq));
    assert_string_equal(seq, "setup PASS active STOP device PASS "
                             "postcopy-active completed");
    run_events(false, true, seq, sizeof(seq));
    assert_string_equal(seq, "setup PASS active postcopy-active STOP PASS "
                             "completed");
}

/* The switchover of a VM the server runs as version v: 'device' or not. */
static bool
vm_switches_over_in_device(const char *version)
{
    struct fq_model_config cfg;
    struct fq_session s = {0};
    struct fq_version v;
    struct fq_error err;
    struct fq_vm vm;
    json_error_t jerr;
    json_t *req;
    char seq[512] = "";
    int i;

    fq_model_config_init(&cfg);
    cfg.ram_bytes = 64ull << 20;
    cfg.working_set_bytes = 0;
    assert_int_equal(fq_version_parse(version, &v, &err), 0);
    assert_int_equal(fq_vm_init(&vm, "vm", &cfg, &v, &err), 0);
    req = json_loads("{\"execute\": \"qmp_capabilities\"}", 0, &jerr);
    json_decref(fq_monitor_request(&vm, &s, req));
    json_decref(req);
    req = json_loads("{\"execute\": \"migrate\", \"arguments\": "
                     "{\"uri\": \"tcp:127.0.0.1:4444\"}}",
                     0, &jerr);
    json_decref(fq_monitor_request(&vm, &s, req));
    json_decref(req);
    for (i = 0; i < 500 && fq_model_status(vm.model) != FQ_STATUS_COMPLETED;
         i++) {
        fq_model_advance(vm.model, 0.01);
        take_events(vm.model, seq, sizeof(seq));
    }
    assert_int_equal(fq_model_status(vm.model), FQ_STATUS_COMPLETED);
    fq_vm_fini(&vm);
    return strstr(seq, "device") != NULL;
}

/* fake-qemu --version picks it: 10.0 and later, not 9.2 or 7.2. */
static void
test_version_picks_switchover(void **unused)
{
    (void)unused;
    assert_true(vm_switches_over_in_device("10.0.2"));
    assert_true(vm_switches_over_in_device("10.1.0"));
    assert_false(vm_switches_over_in_device("9.2.0"));
    assert_false(vm_switches_over_in_device("7.2.22"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcript_10),
        cmocka_unit_test(test_switchover_events),
        cmocka_unit_test(test_version_picks_switchover),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
