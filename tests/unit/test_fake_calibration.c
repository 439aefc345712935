/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calibration: the fake must agree with real QEMU 7.2 and 10.0 on what
 * converges. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/fake-qemu/model.h"

/*
 * Each row is one run of qemu-system-x86_64 7.2.22 (Debian 12) with the
 * test guest (tests/guest/dirty.S, -m 512) migrating to a second QEMU on
 * 127.0.0.1, recorded in docs/fake-qemu.md, next to the fake's numbers.
 * The guest rewrites its working set ws_mib at `rate` distinct pages/s,
 * measured during migration (KVM: 24 walks/s of 64 MiB = 393k pages/s;
 * TCG: 536 walks/s = 8.8M pages/s).  QEMU was watched for `window`
 * seconds.  What must never drift: whether the migration converged in
 * that window.  The other columns must stay within the stated slack.
 */
#define KVM_RATE 393000.0
#define TCG_RATE 8800000.0
#define MIB 1048576ull

/*
 * QEMU 10.0.2 (bookworm-backports) was measured on another host (2 cores
 * Intel Xeon, its KVM kvm_pvm, loaded by other work): the guest rewrote
 * 64 MiB 2-8 times a second under KVM (about 82 000 pages/s) and 24-150
 * times under TCG (about 1.5 M pages/s), and scanning 512 MiB of zero
 * pages took some 100 ms (about 5 GB/s).
 */
#define KVM10_RATE 82000.0
#define TCG10_RATE 1500000.0
#define ZERO10_SCAN 5e9

struct calib {
    const char *name;
    unsigned ws_mib;
    double rate;
    uint64_t bw; /* max-bandwidth, bytes/s */
    uint64_t dl; /* downtime-limit, ms */
    bool auto_converge;
    uint64_t disk_mib;      /* blk: true with a disk this big */
    uint64_t postcopy_pass; /* migrate-start-postcopy at this sync */
    double window;          /* seconds QEMU was watched */
    /* what QEMU reported */
    bool converged;
    int64_t total_ms;    /* converged: total-time */
    int64_t downtime_ms; /* converged: downtime */
    uint64_t syncs;      /* dirty-sync-count at the end of the window */
    int64_t expected_ms; /* not converged: steady expected-downtime */
    /* QEMU 10.0: switchover in 'device', the 10.0 host's zero scan; the
     * times of a converged run too noisy there to hold to the slack */
    bool v10;
};

static const struct calib runs[] = {
    /* name            ws  rate      bw            dl  ac  disk pc  win */
    {"64M dl300 kvm", 64, KVM_RATE, 100 * MIB, 300, false, 0, 0, 20, false, 0,
     0, 50, 639},
    {"64M dl2000 kvm", 64, KVM_RATE, 100 * MIB, 2000, false, 0, 0, 40, true,
     687, 41, 3, 0},
    {"idle kvm", 0, KVM_RATE, 100 * MIB, 300, false, 0, 0, 30, true, 34, 5, 2,
     0},
    {"hopeless kvm", 400, KVM_RATE, 20 * MIB, 300, false, 0, 0, 90, false, 0, 0,
     5, 19960},
    {"64M dl300 ac kvm", 64, KVM_RATE, 100 * MIB, 300, true, 0, 0, 60, true,
     22449, 11, 58, 0},
    {"64M blk kvm", 64, KVM_RATE, 100 * MIB, 2000, false, 256, 0, 30, true,
     3284, 52, 3, 0},
    {"64M postcopy kvm", 64, KVM_RATE, 100 * MIB, 300, false, 0, 3, 30, true,
     1202, 3, 4, 0},
    {"64M dl300 tcg", 64, TCG_RATE, 100 * MIB, 300, false, 0, 0, 20, false, 0,
     0, 50, 639},
    {"64M dl2000 tcg", 64, TCG_RATE, 100 * MIB, 2000, false, 0, 0, 40, true,
     686, 39, 3, 0},
    {"idle tcg", 0, TCG_RATE, 100 * MIB, 300, false, 0, 0, 30, true, 25, 2, 2,
     0},
    {"hopeless tcg", 400, TCG_RATE, 20 * MIB, 300, false, 0, 0, 90, false, 0, 0,
     5, 19960},
    {"64M dl300 ac tcg", 64, TCG_RATE, 100 * MIB, 300, true, 0, 0, 80, false, 0,
     0, 113, 639},
    /* QEMU 10.0.2 */
    {"64M dl300 kvm 10", 64, KVM10_RATE, 100 * MIB, 300, false, 0, 0, 20, false,
     0, 0, 53, 615, true},
    {"64M dl2000 kvm 10", 64, KVM10_RATE, 100 * MIB, 2000, false, 0, 0, 40,
     true, 918, 107, 3, 0, true},
    {"idle kvm 10", 0, KVM10_RATE, 100 * MIB, 300, false, 0, 0, 30, true, 301,
     3, 3, 0, true},
    {"hopeless kvm 10", 400, KVM10_RATE, 20 * MIB, 300, false, 0, 0, 90, false,
     0, 0, 5, 20360, true},
    {"64M dl300 ac kvm 10", 64, KVM10_RATE, 100 * MIB, 300, true, 0, 0, 60,
     true, 15947, 103, 40, 0, true},
    {"64M postcopy kvm 10", 64, KVM10_RATE, 100 * MIB, 300, false, 0, 3, 30,
     true, 1934, 3, 4, 0, true},
    {"64M dl300 tcg 10", 64, TCG10_RATE, 100 * MIB, 300, false, 0, 0, 20, false,
     0, 0, 47, 664, true},
    {"64M dl2000 tcg 10", 64, TCG10_RATE, 100 * MIB, 2000, false, 0, 0, 40,
     true, 869, 49, 4, 0, true},
    {"idle tcg 10", 0, TCG10_RATE, 100 * MIB, 300, false, 0, 0, 30, true, 128,
     7, 3, 0, true},
    {"hopeless tcg 10", 400, TCG10_RATE, 20 * MIB, 300, false, 0, 0, 90, false,
     0, 0, 5, 19960, true},
};

