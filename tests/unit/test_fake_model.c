/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: fake-qemu's pre-copy model, phase by phase. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/fake-qemu/model.h"

#define MIB (1024.0 * 1024.0)
#define MAX_EVENTS 8192

struct events {
    struct fq_event ev[MAX_EVENTS];
    size_t n;
};

/* The test guest of docs/fake-qemu.md: 512 MiB, WS at 393k pages/s. */
static void
guest_config(struct fq_model_config *c, unsigned ws_mib, double rate)
{
    fq_model_config_init(c);
    c->ram_bytes = 512ull << 20;
    c->working_set_bytes = (uint64_t)ws_mib << 20;
    c->dirty_rate = rate;
    c->zero_share = 1.0 - (double)c->working_set_bytes / 536870912.0 - 0.0001;
    c->link_bandwidth = 2.5e9;
}

static struct fq_model *
new_model(const struct fq_model_config *c, uint64_t bw, uint64_t dl)
{
    struct fq_error err;
    struct fq_model *m = fq_model_new(c, &err);
    struct fq_params p;

    assert_non_null(m);
    p = *fq_model_params(m);
    p.max_bandwidth = bw;
    p.downtime_limit = dl;
    fq_model_set_params(m, &p);
    return m;
}

static struct fq_model *
guest(unsigned ws_mib, uint64_t bw, uint64_t dl)
{
    struct fq_model_config c;

    guest_config(&c, ws_mib, 393000);
    return new_model(&c, bw, dl);
}

static void
start(struct fq_model *m)
{
    struct fq_migrate_args a = {0};
    struct fq_error err;

    assert_int_equal(fq_model_migrate(m, &a, &err), 0);
}

static void
drain(struct fq_model *m, struct events *e)
{
    struct fq_event ev;

    while (fq_model_next_event(m, &ev)) {
        if (e != NULL && e->n < MAX_EVENTS) {
            e->ev[e->n++] = ev;
        }
    }
}

/* Advances in steps of dt until status or the time limit; returns time. */
static double
run_until(struct fq_model *m, enum fq_status status, double limit, double dt,
          struct events *e)
{
    while (fq_model_now(m) < limit - 1e-9) {
        fq_model_advance(m, dt);
        drain(m, e);
        if (fq_model_status(m) == status) {
            break;
        }
    }
    return fq_model_now(m);
}

static struct fq_migration_info
query(const struct fq_model *m)
{
    struct fq_migration_info info;

    fq_model_query(m, &info);
    return info;
}

static size_t
count_type(const struct events *e, enum fq_event_type t)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < e->n; i++) {
        n += e->ev[i].type == t;
    }
    return n;
}

/* The events' types and statuses as one string, e.g. "setup P1 active". */
static void
event_string(const struct events *e, char *buf, size_t len, bool passes)
{
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < e->n; i++) {
        char one[40];

        switch (e->ev[i].type) {
        case FQ_EVENT_MIGRATION:
            snprintf(one, sizeof(one), "%s ", fq_status_name(e->ev[i].status));
            break;
        case FQ_EVENT_MIGRATION_PASS:
            if (!passes) {
                continue;
            }
            snprintf(one, sizeof(one), "P%llu ",
                     (unsigned long long)e->ev[i].pass);
            break;
        case FQ_EVENT_STOP:
            snprintf(one, sizeof(one), "STOP ");
            break;
        case FQ_EVENT_RESUME:
            snprintf(one, sizeof(one), "RESUME ");
            break;
        }
        strncat(buf, one, len - strlen(buf) - 1);
    }
    if (strlen(buf) > 0) {
        buf[strlen(buf) - 1] = '\0';
    }
}

