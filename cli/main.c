/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/main: the qmigrate program: subcommands, arguments, config, exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/util.h"

#ifndef QMIGRATE_VERSION /* the file VERSION, given by the Makefile */
#error "QMIGRATE_VERSION is not defined: build with make"
#endif
#define DEFAULT_CONFIG "/etc/qmigrate.conf"
#define MAX_ARGS 256

struct command_spec {
    const char *name;
    enum qm_command bit;
    const char *synopsis;
    int (*run)(struct qm_options *o);
};

static const struct command_spec commands[] = {
    {"migrate", CMD_MIGRATE, "--source QMP --to URI [options]", cmd_migrate},
    {"watch", CMD_WATCH, "--source QMP [--json] [options]", cmd_watch},
    {"cancel", CMD_CANCEL, "--source QMP [--resume]", cmd_cancel},
    {"evacuate", CMD_EVACUATE, "--plan FILE [--max-parallel N] [options]",
     cmd_evacuate},
    {"replay", CMD_REPLAY, "TRACE [--json] [policy options]", cmd_replay},
    {"plot", CMD_PLOT, "TRACE -o FILE.png", cmd_plot},
    {NULL, 0, NULL, NULL},
};

static void
print_usage(FILE *f, const struct command_spec *only)
{
    const struct command_spec *c;
    const struct option_spec *s;

    fprintf(f, "Usage:\n");
    for (c = commands; c->name != NULL; c++) {
        if (only == NULL || only == c) {
            fprintf(f, "  qmigrate %s %s\n", c->name, c->synopsis);
        }
    }
    if (only == NULL) {
        fprintf(f, "  qmigrate --help | --version\n"
                   "\n"
                   "'qmigrate COMMAND --help' lists a command's options.\n");
    } else {
        fprintf(f, "\nOptions:\n");
        for (s = option_specs; s->name != NULL; s++) {
            char left[64], dflt[64];

            if (!(s->commands & only->bit)) {
                continue;
            }
            if (s->short_name) {
                snprintf(left, sizeof(left), "-%c, --%s%s%s", s->short_name,
                         s->name, s->arg ? " " : "", s->arg ? s->arg : "");
            } else {
                snprintf(left, sizeof(left), "    --%s%s%s", s->name,
                         s->arg ? " " : "", s->arg ? s->arg : "");
            }
            option_default_text(s, dflt, sizeof(dflt));
            fprintf(f, "  %-34s %s%s%s%s\n", left, s->help,
                    dflt[0] ? " (default: " : "", dflt, dflt[0] ? ")" : "");
        }
    }
    fprintf(f, "\nQMP is a monitor address: PATH, unix:PATH, tcp:HOST:PORT or\n"
               "ssh://[USER@]HOST[:PORT]/PATH (a UNIX socket on HOST, through "
               "ssh).\n"
               "Exit status: 0 completed, 1 failed, 2 usage, 3 aborted or "
               "cancelled,\n4 a monitor unreachable or not speaking QMP.  See "
               "qmigrate(1).\n");
}

static int
usage_error(const struct command_spec *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "qmigrate: %s%s%s%s\n\n", what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "");
    print_usage(stderr, cmd);
    return QM_EXIT_USAGE;
}

struct parsed_args {
    size_t n;
    const struct option_spec *spec[MAX_ARGS];
    const char *value[MAX_ARGS];
    size_t n_pos;
    const char *pos[MAX_ARGS];
    const char *config;
    bool help;
};

/* Collects the arguments without applying them: the config comes first. */
static int
collect_args(int argc, char **argv, const struct command_spec *cmd,
             struct parsed_args *pa)
{
    struct option longopts[128];
    char shortopts[64] = ":h";
    size_t n = 0, sl = strlen(shortopts);
    const struct option_spec *s;
    int c, index;