struct outcome {
    bool converged;
    int64_t total_ms;
    int64_t downtime_ms;
    uint64_t syncs;
    int64_t expected_ms;
};

static struct outcome
simulate(const struct calib *c)
{
    struct fq_model_config cfg;
    struct fq_migrate_args a = {.blk = c->disk_mib > 0};
    struct fq_caps caps = {.events = true};
    struct fq_migration_info info;
    struct fq_error err;
    struct fq_params p;
    struct fq_model *m;
    struct fq_event ev;
    struct outcome o = {0};

    /* the test guest and this host, as docs/fake-qemu.md derives them */
    fq_model_config_init(&cfg);
    cfg.ram_bytes = 512 * MIB;
    cfg.working_set_bytes = c->ws_mib * MIB;
    cfg.dirty_rate = c->rate;
    cfg.zero_share = 1.0 - (double)c->ws_mib / 512 - 0.0001;
    cfg.link_bandwidth = 2.5e9;
    cfg.disk_bytes = c->disk_mib * MIB;
    cfg.device_switchover = c->v10;
    if (c->v10) {
        cfg.zero_scan_rate = ZERO10_SCAN;
    }
    m = fq_model_new(&cfg, &err);
    assert_non_null(m);
    p = *fq_model_params(m);
    p.max_bandwidth = c->bw;
    p.downtime_limit = c->dl;
    fq_model_set_params(m, &p);
    caps.auto_converge = c->auto_converge;
    caps.postcopy_ram = c->postcopy_pass > 0;
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    assert_int_equal(fq_model_migrate(m, &a, &err), 0);
    while (fq_model_now(m) < c->window) {
        fq_model_advance(m, 0.01);
        while (fq_model_next_event(m, &ev)) {
            if (ev.type == FQ_EVENT_MIGRATION_PASS &&
                ev.pass == c->postcopy_pass) {
                assert_int_equal(fq_model_start_postcopy(m, &err), 0);
            }
        }
        if (fq_model_status(m) == FQ_STATUS_COMPLETED) {
            break;
        }
    }
    fq_model_query(m, &info);
    o.converged = info.status == FQ_STATUS_COMPLETED;
    o.total_ms = info.total_time;
    o.downtime_ms = info.downtime;
    o.syncs = info.ram.dirty_sync_count;
    o.expected_ms = info.expected_downtime;
    fq_model_free(m);
    return o;
}

static bool
near(int64_t fake, int64_t real, double share, int64_t slack)
{
    double allowed = fmax(fabs((double)real) * share, (double)slack);

    return fabs((double)(fake - real)) <= allowed;
}