static void
test_config_check(void **unused)
{
    static const struct {
        const char *field;
        const char *words;
    } rows[] = {
        {"page", "page size"},      {"ws", "working set is larger than RAM"},
        {"zero", "zero share"},     {"fit", "does not fit"},
        {"link", "link bandwidth"}, {"rate", "dirty rate"},
        {"scan", "scan rate"},      {"setup", "0 ms or more"},
    };
    struct fq_model_config c;
    struct fq_error err;
    size_t i;

    (void)unused;
    fq_model_config_init(&c);
    assert_int_equal(fq_model_config_check(&c, &err), 0);
    assert_int_equal(c.ram_bytes, 1ull << 30);
    assert_int_equal(c.page_size, 4096);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        fq_model_config_init(&c);
        if (strcmp(rows[i].field, "page") == 0) {
            c.page_size = 3000;
        } else if (strcmp(rows[i].field, "ws") == 0) {
            c.working_set_bytes = 2ull << 30;
        } else if (strcmp(rows[i].field, "zero") == 0) {
            c.zero_share = 1.5;
        } else if (strcmp(rows[i].field, "fit") == 0) {
            c.zero_share = 0.99;
        } else if (strcmp(rows[i].field, "link") == 0) {
            c.link_bandwidth = 0;
        } else if (strcmp(rows[i].field, "rate") == 0) {
            c.dirty_rate = -1;
        } else if (strcmp(rows[i].field, "scan") == 0) {
            c.zero_scan_rate = NAN;
        } else {
            c.setup_ms = -2;
        }
        assert_int_equal(fq_model_config_check(&c, &err), -1);
        assert_non_null(strstr(err.desc, rows[i].words));
        assert_string_equal(err.cls, "GenericError");
        assert_null(fq_model_new(&c, &err));
    }
}

static void
test_params_defaults(void **unused)
{
    struct fq_params p;

    (void)unused;
    fq_params_init(&p);
    assert_int_equal(p.downtime_limit, 300);
    assert_int_equal(p.max_bandwidth, 134217728);
    assert_int_equal(p.cpu_throttle_initial, 20);
    assert_int_equal(p.cpu_throttle_increment, 10);
    assert_int_equal(p.max_cpu_throttle, 99);
    assert_int_equal(p.throttle_trigger_threshold, 50);
    assert_false(p.cpu_throttle_tailslow);
}

static void
test_idle_guest(void **unused)
{
    struct events *e = calloc(1, sizeof(*e));
    struct fq_model *m = guest(0, 104857600, 300);
    struct fq_migration_info info;
    char s[256];

    (void)unused;
    assert_int_equal(fq_model_status(m), FQ_STATUS_NONE);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_NONE);
    assert_false(info.has_ram);
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 1, 0.001, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    /* QEMU: total 34 ms, downtime 5 ms, two syncs (see the docs) */
    assert_in_range(info.total_time, 30, 40);
    assert_int_equal(info.downtime, 5);
    assert_int_equal(info.setup_time, 2);
    assert_int_equal(info.ram.dirty_sync_count, 2);
    assert_int_equal(info.ram.remaining, 0);
    assert_int_equal(info.ram.dirty_pages_rate, 0);
    assert_true(info.has_downtime);
    assert_false(info.has_expected_downtime);
    assert_int_equal(info.ram.total, 512ull << 20);
    assert_in_range(info.ram.duplicate, 131000, 131072);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_POSTMIGRATE);
    event_string(e, s, sizeof(s), true);
    assert_string_equal(s, "setup P1 active STOP P2 completed");
    fq_model_free(m);
    free(e);
}

static void
test_not_converging(void **unused)
{
    struct events *e = calloc(1, sizeof(*e));
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_migration_info info;
    double prev = -1;
    size_t i;
    size_t passes = 0;

    (void)unused;
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 20, 0.01, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_ACTIVE);
    /* QEMU: a pass every 0.40 s after the first, 50 syncs in 20 s */
    for (i = 0; i < e->n; i++) {
        if (e->ev[i].type != FQ_EVENT_MIGRATION_PASS) {
            continue;
        }
        passes++;
        if (e->ev[i].pass >= 4) {
            assert_in_range(llround((e->ev[i].time - prev) * 1000), 395, 405);
        }
        prev = e->ev[i].time;
    }
    assert_in_range(passes, 48, 52);
    assert_int_equal(info.ram.dirty_sync_count, passes);
    /* QEMU: 639-646 ms; bytes dirty at the sync / 100 MiB/s */
    assert_in_range(info.expected_downtime, 630, 650);
    assert_in_range(info.ram.dirty_pages_rate, 24500, 26500);
    assert_in_range(info.ram.pages_per_second, 25000, 26000);
    assert_true(info.ram.mbps > 830 && info.ram.mbps < 845);
    assert_true(info.ram.remaining < 67108864);
    assert_true(info.has_expected_downtime);
    assert_false(info.has_downtime);
    assert_false(info.has_cpu_throttle_percentage);
    assert_int_equal(count_type(e, FQ_EVENT_STOP), 0);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_RUNNING);
    fq_model_free(m);
    free(e);
}

