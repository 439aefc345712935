/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy: VDSM convergence schedules, stock profiles and the file format. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

#define LINE_MAX_CHARS 255
#define LIMIT_MAX 1000000

/* One of oVirt's stock policies (ovirt-engine 0000_config.sql). */
struct profile {
    const char *name;
    uint64_t init_ms;
    enum policy_schedule_mode mode;
    size_t n;
    struct policy_schedule_entry entries[10];
};

#define DT(limit, ms)                                                          \
    {                                                                          \
        (limit), POLICY_SCHEDULE_SET_DOWNTIME, (ms)                            \
    }
#define POSTCOPY                                                               \
    {                                                                          \
        -1, POLICY_SCHEDULE_POSTCOPY, 0                                        \
    }
#define ABORT                                                                  \
    {                                                                          \
        -1, POLICY_SCHEDULE_ABORT, 0                                           \
    }

static const struct profile profiles[] = {
    {"minimal-downtime",
     100,
     POLICY_SCHEDULE_ENTRIES,
     6,
     {DT(1, 150), DT(2, 200), DT(3, 300), DT(4, 400), DT(6, 500), ABORT}},
    {"suspend-workload",
     100,
     POLICY_SCHEDULE_ENTRIES,
     7,
     {DT(1, 150), DT(2, 200), DT(3, 300), DT(4, 400), DT(6, 500), DT(-1, 5000),
      ABORT}},
    {"post-copy",
     100,
     POLICY_SCHEDULE_ENTRIES,
     4,
     {DT(1, 150), DT(2, 200), POSTCOPY, ABORT}},
    {"very-large-vms",
     300,
     POLICY_SCHEDULE_ENTRIES,
     7,
     {DT(1, 400), DT(2, 500), DT(3, 700), DT(4, 1000), DT(6, 1500),
      DT(-1, 5000), ABORT}},
    /* Computed from --downtime and --downtime-steps when the state starts. */
    {"legacy", 0, POLICY_SCHEDULE_LEGACY, 0, {DT(0, 0)}},
    {"timed", 0, POLICY_SCHEDULE_TIMED, 0, {DT(0, 0)}},
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

int
policy_schedule_profile(const char *name, struct policy_schedule *out)
{
    size_t i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < N_PROFILES; i++) {
        const struct profile *p = &profiles[i];

        if (strcmp(name, p->name) != 0) {
            continue;
        }
        memset(out, 0, sizeof(*out));
        snprintf(out->name, sizeof(out->name), "%s", p->name);
        out->init_downtime_ms = p->init_ms;
        out->mode = p->mode;
        out->n_entries = p->n;
        memcpy(out->entries, p->entries, p->n * sizeof(p->entries[0]));
        return 0;
    }
    return -1;
}

/* Parsing state for one file. */
struct parser {
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    struct policy_schedule sc;
    unsigned init_line; /* 0: no init yet */
    bool seen_last;
    int prev_limit;
};

static int parse_error(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
parse_error(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->err == NULL || p->errlen == 0) {
        return -1;
    }
    if (p->line > 0) {
        n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, p->line);
    } else {
        n = snprintf(p->err, p->errlen, "%s: ", p->file);
    }
    if (n < 0 || (size_t)n >= p->errlen) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A decimal number without sign, at most max; -1 otherwise. */
static int
parse_number(const char *tok, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*tok == '\0') {
        return -1;
    }
    for (; *tok != '\0'; tok++) {
        if (*tok < '0' || *tok > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(*tok - '0');
        if (v > max) {
            return -1;
        }
    }
    *out = v;
    return 0;
}

/* Splits a line in place into at most max words; returns how many. */
static size_t
split_words(char *line, char **words, size_t max)
{
    size_t n = 0;
    char *c = line;

    for (;;) {
        while (*c == ' ' || *c == '\t' || *c == '\r') {
            c++;
        }
        if (*c == '\0') {
            break;
        }
        if (n == max) {
            return max + 1;
        }
        words[n++] = c;
        while (*c != '\0' && *c != ' ' && *c != '\t' && *c != '\r') {
            c++;
        }
        if (*c != '\0') {
            *c++ = '\0';
        }
    }
    return n;
}

static int
parse_action(struct parser *p, char **w, size_t n,
             struct policy_schedule_entry *e)
{
    uint64_t ms;

