/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/main: the qmigrate program: subcommands, arguments, signals, exit codes.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define QMIGRATE_VERSION "0.1.0"

static const char usage_text[] =
    "Usage:\n"
    "  qmigrate migrate --source QMP --to URI [options]\n"
    "  qmigrate --help | --version\n"
    "\n"
    "QMP is a monitor address: PATH, unix:PATH or tcp:HOST:PORT.\n"
    "URI is the migration target handed to QEMU: tcp:HOST:PORT or "
    "unix:PATH.\n"
    "\n"
    "Options:\n"
    "  --source QMP              the source QEMU's monitor\n"
    "  --to URI                  where QEMU sends the migration stream\n"
    "  --dest QMP                the destination's monitor (checks the "
    "guest runs there)\n"
    "  --policy NAME             adaptive (default), nova, vdsm, proxmox, "
    "pray\n"
    "  --downtime MS             final downtime limit (500)\n"
    "  --downtime-initial MS     adaptive's starting limit (300)\n"
    "  --downtime-steps N        nova/vdsm steps (10)\n"
    "  --downtime-delay S        nova/vdsm seconds per GiB between steps "
    "(75)\n"
    "  --completion-timeout S    seconds per GiB before the timeout action "
    "(800; 0 off)\n"
    "  --progress-timeout S      seconds without progress before the "
    "timeout action (150)\n"
    "  --timeout-action ACTION   abort (default) or force-complete\n"
    "  --bandwidth MIB_PER_S     max-bandwidth (0: unlimited, the default)\n"
    "  --schedule NAME|FILE      vdsm convergence schedule\n"
    "  --auto-converge           permit QEMU's CPU throttling\n"
    "  --postcopy                permit post-copy\n"
    "  --disk none|blk|mirror    copy local disks too (none)\n"
    "  --interval MS             poll period (500)\n"
    "  --trace FILE              record every sample and action\n"
    "  --json                    JSON lines on stdout\n"
    "  -q, --quiet               no progress for people\n"
    "  -v, --verbose             more detail (repeat for more)\n"
    "  --greeting-timeout S      wait for a monitor's greeting (3)\n"
    "  --command-timeout S       wait for a QMP reply (30)\n"
    "  --cancel-timeout S        wait for QEMU to finish a cancel (60)\n"
    "\n"
    "Exit status: 0 completed, 1 failed, 2 usage, 3 aborted or cancelled,\n"
    "4 a monitor unreachable or not speaking QMP.  See qmigrate(1).\n";

static void
usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "qmigrate: %s%s%s%s\n\n%s", what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "", usage_text);
}

enum long_only {
    OPT_FIRST = 256,
};

static const struct option long_options[] = {
    {"source", required_argument, NULL, 0},
    {"dest", required_argument, NULL, 0},
    {"to", required_argument, NULL, 0},
    {"trace", required_argument, NULL, 0},
    {"policy", required_argument, NULL, 0},
    {"downtime", required_argument, NULL, 0},
    {"downtime-initial", required_argument, NULL, 0},
    {"downtime-steps", required_argument, NULL, 0},
    {"downtime-delay", required_argument, NULL, 0},
    {"completion-timeout", required_argument, NULL, 0},
    {"progress-timeout", required_argument, NULL, 0},
    {"timeout-action", required_argument, NULL, 0},
    {"bandwidth", required_argument, NULL, 0},
    {"schedule", required_argument, NULL, 0},
    {"auto-converge", no_argument, NULL, 0},
    {"postcopy", no_argument, NULL, 0},
    {"disk", required_argument, NULL, 0},
    {"interval", required_argument, NULL, 0},
    {"json", no_argument, NULL, 0},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"greeting-timeout", required_argument, NULL, 0},
    {"command-timeout", required_argument, NULL, 0},
    {"cancel-timeout", required_argument, NULL, 0},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Parses argv after the subcommand.  Returns 0, 1 (exit 0 now) or -1. */
static int
parse_args(int argc, char **argv, struct qm_options *o)
{
    char err[512];
    int c, index;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qvhV", long_options, &index)) != -1) {
        switch (c) {
        case 0: {
            const char *key = long_options[index].name;
            const char *value = long_options[index].has_arg ? optarg : "true";

            if (options_set(o, key, value, err, sizeof(err)) < 0) {
                usage_error(err, NULL);
                return -1;
            }
            break;
        }
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            o->verbose++;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case 'V':
            printf("qmigrate %s\n", QMIGRATE_VERSION);
            return 1;
        case ':':
            usage_error("this option needs a value:", argv[optind - 1]);
            return -1;
        default:
            usage_error("unknown option", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        usage_error("unexpected argument", argv[optind]);
        return -1;
    }
    return 0;
}

struct run {
    struct ev_loop *loop;
    struct job *job;
    struct job_result result;
    bool done;
    int signals;
};

static void
run_done(struct job *job, const struct job_result *res, void *opaque)
{
    struct run *run = opaque;

    (void)job;
    run->result = *res;
    run->done = true;
    ev_break(run->loop, EVBREAK_ALL);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct run *run = w->data;

    (void)loop;
    (void)revents;
    run->signals++;
    job_cancel(run->job, w->signum == SIGINT ? "interrupted (SIGINT)"
                                             : "terminated (SIGTERM)");
}

static int
cmd_migrate(int argc, char **argv)
{
    struct qm_options o;
    struct qm_output out;
    struct run run;
    ev_signal sigint_w, sigterm_w;
    char err[512];
    int rc;

    options_init(&o);
    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        return rc > 0 ? 0 : QM_EXIT_USAGE;
    }
    if (options_validate(&o, true, err, sizeof(err)) < 0) {
        usage_error(err, NULL);
        return QM_EXIT_USAGE;
    }
    output_init(&out, &o);
    memset(&run, 0, sizeof(run));
    run.loop = ev_default_loop(EVFLAG_AUTO);
    if (run.loop == NULL) {
        fprintf(stderr, "qmigrate: error: cannot start the event loop\n");
        return QM_EXIT_FAILED;
    }
    run.job = job_new(run.loop, &o, NULL, &out, run_done, &run);
    if (run.job == NULL) {
        fprintf(stderr, "qmigrate: error: out of memory\n");
        return QM_EXIT_FAILED;
    }
    ev_signal_init(&sigint_w, signal_cb, SIGINT);
    sigint_w.data = &run;
    ev_signal_start(run.loop, &sigint_w);
    ev_signal_init(&sigterm_w, signal_cb, SIGTERM);
    sigterm_w.data = &run;
    ev_signal_start(run.loop, &sigterm_w);
    job_start(run.job);
    if (!run.done) {
        ev_run(run.loop, 0);
    }
    ev_signal_stop(run.loop, &sigint_w);
    ev_signal_stop(run.loop, &sigterm_w);
    job_free(run.job);
    ev_loop_destroy(run.loop);
    return run.done ? (int)run.result.code : QM_EXIT_FAILED;
}

int
main(int argc, char **argv)
{
    const char *cmd;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs(usage_text, stderr);
        return QM_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("qmigrate %s\n", QMIGRATE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "migrate") == 0) {
        return cmd_migrate(argc - 1, argv + 1);
    }
    usage_error("unknown command", cmd);
    return QM_EXIT_USAGE;
}