static void
test_converging(void **unused)
{
    struct events *e = calloc(1, sizeof(*e));
    struct fq_model *m = guest(64, 104857600, 2000);
    struct fq_migration_info info;
    char s[256];

    (void)unused;
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 10, 0.01, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    /* QEMU: 687 ms total, 41 ms downtime, 67239943 downtime bytes */
    assert_in_range(info.total_time, 650, 720);
    assert_in_range(info.downtime, 25, 45);
    assert_int_equal(info.ram.dirty_sync_count, 3);
    assert_in_range(info.ram.downtime_bytes, 67100000, 67300000);
    assert_int_equal(info.ram.transferred,
                     info.ram.precopy_bytes + info.ram.downtime_bytes);
    assert_int_equal(info.ram.normal_bytes, info.ram.normal * 4096);
    event_string(e, s, sizeof(s), true);
    assert_string_equal(s, "setup P1 active P2 STOP P3 completed");
    fq_model_free(m);
    free(e);
}

static void
test_threshold_rechecked_each_window(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_params p;
    double t;
    size_t i;

    (void)unused;
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 5.05, 0.01, NULL);
    p = *fq_model_params(m);
    p.downtime_limit = 2000;
    fq_model_set_params(m, &p);
    t = run_until(m, FQ_STATUS_COMPLETED, 10, 0.001, e);
    /* not at the end of the pass (5.3 s) but at the next window edge */
    for (i = 0; i < e->n && e->ev[i].type != FQ_EVENT_STOP; i++) {
    }
    assert_true(i < e->n);
    assert_true(e->ev[i].time > 5.05 && e->ev[i].time < 5.16);
    assert_true(t < 5.3);
    fq_model_free(m);
    free(e);
}

static void
test_hopeless(void **unused)
{
    struct events *e = calloc(1, sizeof(*e));
    struct fq_model *m = guest(400, 20971520, 300);
    struct fq_migration_info info;

    (void)unused;
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 90, 0.05, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_ACTIVE);
    /* QEMU: passes at 20.06, 39.88, 59.61, 79.34 s */
    assert_int_equal(info.ram.dirty_sync_count, 5);
    assert_in_range(info.expected_downtime, 19900, 20100);
    assert_in_range(info.ram.dirty_pages_rate, 5000, 5200);
    fq_model_free(m);
    free(e);
}

static void
test_autoconverge(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_caps caps = {.events = true, .auto_converge = true};
    struct fq_error err;
    struct fq_migration_info info;
    int seen[8];
    double when[8];
    int n = 0;
    int last = 0;

    (void)unused;
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    while (fq_model_now(m) < 40 && fq_model_status(m) != FQ_STATUS_COMPLETED) {
        fq_model_advance(m, 0.01);
        drain(m, NULL);
        info = query(m);
        if (info.has_cpu_throttle_percentage &&
            info.cpu_throttle_percentage != last && n < 8) {
            last = (int)info.cpu_throttle_percentage;
            seen[n] = last;
            when[n++] = fq_model_now(m);
        }
    }
    /* QEMU: 20 % at ~2.5 s, +10 % every 2.4 s, 99 %, done at 22.4 s */
    assert_int_equal(seen[0], 20);
    assert_true(when[0] > 2.0 && when[0] < 2.7);
    assert_int_equal(seen[1], 30);
    assert_true(when[1] - when[0] > 2.3 && when[1] - when[0] < 2.5);
    assert_int_equal(seen[7], 90);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    assert_false(info.has_cpu_throttle_percentage);
    assert_true(fq_model_now(m) > 21 && fq_model_now(m) < 23.5);
    fq_model_free(m);
}

static int
first_throttle_step(bool tailslow, int increment, int trigger)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_caps caps = {.auto_converge = true};
    struct fq_params p = *fq_model_params(m);
    struct fq_error err;
    struct fq_migration_info info;
    int result = 0;

    p.cpu_throttle_tailslow = tailslow;
    p.cpu_throttle_increment = increment;
    p.throttle_trigger_threshold = trigger;
    fq_model_set_params(m, &p);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    while (fq_model_now(m) < 8) {
        fq_model_advance(m, 0.05);
        drain(m, NULL);
        info = query(m);
        if (info.has_cpu_throttle_percentage &&
            info.cpu_throttle_percentage > 20) {
            result = (int)info.cpu_throttle_percentage;
            break;
        }
        if (info.has_cpu_throttle_percentage && result == 0) {
            result = -1;
        }
    }
    fq_model_free(m);
    return result;
}