    if (strcmp(w[0], "set-downtime") == 0) {
        if (n < 2) {
            return parse_error(p, "set-downtime needs a value in ms");
        }
        if (parse_number(w[1], POLICY_DOWNTIME_MAX_MS, &ms) < 0 || ms == 0) {
            return parse_error(p,
                               "downtime '%s' is not a whole number of "
                               "ms in 1..%d",
                               w[1], POLICY_DOWNTIME_MAX_MS);
        }
        if (n > 2) {
            return parse_error(p, "unexpected '%s' after set-downtime %s", w[2],
                               w[1]);
        }
        e->verb = POLICY_SCHEDULE_SET_DOWNTIME;
        e->downtime_ms = ms;
        return 0;
    }
    if (strcmp(w[0], "postcopy") == 0 || strcmp(w[0], "abort") == 0) {
        if (n > 1) {
            return parse_error(p, "unexpected '%s' after %s", w[1], w[0]);
        }
        e->verb = strcmp(w[0], "abort") == 0 ? POLICY_SCHEDULE_ABORT
                                             : POLICY_SCHEDULE_POSTCOPY;
        e->downtime_ms = 0;
        return 0;
    }
    return parse_error(p,
                       "unknown action '%s' (expected set-downtime MS, "
                       "postcopy or abort)",
                       w[0]);
}

static int
parse_line(struct parser *p, char *line)
{
    char *w[5];
    size_t n;
    char *hash = strchr(line, '#');
    struct policy_schedule_entry e;
    uint64_t limit;

    if (hash != NULL) {
        *hash = '\0';
    }
    n = split_words(line, w, 4);
    if (n == 0) {
        return 0;
    }
    if (n > 4) {
        return parse_error(p, "too many words (expected WHEN ACTION [MS])");
    }
    if (n == 1) {
        return parse_error(p,
                           "'%s' has no action (expected WHEN ACTION "
                           "[MS])",
                           w[0]);
    }
    memset(&e, 0, sizeof(e));
    if (strcmp(w[0], "init") == 0) {
        if (p->init_line != 0) {
            return parse_error(p, "init given twice (first on line %u)",
                               p->init_line);
        }
        if (parse_action(p, w + 1, n - 1, &e) < 0) {
            return -1;
        }
        if (e.verb != POLICY_SCHEDULE_SET_DOWNTIME) {
            return parse_error(p, "init takes only set-downtime, not %s", w[1]);
        }
        p->init_line = p->line;
        p->sc.init_downtime_ms = e.downtime_ms;
        return 0;
    }
    if (strcmp(w[0], "last") == 0 || strcmp(w[0], "-1") == 0) {
        e.limit = -1;
        p->seen_last = true;
    } else if (parse_number(w[0], LIMIT_MAX, &limit) == 0) {
        if (p->seen_last) {
            return parse_error(p,
                               "limit %s after a 'last' entry (numbered "
                               "entries come first)",
                               w[0]);
        }
        if ((int)limit < p->prev_limit) {
            return parse_error(p,
                               "limit %s is below the previous limit %d "
                               "(entries fire in order)",
                               w[0], p->prev_limit);
        }
        e.limit = (int)limit;
        p->prev_limit = e.limit;
    } else {
        return parse_error(p,
                           "'%s' is not 'init', 'last' or an iteration "
                           "limit 0..%d",
                           w[0], LIMIT_MAX);
    }
    if (parse_action(p, w + 1, n - 1, &e) < 0) {
        return -1;
    }
    if (p->sc.n_entries == POLICY_MAX_SCHEDULE) {
        return parse_error(p, "more than %d entries", POLICY_MAX_SCHEDULE);
    }
    p->sc.entries[p->sc.n_entries++] = e;
    return 0;
}

static void
set_name(struct policy_schedule *sc, const char *filename)
{
    const char *base = strrchr(filename, '/');

    base = base != NULL ? base + 1 : filename;
    snprintf(sc->name, sizeof(sc->name), "%s", base);
}

int
policy_schedule_parse(const char *text, const char *filename,
                      struct policy_schedule *out, char *err, size_t errlen)
{
    struct parser p;
    const char *c = text;

    memset(&p, 0, sizeof(p));
    p.file = filename != NULL ? filename : "(schedule)";
    p.err = err;
    p.errlen = errlen;
    p.sc.mode = POLICY_SCHEDULE_ENTRIES;
    set_name(&p.sc, p.file);
    if (text == NULL) {
        return parse_error(&p, "no text");
    }
    while (*c != '\0') {
        char line[LINE_MAX_CHARS + 1];
        const char *eol = strchr(c, '\n');
        size_t len = eol != NULL ? (size_t)(eol - c) : strlen(c);

        p.line++;
        if (len > LINE_MAX_CHARS) {
            return parse_error(&p, "line longer than %d characters",
                               LINE_MAX_CHARS);
        }
        memcpy(line, c, len);
        line[len] = '\0';
        if (parse_line(&p, line) < 0) {
            return -1;
        }
        c += len;
        if (*c == '\n') {
            c++;
        }
    }
    if (p.sc.n_entries == 0 && p.init_line == 0) {
        p.line = 0;
        return parse_error(&p, "no entries (expected lines such as "
                               "'init set-downtime 100', '1 set-downtime "
                               "150', 'last abort')");
    }
    *out = p.sc;
    return 0;
}
