/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's options, scenario files and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/fake-qemu/fake.h"

static void
test_units(void **unused)
{
    uint64_t size;
    double x;

    (void)unused;
    assert_int_equal(fq_parse_size("4096", &size), 0);
    assert_int_equal(size, 4096);
    assert_int_equal(fq_parse_size("64M", &size), 0);
    assert_int_equal(size, 64ull << 20);
    assert_int_equal(fq_parse_size("1.5G", &size), 0);
    assert_int_equal(size, 3ull << 29);
    assert_int_equal(fq_parse_size("16GiB", &size), 0);
    assert_int_equal(size, 16ull << 30);
    assert_int_equal(fq_parse_size("2t", &size), 0);
    assert_int_equal(size, 2ull << 40);
    assert_int_equal(fq_parse_size("-1", &size), -1);
    assert_int_equal(fq_parse_size("1X", &size), -1);
    assert_int_equal(fq_parse_size("", &size), -1);
    assert_int_equal(fq_parse_size("M", &size), -1);

    assert_int_equal(fq_parse_rate("10gbit", &x), 0);
    assert_true(x == 1.25e9);
    assert_int_equal(fq_parse_rate("100M", &x), 0);
    assert_true(x == 104857600);
    assert_int_equal(fq_parse_rate("100M/s", &x), 0);
    assert_true(x == 104857600);
    assert_int_equal(fq_parse_rate("393000", &x), 0);
    assert_true(x == 393000);
    assert_int_equal(fq_parse_rate("800mbit", &x), 0);
    assert_true(x == 1e8);
    assert_int_equal(fq_parse_rate("fast", &x), -1);

    assert_int_equal(fq_parse_duration("500ms", &x), 0);
    assert_true(x == 0.5);
    assert_int_equal(fq_parse_duration("3", &x), 0);
    assert_true(x == 3);
    assert_int_equal(fq_parse_duration("1.5m", &x), 0);
    assert_true(x == 90);
    assert_int_equal(fq_parse_duration("2h", &x), 0);
    assert_true(x == 7200);
    assert_int_equal(fq_parse_duration("2 days", &x), -1);
    assert_int_equal(fq_parse_duration("nan", &x), -1);
}

static int
parse(struct fq_scenario *sc, struct fq_error *err, ...)
{
    char *argv[32] = {"fake-qemu"};
    int argc = 1;
    va_list ap;
    char *a;

    va_start(ap, err);
    while ((a = va_arg(ap, char *)) != NULL && argc < 31) {
        argv[argc++] = a;
    }
    va_end(ap);
    fq_scenario_init(sc);
    if (fq_scenario_parse_args(sc, argc, argv, err) < 0) {
        return -1;
    }
    return fq_scenario_finish(sc, err);
}

static void
test_options(void **unused)
{
    struct fq_scenario sc;
    struct fq_error err;

    (void)unused;
    assert_int_equal(parse(&sc, &err, "--qmp", "unix:/tmp/a.sock", "--ram",
                           "16G", "--working-set=1G", "--dirty-rate", "250000",
                           "--zero-share", "0.1", "--time-scale", "60",
                           "--disk", "20G", "--version", "9.1.0", "--link",
                           "10gbit", "--fault", "at=5s hangup", "--fault",
                           "on=migrate die", "--zero-pages", "mixed",
                           "--switchover-time", "20ms", NULL),
                     0);
    assert_int_equal(sc.model.ram_bytes, 16ull << 30);
    assert_int_equal(sc.model.working_set_bytes, 1ull << 30);
    assert_true(sc.model.dirty_rate == 250000);
    assert_true(sc.model.zero_share == 0.1);
    assert_false(sc.model.zero_pages_last);
    assert_true(sc.model.switchover_ms == 20);
    assert_true(sc.time_scale == 60);
    assert_int_equal(sc.model.disk_bytes, 20ull << 30);
    assert_true(sc.model.link_bandwidth == 1.25e9);
    assert_int_equal(sc.version.major, 9);
    assert_int_equal(sc.version.minor, 1);
    assert_int_equal(sc.n_faults, 2);
    assert_int_equal(sc.faults[1].action, FQ_ACT_DIE);
    assert_int_equal(sc.n_vms, 1);
    assert_string_equal(sc.vms[0].name, "vm");
    assert_string_equal(sc.vms[0].addr, "unix:/tmp/a.sock");
    fq_scenario_fini(&sc);

    assert_int_equal(parse(&sc, &err, "--count", "3", "--qmp-dir", "/tmp/d",
                           "--vm", "web:tcp:127.0.0.1:0", NULL),
                     0);
    assert_int_equal(sc.n_vms, 4);
    assert_string_equal(sc.vms[0].name, "web");
    assert_string_equal(sc.vms[0].addr, "tcp:127.0.0.1:0");
    assert_string_equal(sc.vms[1].name, "vm1");
    assert_string_equal(sc.vms[3].addr, "unix:/tmp/d/vm3.sock");
    fq_scenario_fini(&sc);

    assert_int_equal(parse(&sc, &err, "--help", NULL), -1);
    assert_true(sc.help);
    fq_scenario_fini(&sc);
    assert_non_null(strstr(fq_usage, "hangup-mid-message"));
}