static void
test_autoconverge_rules(void **unused)
{
    (void)unused;
    /* increment 50: plain steps 20 -> 70 */
    assert_int_equal(first_throttle_step(false, 50, 50), 70);
    /*
     * tailslow: the guest dirties about as much as is sent (98-100 %);
     * the CPU share that brings that down to 50 % is 80 * 0.5 / 0.99 =
     * 40 %, so the step is 80 - 40 = 40: 20 -> 60
     */
    assert_int_equal(first_throttle_step(true, 50, 50), 60);
    /* dirtying never exceeds 100 % of what is sent: no throttle */
    assert_int_equal(first_throttle_step(false, 10, 100), 0);
}

static void
test_postcopy(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_caps caps = {.events = true, .postcopy_ram = true};
    struct fq_migration_info info;
    struct fq_error err;
    char s[256];

    (void)unused;
    assert_int_equal(fq_model_start_postcopy(m, &err), -1);
    assert_string_equal(err.desc, "Enable postcopy with "
                                  "migrate_set_capability before the start "
                                  "of migration");
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    assert_int_equal(fq_model_start_postcopy(m, &err), -1);
    assert_string_equal(err.desc, "Postcopy must be started after migration "
                                  "has been started");
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 1.02, 0.01, e);
    assert_int_equal(fq_model_start_postcopy(m, &err), 0);
    run_until(m, FQ_STATUS_POSTCOPY_ACTIVE, 2, 0.001, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_POSTCOPY_ACTIVE);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_FINISH_MIGRATE);
    assert_true(info.has_expected_downtime);
    run_until(m, FQ_STATUS_COMPLETED, 3, 0.001, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    /* QEMU: postcopy-active, STOP, a last sync, completed ~100 ms on */
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active postcopy-active STOP completed");
    assert_int_equal(e->ev[e->n - 2].type, FQ_EVENT_MIGRATION_PASS);
    assert_int_equal(info.downtime, 5);
    assert_true(info.ram.postcopy_bytes > 60000000);
    assert_true(info.ram.postcopy_requests > 0);
    assert_int_equal(info.ram.downtime_bytes, 0);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_POSTMIGRATE);
    fq_model_free(m);
    free(e);
}

/* Post-copy pauses when the stream breaks and resumes where it was. */
static void
test_postcopy_pause_resume(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_caps caps = {.events = true, .postcopy_ram = true};
    struct fq_migration_info info;
    struct fq_guest_cost cost;
    struct fq_error err;
    struct fq_params p = *fq_model_params(m);
    uint64_t before;

    (void)unused;
    p.max_postcopy_bandwidth = 20000000; /* 64 MiB drain in 3 s */
    fq_model_set_params(m, &p);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    assert_int_equal(fq_model_pause(m, &err), -1);
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 1.02, 0.01, NULL);
    assert_int_equal(fq_model_start_postcopy(m, &err), 0);
    run_until(m, FQ_STATUS_POSTCOPY_ACTIVE, 2, 0.001, NULL);
    fq_model_advance(m, 0.05);
    assert_int_equal(fq_model_resume(m, true, &err), -1);
    assert_string_equal(err.desc,
                        "Cannot resume if there is no paused migration");
    assert_int_equal(fq_model_pause(m, &err), 0);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_POSTCOPY_PAUSED);
    assert_string_equal(info.error_desc,
                        "Postcopy migration is paused by the user");
    before = info.ram.transferred;
    fq_model_guest_cost(m, &cost);
    fq_model_advance(m, 1.0); /* nothing moves; the guest waits */
    info = query(m);
    assert_int_equal(info.ram.transferred, before);
    assert_int_equal(info.status, FQ_STATUS_POSTCOPY_PAUSED);
    {
        struct fq_guest_cost after;

        fq_model_guest_cost(m, &after);
        assert_true(after.blocked_s - cost.blocked_s > 0.99);
    }
    /* nothing listens at that URI: still paused */
    assert_int_equal(fq_model_resume(m, false, &err), 0);
    fq_model_advance(m, 0.5);
    assert_int_equal(fq_model_status(m), FQ_STATUS_POSTCOPY_PAUSED);
    assert_int_equal(fq_model_resume(m, true, &err), 0);
    assert_int_equal(fq_model_status(m), FQ_STATUS_POSTCOPY_RECOVER);
    run_until(m, FQ_STATUS_COMPLETED, 10, 0.001, NULL);
    assert_int_equal(fq_model_status(m), FQ_STATUS_COMPLETED);
    info = query(m);
    assert_true(info.ram.transferred > before);
    fq_model_free(m);
}

