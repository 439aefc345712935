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
#include "cli/plot.h"

/*
 * Memory and disk remaining over time, the downtime limit as a step line
 * that steps where it was set (at the set-downtime action, or where a
 * sample first shows a new limit), QEMU's expected downtime, a dashed
 * line at each new pass, and a red mark with a label at each action.
 * Labels lie flat in rows above the curves, so that actions at the same
 * moment are listed one under the other (plot_layout.c).  gnuplot is run
 * directly (no shell) on a script and data files in a private temporary
 * directory.
 */

#define MIB 1048576.0
/* The picture: 1200 x 700 pixels, the plot between these screen
 * fractions; a 10 pt sans character is about 7 pixels wide. */
#define PLOT_LEFT 0.07
#define PLOT_RIGHT 0.92
#define PLOT_PIXELS (1200 * (PLOT_RIGHT - PLOT_LEFT))
#define CHAR_PIXELS 7.2
#define ROW_HEIGHT 0.05 /* of the plot's height, per label row */
#define MAX_ROWS 8
#define MANY_PASSES 40 /* more are drawn as ticks at the bottom, not lines */
#define LABEL_MAX 96

struct plot_files {
    char dir[64];
    char samples[96], limit[96], passes[96], script[96], log[96];
};

/* What the trace says, for the picture. */
struct plot_data {
    char title[QM_PATH_MAX * 2 + 64];
    char subtitle[256];
    double t_end;  /* the last moment in the trace, s */
    double ymax;   /* the most remaining, MiB */
    double dt_max; /* the highest downtime limit or expectation, ms */
    bool has_disk;
    size_t n_passes;
    size_t n_actions, cap_actions;
    struct plot_label *labels;
    char (*texts)[LABEL_MAX];
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

/* Copies text from a trace, with any control character made a '?'. */
static void
copy_printable(char *dst, size_t size, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < size && src[i] != '\0'; i++) {
        dst[i] = (unsigned char)src[i] < 0x20 ? '?' : src[i];
    }
    dst[i] = '\0';
}

/* An action as a label: "set-downtime 620 ms", "set-bandwidth 100 MiB/s". */
static void
action_text(char *dst, size_t size, json_t *line, bool advice)
{
    const char *name = json_string_value(json_object_get(line, "action"));
    json_t *value = json_object_get(line, "value");
    char text[LABEL_MAX];

    if (name == NULL) {
        name = "?";
    }
    if (!json_is_integer(value)) {
        snprintf(text, sizeof(text), "%s%.60s", advice ? "advice: " : "", name);
    } else if (strcmp(name, "set-downtime") == 0) {
        snprintf(text, sizeof(text), "%sset-downtime %lld ms",
                 advice ? "advice: " : "",
                 (long long)json_integer_value(value));
    } else if (strcmp(name, "set-bandwidth") == 0) {
        double mib = (double)json_integer_value(value) / MIB;

        if (mib <= 0) {
            snprintf(text, sizeof(text), "%sset-bandwidth unlimited",
                     advice ? "advice: " : "");
        } else {
            snprintf(text, sizeof(text), "%sset-bandwidth %.*f MiB/s",
                     advice ? "advice: " : "", mib == floor(mib) ? 0 : 1, mib);
        }
    } else {
        snprintf(text, sizeof(text), "%s%.60s %lld", advice ? "advice: " : "",
                 name, (long long)json_integer_value(value));
    }
    copy_printable(dst, size, text);
}