    memset(pa, 0, sizeof(*pa));
    for (s = option_specs; s->name != NULL; s++) {
        longopts[n].name = s->name;
        longopts[n].has_arg = s->arg ? required_argument : no_argument;
        longopts[n].flag = NULL;
        longopts[n].val = 1000 + (int)(s - option_specs);
        n++;
        if (s->short_name) {
            shortopts[sl++] = s->short_name;
            if (s->arg) {
                shortopts[sl++] = ':';
            }
        }
    }
    longopts[n].name = "help";
    longopts[n].has_arg = no_argument;
    longopts[n].flag = NULL;
    longopts[n].val = 'h';
    memset(&longopts[n + 1], 0, sizeof(longopts[0]));
    shortopts[sl] = '\0';
    optind = 1;
    opterr = 0;
    for (;;) {
        const struct option_spec *spec = NULL;

        c = getopt_long(argc, argv, shortopts, longopts, &index);
        if (c == -1) {
            break;
        }
        if (c == 'h') {
            pa->help = true;
            continue;
        }
        if (c == ':') {
            return usage_error(cmd,
                               "this option needs a value:", argv[optind - 1]);
        }
        if (c >= 1000) {
            spec = &option_specs[c - 1000];
        } else {
            for (s = option_specs; s->name != NULL; s++) {
                if (s->short_name == c) {
                    spec = s;
                }
            }
        }
        if (spec == NULL) {
            return usage_error(cmd, "unknown option", argv[optind - 1]);
        }
        if (!(spec->commands & cmd->bit)) {
            char what[128];

            snprintf(what, sizeof(what), "'qmigrate %s' has no option",
                     cmd->name);
            return usage_error(cmd, what, spec->name);
        }
        if (spec->kind == OPTION_CONFIG) {
            pa->config = optarg;
            continue;
        }
        if (pa->n >= MAX_ARGS) {
            return usage_error(cmd, "too many options", NULL);
        }
        pa->spec[pa->n] = spec;
        pa->value[pa->n] = spec->arg ? optarg : "true";
        pa->n++;
    }
    while (optind < argc && pa->n_pos < MAX_ARGS) {
        pa->pos[pa->n_pos++] = argv[optind++];
    }
    return 0;
}

/* The config file: --config, else $QMIGRATE_CONFIG, else /etc's if any. */
static int
load_config(struct qm_options *o, const char *explicit_path)
{
    const char *path = explicit_path;
    char err[1024];
    char *text;
    int rc;

    if (path == NULL) {
        path = getenv("QMIGRATE_CONFIG");
        if (path == NULL || path[0] == '\0') {
            path = DEFAULT_CONFIG;
        }
        if (access(path, F_OK) != 0) {
            return 0; /* no config file: defaults */
        }
    }
    text = util_read_file(path, 1 << 20, err, sizeof(err));
    if (text == NULL) {
        fprintf(stderr, "qmigrate: --config: %s\n", err);
        return -1;
    }
    rc = config_apply(o, text, path, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "qmigrate: config: %s\n", err);
    }
    return rc;
}

int
main(int argc, char **argv)
{
    const struct command_spec *cmd;
    struct parsed_args pa;
    struct qm_options o;
    char err[1024];
    size_t i;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr, NULL);
        return QM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout, NULL);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("qmigrate %s\n", QMIGRATE_VERSION);
        return 0;
    }
    for (cmd = commands; cmd->name != NULL; cmd++) {
        if (strcmp(cmd->name, argv[1]) == 0) {
            break;
        }
    }
    if (cmd->name == NULL) {
        return usage_error(NULL, "unknown command", argv[1]);
    }
    rc = collect_args(argc - 1, argv + 1, cmd, &pa);
    if (rc != 0) {
        return rc;
    }
    if (pa.help) {
        print_usage(stdout, cmd);
        return 0;
    }
    options_init(&o);
    o.command = cmd->bit;
    if (load_config(&o, pa.config) < 0) {
        return QM_EXIT_USAGE;
    }
    /* replay: the recorded settings, then what the command line says */
    if (cmd->bit == CMD_REPLAY && pa.n_pos > 0 &&
        replay_load_settings(&o, pa.pos[0], err, sizeof(err)) < 0) {
        fprintf(stderr, "qmigrate: error: replay: %s\n", err);
        return QM_EXIT_USAGE;
    }
    options_new_layer(&o); /* the command line over the config */
    for (i = 0; i < pa.n; i++) {
        if (strcmp(pa.spec[i]->name, "verbose") == 0) {
            o.verbose++;
            continue;
        }
        if (options_set(&o, pa.spec[i]->name, pa.value[i], err, sizeof(err)) <
            0) {
            return usage_error(cmd, err, NULL);
        }
    }
    if (cmd->bit & (CMD_REPLAY | CMD_PLOT)) {
        if (pa.n_pos > 1) {
            return usage_error(cmd, "unexpected argument", pa.pos[1]);
        }
        if (pa.n_pos == 1) {
            snprintf(o.input, sizeof(o.input), "%s", pa.pos[0]);
        }
    } else if (pa.n_pos > 0) {
        return usage_error(cmd, "unexpected argument", pa.pos[0]);
    }
    if (options_validate(&o, err, sizeof(err)) < 0) {
        return usage_error(cmd, err, NULL);
    }
    util_warn_exposed_monitor("", o.source);
    util_warn_exposed_monitor("", o.dest);
    return cmd->run(&o);
}