/* dirty-limit caps the guest's rate; its throttle time is reported. */
static void
test_dirty_limit(void **unused)
{
    struct fq_model_config c;
    struct fq_caps caps = {.events = true, .dirty_limit = true};
    struct fq_migration_info info;
    struct fq_guest_cost cost;
    struct fq_error err;
    struct fq_model *m;
    double done;

    (void)unused;
    guest_config(&c, 64, 393000); /* 1.5 GiB/s */
    c.vcpus = 2;
    m = new_model(&c, 104857600, 300);
    /* without a dirty ring QEMU refuses it */
    assert_int_equal(fq_model_set_caps(m, &caps, &err), -1);
    assert_non_null(strstr(err.desc, "dirty-ring-size"));
    assert_int_equal(fq_model_set_dirty_limit(m, 5, &err), -1);
    fq_model_free(m);

    c.dirty_ring = true; /* and its default 4096 entries */
    m = new_model(&c, 104857600, 300);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 0.5, 0.01, NULL);
    info = query(m);
    assert_false(info.has_dirty_limit);
    /* 2 vCPUs at 10 MiB/s: 5120 pages/s of 4 KiB in all */
    assert_int_equal(fq_model_set_dirty_limit(m, 10, &err), 0);
    assert_int_equal(fq_model_dirty_limit(m), 10);
    assert_true(fabs(fq_model_vcpu_dirty_rate(m) - 2560) < 1);
    info = query(m);
    assert_true(info.has_dirty_limit);
    assert_true(info.dirty_limit_throttle_us > 0);
    /* in service during the migration: QEMU refuses a change */
    assert_int_equal(fq_model_set_dirty_limit(m, 20, &err), -1);
    assert_non_null(strstr(err.desc, "while migration is running"));
    done = run_until(m, FQ_STATUS_COMPLETED, 30, 0.01, NULL);
    assert_int_equal(fq_model_status(m), FQ_STATUS_COMPLETED);
    /* from 0.5 s to the switch-over the vCPUs slept 1 - 5120/393000 */
    fq_model_guest_cost(m, &cost);
    assert_true(fabs(cost.throttled_s - (done - 0.5) * (1 - 5120.0 / 393000)) <
                0.05);
    /* migrate_cancel lifts it, as QEMU's migration_cancel() does */
    fq_model_cancel(m);
    assert_int_equal(fq_model_dirty_limit(m), 0);
    fq_model_free(m);
}

/* Channels: one carries channel_rate; multifd's N carry N times that. */
static void
test_multifd_channels(void **unused)
{
    struct fq_model_config c;
    struct fq_caps caps = {.events = true, .multifd = true};
    struct fq_migration_info info;
    struct fq_error err;
    struct fq_params p;
    struct fq_model *m;
    double t1, t4;

    (void)unused;
    guest_config(&c, 256, 0);
    c.channel_rate = 100e6;
    m = new_model(&c, 0, 300);
    start(m);
    t1 = run_until(m, FQ_STATUS_COMPLETED, 60, 0.01, NULL);
    info = query(m);
    assert_int_equal(info.ram.multifd_bytes, 0);
    fq_model_free(m);

    m = new_model(&c, 0, 300);
    p = *fq_model_params(m);
    p.multifd_channels = 4;
    fq_model_set_params(m, &p);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    t4 = run_until(m, FQ_STATUS_COMPLETED, 60, 0.01, NULL);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    assert_true(info.ram.multifd_bytes > 256e6);
    assert_true(info.ram.transferred >= info.ram.multifd_bytes);
    assert_true(t4 < t1 / 3.5 && t4 > t1 / 4.5);
    fq_model_free(m);
}