static void
test_option_errors(void **unused)
{
    static const struct {
        const char *a;
        const char *b;
        const char *message;
    } rows[] = {
        {"--ram", "lots", "--ram: 'lots' is not a size (like 4G, 512M)"},
        {"--dirty-rate", "x", "--dirty-rate: 'x' is not a rate"},
        {"--zero-share", "2",
         "--zero-share: '2' is not a share between 0 "
         "and 1"},
        {"--zero-pages", "top",
         "--zero-pages: 'top' is not 'last' or "
         "'mixed'"},
        {"--time-scale", "0", "--time-scale: '0' is not a positive number"},
        {"--version", "7.1.0", "--version: '7.1.0' is not a QEMU version"},
        {"--version", "seven", "--version: 'seven' is not a QEMU version"},
        {"--count", "0", "--count: '0' is not a count from 1 to 100000"},
        {"--vm", "nocolon", "--vm: 'nocolon' is not NAME:ADDRESS"},
        {"--vm", "a b:unix:/x", "'a b' is not a VM name"},
        {"--colour", "red", "unknown option 'colour'"},
        {"ram", "1G", "unexpected argument 'ram'"},
        {"--fault", "at=1s boom", "fault 'at=1s boom': unknown action"},
        {"--tick", "5s", "--tick: '5s' is not a duration from 1ms to 1s"},
        {"--scenario", "/nonexistent/x.ini",
         "/nonexistent/x.ini: No such "
         "file or directory"},
        {"--qmp", NULL, "option --qmp needs a value"},
    };
    struct fq_scenario sc;
    struct fq_error err;
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(parse(&sc, &err, rows[i].a, rows[i].b, NULL), -1);
        if (strstr(err.desc, rows[i].message) == NULL) {
            fail_msg("%s %s: '%s' lacks '%s'", rows[i].a,
                     rows[i].b ? rows[i].b : "", err.desc, rows[i].message);
        }
        fq_scenario_fini(&sc);
    }

    assert_int_equal(parse(&sc, &err, NULL), -1);
    assert_non_null(strstr(err.desc, "no monitor to serve"));
    fq_scenario_fini(&sc);
    assert_int_equal(parse(&sc, &err, "--count", "2", NULL), -1);
    assert_string_equal(err.desc, "--count and --qmp-dir go together");
    fq_scenario_fini(&sc);
    assert_int_equal(
        parse(&sc, &err, "--vm", "a:unix:/x", "--vm", "a:unix:/y", NULL), -1);
    assert_string_equal(err.desc, "VM 'a' is defined twice");
    fq_scenario_fini(&sc);
    assert_int_equal(
        parse(&sc, &err, "--vm", "a:unix:/x", "--vm", "b:unix:/x", NULL), -1);
    assert_string_equal(err.desc, "VMs 'a' and 'b' share the address unix:/x");
    fq_scenario_fini(&sc);
    assert_int_equal(parse(&sc, &err, "--qmp", "unix:/x", "--ram", "1G",
                           "--working-set", "2G", NULL),
                     -1);
    assert_string_equal(err.desc, "VM 'vm': working set is larger than RAM");
    fq_scenario_fini(&sc);
    assert_int_equal(parse(&sc, &err, "--qmp", "unix:/x", "--fault",
                           "vm=nobody at=1s die", NULL),
                     -1);
    assert_string_equal(err.desc,
                        "fault 'vm=nobody at=1s die': no VM named 'nobody'");
    fq_scenario_fini(&sc);
}