/* The check `make check` must never lose: converges or not, as QEMU. */
static void
test_converges_as_qemu(void **unused)
{
    size_t i;
    int bad = 0;

    (void)unused;
    for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct outcome o = simulate(&runs[i]);

        if (o.converged != runs[i].converged) {
            print_error("%s: QEMU %s in %.0f s, the fake %s\n", runs[i].name,
                        runs[i].converged ? "converged" : "did not converge",
                        runs[i].window, o.converged ? "converged" : "did not");
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* How close: the slack docs/fake-qemu.md states. */
static void
test_numbers_close_to_qemu(void **unused)
{
    size_t i;
    int bad = 0;

    (void)unused;
    print_message("%-18s %12s %12s %10s %14s\n", "scenario", "total ms",
                  "downtime ms", "syncs", "expected ms");
    for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        const struct calib *r = &runs[i];
        struct outcome o = simulate(r);
        bool ok;

        print_message("%-18s %5lld/%-6lld %5lld/%-6lld %4llu/%-5llu "
                      "%6lld/%-6lld\n",
                      r->name, (long long)o.total_ms, (long long)r->total_ms,
                      (long long)o.downtime_ms, (long long)r->downtime_ms,
                      (unsigned long long)o.syncs, (unsigned long long)r->syncs,
                      (long long)o.expected_ms, (long long)r->expected_ms);
        if (r->converged && r->v10) {
            /* the 10.0 host's times swung by 2x from run to run */
            ok = near((int64_t)o.syncs, (int64_t)r->syncs, 0.10, 1);
        } else if (r->converged) {
            ok = near(o.total_ms, r->total_ms, 0.10, 15) &&
                 near(o.downtime_ms, r->downtime_ms, 0, 25) &&
                 near((int64_t)o.syncs, (int64_t)r->syncs, 0.10, 1);
        } else {
            /* QEMU's TCG throttling also slowed its sender: syncs 113 */
            /* 10.0's pass counts varied by 10 % between runs there */
            ok = near(o.expected_ms, r->expected_ms, 0.05, 10) &&
                 (r->auto_converge || near((int64_t)o.syncs, (int64_t)r->syncs,
                                           r->v10 ? 0.10 : 0.05, 1));
        }
        if (!ok) {
            print_error("%s: outside the documented slack\n", r->name);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/*
 * calc-dirty-rate under KVM, the test guest with -m 1024, not migrating
 * (docs/fake-qemu.md, "calc-dirty-rate"): each row is one QEMU, working
 * set, period and sample-pages, with what QEMU reported in successive
 * runs.  On QEMU 7.2.22 the guest walked 64 MiB 10.9 times a second and
 * 256 MiB 2.0 times (178k and 130k pages/s, on a loaded host); on QEMU
 * 10.0.2 (build/qemu/10.0), on another host, 18 and 3 times (295k and
 * 197k pages/s), and 10.0 measures in milliseconds too (calc-time-unit,
 * 8.2+): the 500 ms rows.
 */
static const struct dirty_calib {
    const char *qemu_version;
    unsigned ws_mib;
    double rate;    /* pages/s the guest wrote */
    int64_t ms;     /* calc-time */
    uint64_t pages; /* sample-pages per GiB */
    int n;
    int64_t qemu[3]; /* MiB/s */
} dirty_runs[] = {
    {"7.2", 0, 0, 1000, 512, 3, {0, 0, 0}},
    {"7.2", 0, 0, 2000, 512, 3, {0, 0, 0}},
    {"7.2", 0, 0, 1000, 16384, 2, {0, 0}},
    {"7.2", 64, 178000, 1000, 512, 3, {72, 52, 80}},
    {"7.2", 64, 178000, 2000, 512, 3, {34, 30, 39}},
    {"7.2", 64, 178000, 1000, 16384, 2, {64, 66}},
    {"7.2", 64, 178000, 2000, 16384, 2, {32, 33}},
    {"7.2", 256, 130000, 1000, 512, 3, {262, 276, 284}},
    {"7.2", 256, 130000, 2000, 512, 3, {125, 115, 126}},
    {"7.2", 256, 130000, 1000, 16384, 2, {258, 256}},
    {"7.2", 256, 130000, 2000, 16384, 2, {126, 129}},
    {"10.0", 0, 0, 500, 512, 3, {0, 0, 0}},
    {"10.0", 0, 0, 1000, 512, 3, {0, 0, 0}},
    {"10.0", 0, 0, 2000, 16384, 2, {0, 0}},
    {"10.0", 64, 295000, 500, 512, 3, {136, 135, 144}},
    {"10.0", 64, 295000, 500, 16384, 2, {129, 129}},
    {"10.0", 64, 295000, 1000, 512, 3, {50, 76, 64}},
    {"10.0", 64, 295000, 2000, 512, 3, {30, 35, 29}},
    {"10.0", 64, 295000, 1000, 16384, 2, {62, 64}},
    {"10.0", 64, 295000, 2000, 16384, 2, {30, 32}},
    {"10.0", 256, 197000, 500, 512, 3, {484, 516, 510}},
    {"10.0", 256, 197000, 500, 16384, 2, {518, 515}},
    {"10.0", 256, 197000, 1000, 512, 3, {264, 221, 268}},
    {"10.0", 256, 197000, 2000, 512, 3, {135, 117, 112}},
    {"10.0", 256, 197000, 1000, 16384, 2, {253, 260}},
    {"10.0", 256, 197000, 2000, 16384, 2, {127, 128}},
};

/*
 * The fake's page-sampling against QEMU's: every QEMU value and every
 * fake value (seeds 1..3) within 4 standard deviations of the binomial
 * count the working set gives, in MiB/s.
 */
static void
test_dirty_rate_as_qemu(void **unused)
{
    size_t i;
    int j, bad = 0;

    (void)unused;
    print_message("%-5s %-6s %6s %6s  %-16s %-16s\n", "QEMU", "WS MiB", "ms",
                  "pages", "QEMU MiB/s", "fake MiB/s");
    for (i = 0; i < sizeof(dirty_runs) / sizeof(dirty_runs[0]); i++) {
        const struct dirty_calib *r = &dirty_runs[i];
        double n = (double)r->pages; /* 1 GiB: per GiB is all */
        double p = fmin(1.0, (double)r->ws_mib / 1024.0 *
                                 fmax(1.0, 1000.0 / (double)r->ms));
        double expect = (double)r->ws_mib * 1000.0 / (double)r->ms;
        double sd = sqrt(n * p * (1 - p)) / n * 1024.0 * 1000.0 / (double)r->ms;
        char q[32] = "", f[32] = "";
        size_t used = 0;

        for (j = 0; j < r->n; j++) {
            used += (size_t)snprintf(q + used, sizeof(q) - used, "%s%lld",
                                     j ? " " : "", (long long)r->qemu[j]);
            bad += fabs((double)r->qemu[j] - expect) > 4 * sd + 1;
        }
        used = 0;
        for (j = 1; j <= 3; j++) {
            struct fq_model_config c;
            struct fq_dirty_args a = {.calc_time_ms = r->ms,
                                      .has_sample_pages = true,
                                      .sample_pages = r->pages};
            struct fq_dirty_info info;
            struct fq_error err;
            struct fq_model *m;

            fq_model_config_init(&c);
            c.ram_bytes = 1ull << 30;
            c.working_set_bytes = (uint64_t)r->ws_mib << 20;
            c.dirty_rate = r->rate;
            c.seed = (uint64_t)j;
            m = fq_model_new(&c, &err);
            assert_non_null(m);
            assert_int_equal(fq_model_calc_dirty_rate(m, &a, &err), 0);
            fq_model_advance(m, (double)r->ms / 1000.0 + 0.2);
            fq_model_query_dirty_rate(m, &info);
            assert_int_equal(info.status, FQ_DIRTY_MEASURED);
            used +=
                (size_t)snprintf(f + used, sizeof(f) - used, "%s%lld",
                                 j > 1 ? " " : "", (long long)info.dirty_rate);
            bad += fabs((double)info.dirty_rate - expect) > 4 * sd + 1;
            fq_model_free(m);
        }
        print_message("%-5s %-6u %6lld %6llu  %-16s %-16s\n", r->qemu_version,
                      r->ws_mib, (long long)r->ms, (unsigned long long)r->pages,
                      q, f);
    }
    assert_int_equal(bad, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converges_as_qemu),
        cmocka_unit_test(test_numbers_close_to_qemu),
        cmocka_unit_test(test_dirty_rate_as_qemu),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