static void
test_block_migration(void **unused)
{
    struct fq_model_config c;
    struct fq_model *m;
    struct fq_migrate_args a = {.blk = true};
    struct fq_caps caps = {.block = true};
    struct fq_migration_info info;
    struct fq_error err;

    (void)unused;
    guest_config(&c, 64, 393000);
    c.disk_bytes = 256ull << 20;
    m = new_model(&c, 104857600, 2000);
    assert_int_equal(fq_model_migrate(m, &a, &err), 0);
    run_until(m, FQ_STATUS_COMPLETED, 1.0, 0.01, NULL);
    info = query(m);
    assert_true(info.has_disk);
    assert_int_equal(info.disk.total, 256ull << 20);
    assert_int_equal(info.disk.transferred + info.disk.remaining, 256ull << 20);
    /* 100 MiB/s for 0.998 s, counted in whole 1 MiB chunks */
    assert_int_equal(info.disk.transferred, 99 * MIB);
    assert_int_equal(info.disk.transferred % 1048576, 0);
    assert_int_equal(info.disk.page_size, 0);
    /* RAM waits for the bulk phase */
    assert_int_equal(info.ram.transferred, 0);
    assert_int_equal(info.ram.remaining, 512ull << 20);
    run_until(m, FQ_STATUS_COMPLETED, 2.8, 0.01, NULL);
    info = query(m);
    assert_int_equal(info.disk.remaining, 1048576);
    run_until(m, FQ_STATUS_COMPLETED, 10, 0.01, NULL);
    info = query(m);
    /* QEMU: completed at 3284 ms */
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    assert_in_range(info.total_time, 3150, 3350);
    assert_false(info.has_disk);
    fq_model_free(m);

    guest_config(&c, 64, 393000);
    c.disk_bytes = 1ull << 30;
    m = new_model(&c, 0, 300);
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    assert_int_equal(fq_model_migrate(m, &a, &err), -1);
    assert_string_equal(err.desc, "Command options are incompatible with "
                                  "current migration capabilities");
    a.blk = false;
    assert_int_equal(fq_model_migrate(m, &a, &err), 0);
    fq_model_advance(m, 0.1);
    info = query(m);
    assert_true(info.has_disk);
    fq_model_free(m);
}

static void
test_cancel(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_migration_info info;
    char s[256];
    double t;

    (void)unused;
    fq_model_cancel(m);
    assert_false(fq_model_next_event(m, &e->ev[0]));
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 3.03, 0.01, e);
    fq_model_cancel(m);
    fq_model_cancel(m);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_CANCELLING);
    assert_true(info.has_ram);
    t = run_until(m, FQ_STATUS_CANCELLED, 4, 0.001, e);
    /* the thread notices at its next 100 ms window edge */
    assert_true(t > 3.03 && t <= 3.14);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_CANCELLED);
    assert_false(info.has_ram);
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active cancelling cancelled");
    assert_int_equal(fq_model_runstate(m), FQ_RUN_RUNNING);
    assert_false(fq_model_migrating(m));
    /* a new migration may start */
    start(m);
    fq_model_free(m);
    free(e);
}

static void
test_pause_before_switchover(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 2000);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_caps caps = {.pause_before_switchover = true};
    struct fq_error err;
    char s[256];

    (void)unused;
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    assert_int_equal(fq_model_continue(m, FQ_STATUS_PRE_SWITCHOVER, &err), -1);
    assert_string_equal(err.desc, "Migration not in expected state: setup");
    run_until(m, FQ_STATUS_PRE_SWITCHOVER, 2, 0.01, e);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_FINISH_MIGRATE);
    assert_int_equal(fq_model_cont(m, &err), -1);
    assert_string_equal(err.desc, "Migration is not finalized yet");
    fq_model_advance(m, 5);
    assert_int_equal(fq_model_status(m), FQ_STATUS_PRE_SWITCHOVER);
    assert_int_equal(fq_model_continue(m, FQ_STATUS_ACTIVE, &err), -1);
    assert_string_equal(err.desc,
                        "Migration not in expected state: pre-switchover");
    assert_int_equal(fq_model_continue(m, FQ_STATUS_PRE_SWITCHOVER, &err), 0);
    run_until(m, FQ_STATUS_COMPLETED, 8, 0.001, e);
    event_string(e, s, sizeof(s), true);
    assert_string_equal(s, "setup P1 active P2 STOP pre-switchover device P3 "
                           "completed");
    fq_model_free(m);

    /* cancelled while paused: the guest runs again */
    m = guest(64, 104857600, 2000);
    e->n = 0;
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    run_until(m, FQ_STATUS_PRE_SWITCHOVER, 2, 0.01, e);
    fq_model_cancel(m);
    run_until(m, FQ_STATUS_CANCELLED, 3, 0.001, e);
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active STOP pre-switchover cancelling "
                           "RESUME cancelled");
    assert_int_equal(fq_model_runstate(m), FQ_RUN_RUNNING);
    fq_model_free(m);
    free(e);
}