static char *
write_file(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/test_fake_scenario.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void
test_file(void **unused)
{
    static const char ini[] = "# two guests on one host\n"
                              "ram = 8G\n"
                              "working-set = 256M\n"
                              "  dirty-rate = 100000  \n"
                              "; faults for every VM\n"
                              "fault = on=query-migrate:3 late:1s\n"
                              "\n"
                              "[vm small]\n"
                              "qmp = unix:/tmp/small.sock\n"
                              "ram = 2G\n"
                              "fault = on=pass:2 fail-migration:gone\n"
                              "[vm big]\n"
                              "qmp = tcp:127.0.0.1:0\n"
                              "working-set = 4G\n";
    struct fq_model_config cfg;
    struct fq_scenario sc;
    struct fq_error err;
    char *path = write_file(ini);
    char opt[80];

    (void)unused;
    snprintf(opt, sizeof(opt), "--scenario=%s", path);
    /* later options win over the file's globals, and VMs see them */
    assert_int_equal(parse(&sc, &err, opt, "--dirty-rate", "5000", NULL), 0);
    assert_int_equal(sc.n_vms, 2);
    assert_int_equal(sc.n_faults, 2);
    assert_string_equal(sc.faults[0].vm, "");
    assert_string_equal(sc.faults[1].vm, "small");
    assert_int_equal(fq_scenario_vm_config(&sc, &sc.vms[0], &cfg, &err), 0);
    assert_int_equal(cfg.ram_bytes, 2ull << 30);
    assert_int_equal(cfg.working_set_bytes, 256ull << 20);
    assert_true(cfg.dirty_rate == 5000);
    assert_int_equal(fq_scenario_vm_config(&sc, &sc.vms[1], &cfg, &err), 0);
    assert_int_equal(cfg.ram_bytes, 8ull << 30);
    assert_int_equal(cfg.working_set_bytes, 4ull << 30);
    assert_string_equal(sc.vms[1].addr, "tcp:127.0.0.1:0");
    fq_scenario_fini(&sc);
    unlink(path);
}

static void
test_file_errors(void **unused)
{
    static const struct {
        const char *text;
        const char *message;
    } rows[] = {
        {"ram = 1G\nram\n", ":2: expected KEY = VALUE, not 'ram'"},
        {"[guest]\n", ":1: expected a section like [vm NAME], not "
                      "'[guest]'"},
        {"ram = big\n", ":1: --ram: 'big' is not a size"},
        {"[vm a]\ntime-scale = 2\n", ":2: 'time-scale' cannot be set per "
                                     "VM"},
        {"[vm a]\n[vm a]\n", ":2: VM 'a' is defined twice"},
        {"[vm a]\nram = 1G\n", "VM 'a' has no qmp address"},
        {"[vm a]\nqmp = unix:/x\nfault = at=1 boom\n",
         ":3: fault 'at=1 boom': unknown action 'boom'"},
        {"[vm a]\nqmp = unix:/x\nworking-set = 2G\n",
         "VM 'a': working set is larger than RAM"},
    };
    struct fq_scenario sc;
    struct fq_error err;
    size_t i;

    (void)unused;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *path = write_file(rows[i].text);
        char opt[80];

        snprintf(opt, sizeof(opt), "--scenario=%s", path);
        assert_int_equal(parse(&sc, &err, opt, NULL), -1);
        if (strstr(err.desc, rows[i].message) == NULL) {
            fail_msg("'%s': '%s' lacks '%s'", rows[i].text, err.desc,
                     rows[i].message);
        }
        fq_scenario_fini(&sc);
        unlink(path);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),         cmocka_unit_test(test_options),
        cmocka_unit_test(test_option_errors), cmocka_unit_test(test_file),
        cmocka_unit_test(test_file_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