static int
add_action(struct plot_data *d, double t, json_t *line, bool advice, char *err,
           size_t errlen)
{
    if (d->n_actions == d->cap_actions) {
        size_t cap = d->cap_actions ? d->cap_actions * 2 : 16;
        struct plot_label *labels =
            realloc(d->labels, cap * sizeof(*d->labels));
        char(*texts)[LABEL_MAX];

        if (labels == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        d->labels = labels;
        texts = realloc(d->texts, cap * sizeof(*d->texts));
        if (texts == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        d->texts = texts;
        d->cap_actions = cap;
    }
    memset(&d->labels[d->n_actions], 0, sizeof(d->labels[0]));
    d->labels[d->n_actions].t = t;
    action_text(d->texts[d->n_actions], LABEL_MAX, line, advice);
    d->n_actions++;
    return 0;
}

/* The end line's reason, to its first ';': "migration completed after
 * 1.6 s, downtime 33 ms". */
static void
end_subtitle(struct plot_data *d, json_t *line)
{
    const char *reason = json_string_value(json_object_get(line, "reason"));
    char *cut;

    if (reason == NULL) {
        reason = json_string_value(json_object_get(line, "result"));
    }
    copy_printable(d->subtitle, sizeof(d->subtitle), reason ? reason : "");
    cut = strchr(d->subtitle, ';');
    if (cut != NULL) {
        *cut = '\0';
    }
}

/* One sample into the data files. */
static int
put_sample(struct plot_data *d, json_t *line, FILE *fs, FILE *fl, FILE *fp,
           uint64_t *last_pass, char *err, size_t errlen)
{
    struct policy_sample s;
    double mem, disk;

    if (sample_from_json(line, &s, err, errlen) < 0) {
        return -1;
    }
    /* the limit is known from the start; the figures only once active */
    fprintf(fl, "%.6f %llu\n", s.t, (unsigned long long)s.downtime_limit_ms);
    d->dt_max = fmax(d->dt_max, (double)s.downtime_limit_ms);
    d->t_end = fmax(d->t_end, s.t);
    if (s.status == MIGRATION_STATUS_SETUP ||
        s.status == MIGRATION_STATUS_NONE) {
        return 0;
    }
    mem = (double)s.ram_remaining / MIB;
    disk = (double)s.disk_remaining / MIB;
    d->ymax = fmax(d->ymax, fmax(mem, disk));
    d->has_disk = d->has_disk || s.disk_total > 0 || s.disk_remaining > 0;
    fprintf(fs, "%.6f %.3f %.3f ", s.t, mem, disk);
    if (s.expected_downtime_ms >= 0 && s.status == MIGRATION_STATUS_ACTIVE) {
        fprintf(fs, "%lld\n", (long long)s.expected_downtime_ms);
        d->dt_max = fmax(d->dt_max, (double)s.expected_downtime_ms);
    } else {
        fprintf(fs, "NaN\n");
    }
    if (s.ram_dirty_sync_count > *last_pass && *last_pass > 0) {
        fprintf(fp, "%.6f\n", s.t);
        d->n_passes++;
    }
    if (s.ram_dirty_sync_count > *last_pass) {
        *last_pass = s.ram_dirty_sync_count;
    }
    return 1;
}

/* Data files from the trace, and what the picture needs to know. */
static int
write_data(json_t *lines, const struct plot_files *pf, struct plot_data *d,
           char *err, size_t errlen)
{
    FILE *fs = fopen(pf->samples, "w");
    FILE *fl = fopen(pf->limit, "w");
    FILE *fp = fopen(pf->passes, "w");
    uint64_t last_pass = 0, last_limit = 0;
    size_t i, n = 0;
    json_t *line;
    int rc = -1;

    d->ymax = 1.0;
    d->dt_max = 1.0;
    if (fs == NULL || fl == NULL || fp == NULL) {
        snprintf(err, errlen, "cannot write in %s: %s", pf->dir,
                 strerror(errno));
        goto out;
    }
    /* gnuplot needs at least one row in each file it plots */
    fprintf(fp, "# t\n");
    json_array_foreach (lines, i, line) {
        const char *event = json_string_value(json_object_get(line, "event"));
        double t = json_number_value(json_object_get(line, "t"));
        bool advice = strcmp(event, "advice") == 0;
        int put;

        d->t_end = fmax(d->t_end, t);
        if (strcmp(event, "start") == 0) {
            snprintf(d->title, sizeof(d->title), "%s -> %s (policy %s)",
                     json_string_value(json_object_get(line, "source")) ?: "?",
                     json_string_value(json_object_get(line, "uri")) ?: "?",
                     json_string_value(json_object_get(line, "policy")) ?: "?");
        } else if (strcmp(event, "sample") == 0) {
            put = put_sample(d, line, fs, fl, fp, &last_pass, err, errlen);
            if (put < 0) {
                goto out;
            }
            n += (size_t)put;
        } else if (strcmp(event, "action") == 0 || advice) {
            const char *name =
                json_string_value(json_object_get(line, "action"));
            json_t *value = json_object_get(line, "value");

            if (add_action(d, t, line, advice, err, errlen) < 0) {
                goto out;
            }
            /* the limit steps where an action set it */
            if (!advice && name != NULL && strcmp(name, "set-downtime") == 0 &&
                json_is_integer(value) && json_integer_value(value) > 0) {
                last_limit = (uint64_t)json_integer_value(value);
                fprintf(fl, "%.6f %llu\n", t, (unsigned long long)last_limit);
                d->dt_max = fmax(d->dt_max, (double)last_limit);
            }
        } else if (strcmp(event, "end") == 0) {
            end_subtitle(d, line);
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "the trace has no samples to plot");
        goto out;
    }
    rc = 0;
out:
    if (fs != NULL) {
        fclose(fs);
    }
    if (fl != NULL) {
        fclose(fl);
    }
    if (fp != NULL) {
        fclose(fp);
    }
    return rc;
}

/* Rows for the labels; returns how many. */
static int
layout(struct plot_data *d, double xmax)
{
    double per_char = xmax * CHAR_PIXELS / PLOT_PIXELS;
    size_t i;

    for (i = 0; i < d->n_actions; i++) {
        /* the mark, a space, the text */
        d->labels[i].width = per_char * ((double)strlen(d->texts[i]) + 2.0);
    }
    return plot_layout_labels(d->labels, d->n_actions, xmax, per_char,
                              MAX_ROWS);
}

/* Each action: a mark and its text on its row, a dotted line down to the
 * axis.  Texts without room (more at once than MAX_ROWS) keep the line,
 * and a note says how many were left out. */
static void
write_labels(FILE *f, const struct plot_data *d, int rows)
{
    size_t i, left_out = 0;

    for (i = 0; i < d->n_actions; i++) {
        const struct plot_label *l = &d->labels[i];
        double y = 1.0 - ROW_HEIGHT * (0.7 + l->level);

        if (l->level < 0) {
            fprintf(f,
                    "set arrow %zu from first %.6f, graph 0 to first %.6f, "
                    "graph %.4f nohead dt 3 lc rgb '#d62728' back\n",
                    i + 1, l->t, l->t, 1.0 - ROW_HEIGHT * (0.7 + rows - 1));
            left_out++;
            continue;
        }

        fprintf(f, "set label %zu ", i + 1);
        put_quoted(f, d->texts[i]);
        fprintf(f,
                " at first %.6f, graph %.4f %s point pt 7 ps 1 "
                "lc rgb '#d62728' offset character %s,0 "
                "tc rgb '#d62728' noenhanced front\n",
                l->t, y, l->right ? "right" : "left",
                l->right ? "-0.8" : "0.8");
        fprintf(f,
                "set arrow %zu from first %.6f, graph 0 to first %.6f, "
                "graph %.4f nohead dt 3 lc rgb '#d62728' back\n",
                i + 1, l->t, l->t, y);
    }
    if (left_out > 0) {
        fprintf(f,
                "set label %zu '%zu more actions at once than rows here: "
                "qmigrate replay lists them all' at graph 0.99, graph %.4f "
                "right tc rgb '#d62728' front\n",
                d->n_actions + 1, left_out, 1.0 - ROW_HEIGHT * (0.7 + rows));
    }
}

static int
write_script(const struct plot_files *pf, const char *output,
             struct plot_data *d, char *err, size_t errlen)
{
    FILE *f = fopen(pf->script, "w");
    double xmax = d->t_end > 0 ? d->t_end * 1.02 : 1.0;
    int rows = layout(d, xmax), note = 0;
    double room, ymax, dtmax;
    size_t i;

    for (i = 0; i < d->n_actions; i++) {
        if (d->labels[i].level < 0) {
            note = 1; /* a row for the note on the texts left out */
        }
    }
    /* the rows of labels take the top of the plot; the curves the rest */
    room = 1.0 - (rows > 0 ? ROW_HEIGHT * (rows + note + 0.4) : 0.0);
    ymax = d->ymax * 1.05 / room;
    dtmax = d->dt_max * 1.05 / room;

    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", pf->script,
                 strerror(errno));
        return -1;
    }
    fprintf(f, "set terminal pngcairo size 1200,700 font 'sans,10'\n"
               "set output ");
    put_quoted(f, output);
    fprintf(f, "\nset title ");
    put_quoted(f, d->title);
    if (d->subtitle[0] != '\0') {
        fprintf(f, ".\"\\n\".");
        put_quoted(f, d->subtitle);
    }
    fprintf(f,
            " noenhanced\n"
            "set lmargin at screen %.2f\nset rmargin at screen %.2f\n"
            "set tmargin at screen 0.90\nset bmargin at screen 0.17\n"
            "set xlabel 'time (s)'\n"
            "set ylabel 'remaining (MiB)'\n"
            "set y2label 'downtime (ms)'\n"
            "set ytics nomirror\nset y2tics\nset grid\n"
            "set xrange [0:%.6f]\nset yrange [0:%.3f]\nset y2range [0:%.3f]\n"
            "set key at screen 0.5, screen 0.015 center bottom horizontal "
            "samplen 3 spacing 1 width 2\n"
            "set datafile missing 'NaN'\n",
            PLOT_LEFT, PLOT_RIGHT, xmax, ymax, dtmax);
    write_labels(f, d, rows);
    fprintf(f, "plot ");
    put_quoted(f, pf->samples);
    fprintf(f, " using 1:2 with lines lw 2 lc rgb '#1f77b4' "
               "title 'memory remaining', \\\n");
    if (d->has_disk) {
        fprintf(f, "  '' using 1:3 with lines lw 2 lc rgb '#2ca02c' "
                   "title 'disk remaining', \\\n");
    }
    fprintf(f, "  ");
    put_quoted(f, pf->limit);
    /* steps: each value holds until the next point's time */
    fprintf(f, " using 1:2 axes x1y2 with steps lw 2 lc rgb '#ff7f0e' "
               "title 'downtime limit', \\\n  ");
    put_quoted(f, pf->samples);
    fprintf(f, " using 1:4 axes x1y2 with lines dt 3 lw 1.5 "
               "lc rgb '#9467bd' title 'expected downtime', \\\n  ");
    put_quoted(f, pf->passes);
    fprintf(f,
            " using 1:(0):(0):(%.3f) with vectors nohead dt %d "
            "lc rgb '#999999' title 'new pass', \\\n"
            "  NaN with points pt 7 ps 1 lc rgb '#d62728' title 'action'\n",
            d->n_passes > MANY_PASSES ? ymax * 0.02 : d->ymax * 1.05,
            d->n_passes > MANY_PASSES ? 1 : 2);
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
    struct plot_data d;
    char err[1024];
    struct stat st;
    json_t *lines;
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
    snprintf(pf.limit, sizeof(pf.limit), "%s/limit.dat", pf.dir);
    snprintf(pf.passes, sizeof(pf.passes), "%s/passes.dat", pf.dir);
    snprintf(pf.script, sizeof(pf.script), "%s/plot.gp", pf.dir);
    snprintf(pf.log, sizeof(pf.log), "%s/gnuplot.log", pf.dir);
    memset(&d, 0, sizeof(d));
    snprintf(d.title, sizeof(d.title), "qmigrate");
    if (write_data(lines, &pf, &d, err, sizeof(err)) < 0) {
        fprintf(stderr, "qmigrate: error: plot: %s\n", err);
        goto out;
    }
    if (has_control(d.title)) {
        snprintf(d.title, sizeof(d.title), "qmigrate");
    }
    if (write_script(&pf, o->output, &d, err, sizeof(err)) < 0) {
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
    unlink(pf.limit);
    unlink(pf.passes);
    unlink(pf.script);
    unlink(pf.log);
    rmdir(pf.dir);
    free(d.labels);
    free(d.texts);
    json_decref(lines);
    return rc;
}