static void
test_fail(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_caps caps = {.pause_before_switchover = true};
    struct fq_migration_info info;
    struct fq_error err;
    char s[256];

    (void)unused;
    assert_int_equal(fq_model_fail(m, "x"), -1);
    start(m);
    fq_model_advance(m, 1);
    drain(m, e);
    assert_int_equal(fq_model_fail(m, "Unable to write to socket: Broken "
                                      "pipe"),
                     0);
    drain(m, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_FAILED);
    assert_true(info.has_error_desc);
    assert_string_equal(info.error_desc,
                        "Unable to write to socket: Broken pipe");
    assert_false(info.has_ram);
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active failed");
    assert_int_equal(fq_model_runstate(m), FQ_RUN_RUNNING);
    fq_model_free(m);

    /* failing after the stop: failed, then the guest resumes */
    m = guest(64, 104857600, 2000);
    e->n = 0;
    assert_int_equal(fq_model_set_caps(m, &caps, &err), 0);
    start(m);
    run_until(m, FQ_STATUS_PRE_SWITCHOVER, 2, 0.01, e);
    assert_int_equal(fq_model_fail(m, ""), 0);
    drain(m, e);
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active STOP pre-switchover failed RESUME");
    info = query(m);
    assert_false(info.has_error_desc);
    fq_model_free(m);
    free(e);
}

static void
test_stall(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_migration_info a;
    struct fq_migration_info b;

    (void)unused;
    start(m);
    fq_model_advance(m, 1.0);
    fq_model_stall(m, true);
    a = query(m);
    fq_model_advance(m, 3.0);
    b = query(m);
    assert_int_equal(a.ram.transferred, b.ram.transferred);
    assert_int_equal(a.ram.dirty_sync_count, b.ram.dirty_sync_count);
    assert_int_equal(b.total_time - a.total_time, 3000);
    assert_int_equal(b.status, FQ_STATUS_ACTIVE);
    fq_model_stall(m, false);
    fq_model_advance(m, 1.0);
    b = query(m);
    assert_true(b.ram.transferred > a.ram.transferred + 90 * MIB);
    assert_true(b.ram.dirty_sync_count > a.ram.dirty_sync_count);
    fq_model_free(m);
}

static void
test_stopped_guest(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct events *e = calloc(1, sizeof(*e));
    struct fq_migration_info info;
    struct fq_error err;
    uint64_t precopy;
    char s[256];

    (void)unused;
    start(m);
    run_until(m, FQ_STATUS_COMPLETED, 2, 0.01, e);
    fq_model_stop(m);
    fq_model_stop(m);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_PAUSED);
    precopy = query(m).ram.precopy_bytes;
    run_until(m, FQ_STATUS_COMPLETED, 4, 0.01, e);
    info = query(m);
    assert_int_equal(info.status, FQ_STATUS_COMPLETED);
    /* QEMU books bytes sent while the guest is paused as downtime bytes */
    assert_int_equal(info.ram.precopy_bytes, precopy);
    assert_true(info.ram.downtime_bytes > 0);
    event_string(e, s, sizeof(s), false);
    assert_string_equal(s, "setup active STOP completed");
    assert_int_equal(fq_model_runstate(m), FQ_RUN_POSTMIGRATE);
    assert_int_equal(fq_model_migrate(m, &(struct fq_migrate_args){0}, &err),
                     -1);
    assert_string_equal(err.desc, "Can't migrate the vm that was paused due "
                                  "to previous migration");
    /* cont on a postmigrate source is accepted, as QEMU 7.2 does */
    assert_int_equal(fq_model_cont(m, &err), 0);
    assert_int_equal(fq_model_runstate(m), FQ_RUN_RUNNING);
    assert_int_equal(fq_model_cont(m, &err), 0);
    e->n = 0;
    drain(m, e);
    assert_int_equal(e->n, 1);
    assert_int_equal(e->ev[0].type, FQ_EVENT_RESUME);
    start(m);
    fq_model_free(m);
    free(e);
}

