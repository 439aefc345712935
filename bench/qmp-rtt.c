/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/qmp-rtt: round trips of qmigrate's QMP client against a live monitor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmp/qmp.h"

/*
 * qmp-rtt MONITOR [COUNT [IN_FLIGHT]]
 *
 * Sends COUNT query-status commands: first one at a time (latency of each
 * round trip), then with IN_FLIGHT outstanding (throughput).  Prints the
 * median, 95th percentile and the round trips per second as one JSON line.
 */

struct bench {
    struct ev_loop *loop;
    struct qmp_client *client;
    int count;
    int in_flight;
    int sent, done;
    double *lat;
    double t_start;
    double serial_s, pipelined_s;
    double cpu_start, serial_cpu_s;
    int phase; /* 0 serial, 1 pipelined */
    int failed;
};

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_one(struct bench *b);

struct call {
    struct bench *b;
    double t0;
};

static void
on_reply(struct qmp_client *c, json_t *ret, const struct qmp_error *err,
         void *opaque)
{
    struct call *call = opaque;
    struct bench *b = call->b;

    (void)c;
    (void)ret;
    if (err != NULL) {
        fprintf(stderr, "qmp-rtt: %s\n", err->message);
        b->failed = 1;
        ev_break(b->loop, EVBREAK_ALL);
        return;
    }
    if (b->phase == 0) {
        b->lat[b->done] = now() - call->t0;
    }
    b->done++;
    if (b->done == b->count) {
        if (b->phase == 0) {
            b->serial_s = now() - b->t_start;
            b->serial_cpu_s = cpu_now() - b->cpu_start;
            b->phase = 1;
            b->sent = b->done = 0;
            b->t_start = now();
            while (b->sent < b->in_flight && b->sent < b->count) {
                send_one(b);
            }
            return;
        }
        b->pipelined_s = now() - b->t_start;
        ev_break(b->loop, EVBREAK_ALL);
        return;
    }
    if (b->sent < b->count) {
        send_one(b);
    }
}

static void
send_one(struct bench *b)
{
    struct call *call = malloc(sizeof(*call));
    struct qmp_error err;

    call->b = b;
    call->t0 = now();
    b->sent++;
    if (qmp_client_execute(b->client, "query-status", NULL, on_reply, call,
                           free, &err) < 0) {
        fprintf(stderr, "qmp-rtt: %s\n", err.message);
        b->failed = 1;
        ev_break(b->loop, EVBREAK_ALL);
    }
}

static void
on_ready(struct qmp_client *c, void *opaque)
{
    struct bench *b = opaque;

    (void)c;
    b->t_start = now();
    b->cpu_start = cpu_now();
    send_one(b);
}

static void
on_closed(struct qmp_client *c, const struct qmp_error *why, void *opaque)
{
    struct bench *b = opaque;

    (void)c;
    fprintf(stderr, "qmp-rtt: %s\n", why->message);
    b->failed = 1;
    ev_break(b->loop, EVBREAK_ALL);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    struct qmp_handlers h = {on_ready, NULL, on_closed, NULL};
    struct qmp_options opts;
    struct bench b;
    struct qmp_error err;

    if (argc < 2) {
        fprintf(stderr, "usage: qmp-rtt MONITOR [COUNT [IN_FLIGHT]]\n");
        return 2;
    }
    memset(&b, 0, sizeof(b));
    b.count = argc > 2 ? atoi(argv[2]) : 2000;
    b.in_flight = argc > 3 ? atoi(argv[3]) : 4;
    if (b.count < 1 || b.in_flight < 1 || b.in_flight > 8) {
        fprintf(stderr, "qmp-rtt: COUNT >= 1, IN_FLIGHT 1..8\n");
        return 2;
    }
    b.lat = calloc((size_t)b.count, sizeof(double));
    b.loop = ev_default_loop(0);
    h.opaque = &b;
    qmp_options_init(&opts);
    opts.max_in_flight = (unsigned)b.in_flight;
    b.client = qmp_client_new(b.loop, &opts, &h);
    if (qmp_client_connect(b.client, argv[1], &err) < 0) {
        fprintf(stderr, "qmp-rtt: %s\n", err.message);
        return 4;
    }
    ev_run(b.loop, 0);
    qmp_client_free(b.client);
    if (!b.failed) {
        qsort(b.lat, (size_t)b.count, sizeof(double), cmp_double);
        printf("{\"client\":\"qmigrate\",\"count\":%d,\"median_us\":%.1f,"
               "\"p95_us\":%.1f,\"serial_rps\":%.0f,\"pipelined_rps\":%.0f,"
               "\"in_flight\":%d,\"cpu_us_per_rt\":%.1f}\n",
               b.count, b.lat[b.count / 2] * 1e6,
               b.lat[(int)(b.count * 0.95)] * 1e6, b.count / b.serial_s,
               b.count / b.pipelined_s, b.in_flight,
               b.serial_cpu_s / b.count * 1e6);
    }
    free(b.lat);
    ev_loop_destroy(b.loop);
    return b.failed ? 1 : 0;
}
