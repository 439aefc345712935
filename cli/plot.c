/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/plot: a picture of one migration from its trace, drawn by gnuplot. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

/*
 * Memory and disk remaining over time, the downtime limit as a step line
 * (and QEMU's expected downtime), a dashed mark at each new pass, and a
 * red mark with a label at each action.  gnuplot is run directly (no
 * shell) on a script and data files in a private temporary directory.
 */

#define MIB 1048576.0

struct plot_files {
    char dir[64];
    char samples[96], passes[96], actions[96], script[96], log[96];
};

/* Writes s into f as a gnuplot single-quoted string. */
static void
put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'') {
            fputc('\'', f);
        }
        fputc(*s, f);
    }
    fputc('\'', f);
}

static bool
has_control(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20) {
            return true;
        }
    }
    return false;
}

/* Data files from the trace; returns the largest remaining, in MiB. */
static int
write_data(json_t *lines, const struct plot_files *pf, double *ymax,
           char *title, size_t title_size, char *err, size_t errlen)
{
    FILE *fs = fopen(pf->samples, "w");
    FILE *fp = fopen(pf->passes, "w");
    FILE *fa = fopen(pf->actions, "w");
    uint64_t last_pass = 0;
    size_t i, n = 0;
    json_t *line;
    int rc = -1;

    *ymax = 1.0;
    if (fs == NULL || fp == NULL || fa == NULL) {
        snprintf(err, errlen, "cannot write in %s: %s", pf->dir,
                 strerror(errno));
        goto out;
    }
    /* gnuplot needs at least one row in each file it plots */
    fprintf(fp, "# t\n");
    fprintf(fa, "# t label\n");
    json_array_foreach (lines, i, line) {
        const char *event = json_string_value(json_object_get(line, "event"));
        double t = json_number_value(json_object_get(line, "t"));

        if (strcmp(event, "start") == 0) {
            snprintf(title, title_size, "%s -> %s (policy %s)",
                     json_string_value(json_object_get(line, "source")) ?: "?",
                     json_string_value(json_object_get(line, "uri")) ?: "?",
                     json_string_value(json_object_get(line, "policy")) ?: "?");
        } else if (strcmp(event, "sample") == 0) {
            struct policy_sample s;
            double mem, disk;

            if (sample_from_json(line, &s, err, errlen) < 0) {
                goto out;
            }
            if (s.status == MIGRATION_STATUS_SETUP ||
                s.status == MIGRATION_STATUS_NONE) {
                continue; /* no figures yet */
            }
            mem = (double)s.ram_remaining / MIB;
            disk = (double)s.disk_remaining / MIB;
            *ymax = fmax(*ymax, fmax(mem, disk));
            fprintf(fs, "%.6f %.3f %.3f %llu ", s.t, mem, disk,
                    (unsigned long long)s.downtime_limit_ms);
            if (s.expected_downtime_ms >= 0 &&
                s.status == MIGRATION_STATUS_ACTIVE) {
                fprintf(fs, "%lld\n", (long long)s.expected_downtime_ms);
            } else {
                fprintf(fs, "NaN\n");
            }
            if (s.ram_dirty_sync_count > last_pass && last_pass > 0) {
                fprintf(fp, "%.6f\n", s.t);
            }
            if (s.ram_dirty_sync_count > last_pass) {
                last_pass = s.ram_dirty_sync_count;
            }
            n++;
        } else if (strcmp(event, "action") == 0 ||
                   strcmp(event, "advice") == 0) {
            json_t *value = json_object_get(line, "value");
            const char *action =
                json_string_value(json_object_get(line, "action")) ?: "?";

            if (json_is_integer(value)) {
                fprintf(fa, "%.6f \"%s %lld\"\n", t, action,
                        (long long)json_integer_value(value));
            } else {
                fprintf(fa, "%.6f \"%s\"\n", t, action);
            }
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "the trace has no samples to plot");
        goto out;
    }
    *ymax *= 1.1;
    rc = 0;
out:
    if (fs != NULL) {
        fclose(fs);
    }
    if (fp != NULL) {
        fclose(fp);
    }
    if (fa != NULL) {
        fclose(fa);
    }
    return rc;
}