static void
test_migrate_refusals(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_caps caps = {.events = true};
    struct fq_error err;

    (void)unused;
    start(m);
    assert_int_equal(fq_model_migrate(m, &(struct fq_migrate_args){0}, &err),
                     -1);
    assert_string_equal(err.cls, "GenericError");
    assert_string_equal(err.desc, "There's a migration process in progress");
    assert_int_equal(fq_model_set_caps(m, &caps, &err), -1);
    assert_string_equal(err.desc, "There's a migration process in progress");
    assert_true(fq_model_migrating(m));
    fq_model_free(m);
}

static void
test_step_size_does_not_matter(void **unused)
{
    static const double steps[] = {0.001, 0.037, 0.5, 7.0};
    uint64_t syncs[4];
    int64_t total[4];
    size_t i;

    (void)unused;
    for (i = 0; i < 4; i++) {
        struct fq_model *m = guest(64, 104857600, 300);
        struct fq_model *c = guest(64, 104857600, 2000);

        start(m);
        start(c);
        run_until(m, FQ_STATUS_COMPLETED, 14, steps[i], NULL);
        run_until(c, FQ_STATUS_COMPLETED, 14, steps[i], NULL);
        syncs[i] = query(m).ram.dirty_sync_count;
        total[i] = query(c).total_time;
        fq_model_free(m);
        fq_model_free(c);
    }
    for (i = 1; i < 4; i++) {
        assert_in_range(syncs[i], syncs[0] - 1, syncs[0] + 1);
        assert_in_range(total[i], total[0] - 1, total[0] + 1);
    }
}

static void
test_many_events(void **unused)
{
    struct fq_model *m = guest(64, 104857600, 300);
    struct fq_event ev;
    uint64_t last = 0;
    size_t n = 0;

    (void)unused;
    start(m);
    /* an hour of passes piles up in the queue, none lost */
    fq_model_advance(m, 3600);
    while (fq_model_next_event(m, &ev)) {
        if (ev.type == FQ_EVENT_MIGRATION_PASS) {
            assert_int_equal(ev.pass, last + 1);
            last = ev.pass;
        }
        n++;
    }
    assert_true(last > 8900 && last < 9100);
    assert_int_equal(n, last + 2);
    assert_int_equal(query(m).ram.dirty_sync_count, last);
    fq_model_free(m);
}

static void
test_names(void **unused)
{
    (void)unused;
    assert_string_equal(fq_status_name(FQ_STATUS_POSTCOPY_ACTIVE),
                        "postcopy-active");
    assert_string_equal(fq_status_name(FQ_STATUS_WAIT_UNPLUG), "wait-unplug");
    assert_null(fq_status_name(FQ_STATUS__MAX));
    assert_int_equal(fq_status_from_name("pre-switchover"),
                     FQ_STATUS_PRE_SWITCHOVER);
    assert_int_equal(fq_status_from_name("migrating"), -1);
    assert_string_equal(fq_runstate_name(FQ_RUN_FINISH_MIGRATE),
                        "finish-migrate");
    assert_null(fq_runstate_name(FQ_RUN__MAX));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_postcopy_pause_resume),
        cmocka_unit_test(test_dirty_limit),
        cmocka_unit_test(test_multifd_channels),
        cmocka_unit_test(test_params_defaults),
        cmocka_unit_test(test_idle_guest),
        cmocka_unit_test(test_not_converging),
        cmocka_unit_test(test_converging),
        cmocka_unit_test(test_threshold_rechecked_each_window),
        cmocka_unit_test(test_hopeless),
        cmocka_unit_test(test_autoconverge),
        cmocka_unit_test(test_autoconverge_rules),
        cmocka_unit_test(test_postcopy),
        cmocka_unit_test(test_block_migration),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_pause_before_switchover),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_stall),
        cmocka_unit_test(test_stopped_guest),
        cmocka_unit_test(test_migrate_refusals),
        cmocka_unit_test(test_step_size_does_not_matter),
        cmocka_unit_test(test_many_events),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