static int
write_script(const struct plot_files *pf, const char *output, const char *title,
             double ymax, char *err, size_t errlen)
{
    FILE *f = fopen(pf->script, "w");

    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", pf->script,
                 strerror(errno));
        return -1;
    }
    fprintf(f, "set terminal pngcairo size 1200,700 font 'sans,10'\n"
               "set output ");
    put_quoted(f, output);
    fprintf(f, "\nset title ");
    put_quoted(f, title);
    fprintf(f,
            " noenhanced\n"
            "set xlabel 'time (s)'\n"
            "set ylabel 'remaining (MiB)'\n"
            "set y2label 'downtime (ms)'\n"
            "set ytics nomirror\nset y2tics\nset grid\n"
            "set yrange [0:%.3f]\nset y2range [0:*]\n"
            "set key outside bottom center horizontal\n"
            "set datafile missing 'NaN'\n",
            ymax);
    fprintf(f, "plot ");
    put_quoted(f, pf->samples);
    fprintf(f, " using 1:2 with lines lw 2 lc rgb '#1f77b4' "
               "title 'memory remaining', \\\n  '' using 1:3 with lines "
               "lw 2 lc rgb '#2ca02c' title 'disk remaining', \\\n"
               "  '' using 1:4 axes x1y2 with steps lw 2 lc rgb '#ff7f0e' "
               "title 'downtime limit', \\\n  '' using 1:5 axes x1y2 with "
               "lines dt 3 lc rgb '#9467bd' title 'expected downtime', \\\n"
               "  ");
    put_quoted(f, pf->passes);
    fprintf(f,
            " using 1:(0):(0):(%.3f) with vectors nohead dt 2 "
            "lc rgb '#999999' title 'new pass', \\\n  ",
            ymax);
    put_quoted(f, pf->actions);
    fprintf(f,
            " using 1:(%.3f) with points pt 7 ps 1.5 lc rgb '#d62728' "
            "title 'action', \\\n  '' using 1:(%.3f):2 with labels "
            "rotate by 90 right offset 0.8,0 tc rgb '#d62728' noenhanced "
            "notitle\n",
            ymax * 0.97, ymax * 0.93);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", pf->script,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs gnuplot SCRIPT without a shell; 0, or -1 with err. */
static int
run_gnuplot(const struct plot_files *pf, char *err, size_t errlen)
{
    pid_t pid;
    int status;

    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int log = open(pf->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (in >= 0) {
            dup2(in, 0);
        }
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        execlp("gnuplot", "gnuplot", pf->script, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(err, errlen,
                 "gnuplot is not installed (Debian: apt-get install "
                 "gnuplot-nox)");
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[256] = "";
        FILE *f = fopen(pf->log, "r");

        if (f != NULL) {
            size_t len = fread(msg, 1, sizeof(msg) - 1, f);

            msg[len] = '\0';
            fclose(f);
        }
        snprintf(err, errlen, "gnuplot failed: %s", msg);
        return -1;
    }
    return 0;
}

int
cmd_plot(struct qm_options *o)
{
    struct plot_files pf;
    char err[1024], title[QM_PATH_MAX * 2 + 64] = "qmigrate";
    struct stat st;
    json_t *lines;
    double ymax;
    int rc = QM_EXIT_USAGE;

    if (has_control(o->output)) {
        fprintf(stderr, "qmigrate: error: plot: -o has a control character\n");
        return QM_EXIT_USAGE;
    }
    lines = trace_load(o->input, err, sizeof(err));
    if (lines == NULL) {
        fprintf(stderr, "qmigrate: error: plot: %s\n", err);
        return QM_EXIT_USAGE;
    }
    snprintf(pf.dir, sizeof(pf.dir), "/tmp/qmigrate-plot.XXXXXX");
    if (mkdtemp(pf.dir) == NULL) {
        fprintf(stderr, "qmigrate: error: plot: mkdtemp: %s\n",
                strerror(errno));
        json_decref(lines);
        return QM_EXIT_FAILED;
    }
    snprintf(pf.samples, sizeof(pf.samples), "%s/samples.dat", pf.dir);
    snprintf(pf.passes, sizeof(pf.passes), "%s/passes.dat", pf.dir);
    snprintf(pf.actions, sizeof(pf.actions), "%s/actions.dat", pf.dir);
    snprintf(pf.script, sizeof(pf.script), "%s/plot.gp", pf.dir);
    snprintf(pf.log, sizeof(pf.log), "%s/gnuplot.log", pf.dir);
    if (write_data(lines, &pf, &ymax, title, sizeof(title), err, sizeof(err)) <
        0) {
        fprintf(stderr, "qmigrate: error: plot: %s\n", err);
        goto out;
    }
    if (has_control(title)) {
        snprintf(title, sizeof(title), "qmigrate");
    }
    if (write_script(&pf, o->output, title, ymax, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmigrate: error: plot: %s\n", err);
        goto out;
    }
    if (run_gnuplot(&pf, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmigrate: error: plot: %s\n", err);
        rc = QM_EXIT_FAILED;
        goto out;
    }
    if (stat(o->output, &st) < 0 || st.st_size == 0) {
        fprintf(stderr, "qmigrate: error: plot: gnuplot wrote no %s\n",
                o->output);
        rc = QM_EXIT_FAILED;
        goto out;
    }
    if (!o->quiet) {
        printf("wrote %s\n", o->output);
    }
    rc = 0;
out:
    unlink(pf.samples);
    unlink(pf.passes);
    unlink(pf.actions);
    unlink(pf.script);
    unlink(pf.log);
    rmdir(pf.dir);
    json_decref(lines);
    return rc;
}
