/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the fault grammar, and when each VM's faults fire. */
#include "tests/fake-qemu/fake.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum fq_action action;
} actions[] = {
    {"hangup", FQ_ACT_HANGUP},
    {"hangup-mid-message", FQ_ACT_HANGUP_MID},
    {"garbage-json", FQ_ACT_GARBAGE_JSON},
    {"bad-utf8", FQ_ACT_BAD_UTF8},
    {"late", FQ_ACT_LATE},
    {"error", FQ_ACT_ERROR},
    {"fail-migration", FQ_ACT_FAIL_MIGRATION},
    {"stall-bandwidth", FQ_ACT_STALL},
    {"restore-bandwidth", FQ_ACT_UNSTALL},
    {"dirty-rate", FQ_ACT_DIRTY_RATE},
    {"die", FQ_ACT_DIE},
    {"break-stream", FQ_ACT_BREAK_STREAM},
};

#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

const char *
fq_action_name(enum fq_action a)
{
    size_t i;

    for (i = 0; i < N_ACTIONS; i++) {
        if (actions[i].action == a) {
            return actions[i].name;
        }
    }
    return "?";
}

bool
fq_action_on_reply(enum fq_action a)
{
    switch (a) {
    case FQ_ACT_HANGUP:
    case FQ_ACT_HANGUP_MID:
    case FQ_ACT_GARBAGE_JSON:
    case FQ_ACT_BAD_UTF8:
    case FQ_ACT_LATE:
    case FQ_ACT_ERROR:
        return true;
    case FQ_ACT_FAIL_MIGRATION:
    case FQ_ACT_STALL:
    case FQ_ACT_UNSTALL:
    case FQ_ACT_DIRTY_RATE:
    case FQ_ACT_DIE:
    case FQ_ACT_BREAK_STREAM:
        break;
    }
    return false;
}

static int bad(struct fq_error *err, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(struct fq_error *err, const char *spec, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fq_error_set(err, "GenericError", "fault '%s': %s", spec, msg);
    return -1;
}

static int
parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long x;

    if (!isdigit((unsigned char)*s)) {
        return -1;
    }
    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || x == 0) {
        return -1;
    }
    *out = x;
    return 0;
}

static bool
name_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') {
            return false;
        }
    }
    return true;
}

static int
parse_trigger(const char *spec, char *word, struct fq_fault *f,
              struct fq_error *err)
{
    char *colon;

    if (strncmp(word, "at=", 3) == 0) {
        f->trigger = FQ_TRIG_AT;
        if (fq_parse_duration(word + 3, &f->at) < 0) {
            return bad(err, spec, "'%s' is not a duration (like 5s, 500ms)",
                       word + 3);
        }
        return 0;
    }
    if (strncmp(word, "on=", 3) != 0) {
        return bad(err, spec, "expected at=TIME or on=EVENT, not '%s'", word);
    }
    word += 3;
    colon = strchr(word, ':');
    if (colon != NULL) {
        *colon++ = '\0';
    }
    f->n = 1;
    if (strcmp(word, "status") == 0) {
        int st = colon ? fq_status_from_name(colon) : -1;

        if (st <= FQ_STATUS_NONE) {
            return bad(err, spec,
                       "on=status needs a migration status, "
                       "like on=status:active, not '%s'",
                       colon ? colon : "");
        }
        f->trigger = FQ_TRIG_STATUS;
        f->status = (enum fq_status)st;
        return 0;
    }
    if (strcmp(word, "pass") == 0) {
        f->trigger = FQ_TRIG_PASS;
        if (colon == NULL || parse_count(colon, &f->n) < 0) {
            return bad(err, spec,
                       "on=pass needs a pass number, like "
                       "on=pass:3, not '%s'",
                       colon ? colon : "");
        }
        return 0;
    }
    if (!name_ok(word)) {
        return bad(err, spec, "'%s' is not a command name", word);
    }
    if (colon != NULL && parse_count(colon, &f->n) < 0) {
        return bad(err, spec, "'%s' is not a count of 1 or more", colon);
    }
    if (strcmp(word, "connect") == 0) {
        f->trigger = FQ_TRIG_CONNECT;
    } else {
        f->trigger = FQ_TRIG_COMMAND;
        snprintf(f->command, sizeof(f->command), "%s", word);
    }
    return 0;
}

static int
parse_error_arg(const char *spec, const char *arg, struct fq_fault *f,
                struct fq_error *err)
{
    static const char *const classes[] = {
        "GenericError",   "CommandNotFound", "DeviceNotActive",
        "DeviceNotFound", "KVMMissingCap",
    };
    const char *colon = arg ? strchr(arg, ':') : NULL;
    size_t len;
    size_t i;

    snprintf(f->cls, sizeof(f->cls), "GenericError");
    snprintf(f->desc, sizeof(f->desc), "fake-qemu: injected error");
    if (arg == NULL || *arg == '\0') {
        return 0;
    }
    len = colon ? (size_t)(colon - arg) : strlen(arg);
    for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strlen(classes[i]) == len && strncmp(classes[i], arg, len) == 0) {
            snprintf(f->cls, sizeof(f->cls), "%s", classes[i]);
            if (colon != NULL && colon[1] != '\0') {
                snprintf(f->desc, sizeof(f->desc), "%s", colon + 1);
            }
            return 0;
        }
    }
    return bad(err, spec,
               "error class must be GenericError, "
               "CommandNotFound, DeviceNotActive, DeviceNotFound or "
               "KVMMissingCap, not '%s'",
               arg);
}

static int
parse_action(const char *spec, char *word, char *arg, struct fq_fault *f,
             struct fq_error *err)
{
    size_t i;

    for (i = 0; i < N_ACTIONS; i++) {
        if (strcmp(actions[i].name, word) == 0) {
            break;
        }
    }
    if (i == N_ACTIONS) {
        return bad(err, spec, "unknown action '%s' (see fake-qemu --help)",
                   word);
    }
    f->action = actions[i].action;
    switch (f->action) {
    case FQ_ACT_LATE:
        if (arg == NULL || fq_parse_duration(arg, &f->seconds) < 0) {
            return bad(err, spec,
                       "late needs a duration, like late:3s, "
                       "not '%s'",
                       arg ? arg : "");
        }
        return 0;
    case FQ_ACT_STALL:
        if (arg != NULL && fq_parse_duration(arg, &f->seconds) < 0) {
            return bad(err, spec,
                       "stall-bandwidth takes a duration, not "
                       "'%s'",
                       arg);
        }
        return 0;
    case FQ_ACT_DIRTY_RATE:
        if (arg == NULL || fq_parse_rate(arg, &f->rate) < 0) {
            return bad(err, spec,
                       "dirty-rate needs pages/s, like "
                       "dirty-rate:50000, not '%s'",
                       arg ? arg : "");
        }
        return 0;
    case FQ_ACT_ERROR:
        return parse_error_arg(spec, arg, f, err);
    case FQ_ACT_FAIL_MIGRATION:
        snprintf(f->desc, sizeof(f->desc), "%s",
                 arg && *arg ? arg : "Unable to write to socket: Broken pipe");
        return 0;
    case FQ_ACT_BREAK_STREAM:
        snprintf(f->desc, sizeof(f->desc), "%s", arg ? arg : "");
        return 0;
    case FQ_ACT_HANGUP:
    case FQ_ACT_HANGUP_MID:
    case FQ_ACT_GARBAGE_JSON:
    case FQ_ACT_BAD_UTF8:
    case FQ_ACT_UNSTALL:
    case FQ_ACT_DIE:
        break;
    }
    if (arg != NULL) {
        return bad(err, spec, "this action takes no argument ('%s')", arg);
    }
    return 0;
}

/*
 * SPEC := [vm=NAME] (at=TIME | on=EVENT[:N]) [after=TIME] ACTION[(:| )ARG]
 * Words are separated by spaces; an action's argument runs to the end.
 */
int
fq_fault_parse(const char *spec, struct fq_fault *f, struct fq_error *err)
{
    char buf[512];
    char *p = buf;
    char *word;
    char *arg;
    bool have_trigger = false;

    memset(f, 0, sizeof(*f));
    snprintf(f->text, sizeof(f->text), "%s", spec);
    if (strlen(spec) >= sizeof(buf)) {
        return bad(err, "...", "longer than %zu characters", sizeof(buf) - 1);
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            return bad(err, spec, "%s",
                       have_trigger ? "no action given"
                                    : "no trigger (at=TIME or on=EVENT) given");
        }
        word = p;
        p += strcspn(p, " \t");
        if (*p != '\0') {
            *p++ = '\0';
        }
        if (strncmp(word, "vm=", 3) == 0 && !have_trigger) {
            if (!name_ok(word + 3) || strlen(word + 3) >= FQ_NAME_MAX) {
                return bad(err, spec, "'%s' is not a VM name", word + 3);
            }
            snprintf(f->vm, sizeof(f->vm), "%s", word + 3);
        } else if (!have_trigger) {
            if (parse_trigger(spec, word, f, err) < 0) {
                return -1;
            }
            have_trigger = true;
        } else if (strncmp(word, "after=", 6) == 0) {
            if (fq_parse_duration(word + 6, &f->after) < 0) {
                return bad(err, spec, "'%s' is not a duration", word + 6);
            }
        } else {
            break;
        }
    }
    arg = strchr(word, ':');
    if (arg != NULL) {
        *arg++ = '\0';
        if (*p != '\0') {
            /* "error:GenericError:two words" keeps its spaces */
            arg[strlen(arg)] = ' ';
        }
    } else {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        arg = *p != '\0' ? p : NULL;
    }
    return parse_action(spec, word, arg, f, err);
}

int
fq_faults_init(struct fq_faults *fs, const struct fq_fault *all, size_t n,
               const char *name)
{
    size_t i;

    memset(fs, 0, sizeof(*fs));
    fs->list = calloc(n ? n : 1, sizeof(*fs->list));
    fs->due = calloc(n ? n : 1, sizeof(*fs->due));
    fs->fired = calloc(n ? n : 1, sizeof(*fs->fired));
    fs->count = calloc(n ? n : 1, sizeof(*fs->count));
    if (!fs->list || !fs->due || !fs->fired || !fs->count) {
        fq_faults_fini(fs);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (all[i].vm[0] != '\0' && strcmp(all[i].vm, name) != 0) {
            continue;
        }
        fs->list[fs->n] = all[i];
        fs->due[fs->n] = all[i].trigger == FQ_TRIG_AT ? all[i].at : -1;
        fs->n++;
    }
    return 0;
}

void
fq_faults_fini(struct fq_faults *fs)
{
    free(fs->list);
    free(fs->due);
    free(fs->fired);
    free(fs->count);
    memset(fs, 0, sizeof(*fs));
}

/* An occurrence fires fault i: on this reply, or due after its delay. */
static int
occur(struct fq_faults *fs, size_t i, double now, int *hit)
{
    const struct fq_fault *f = &fs->list[i];

    if (f->after == 0 && fq_action_on_reply(f->action) && *hit < 0) {
        fs->fired[i] = true;
        *hit = (int)i;
        return 1;
    }
    fs->due[i] = now + f->after;
    return 0;
}

int
fq_faults_command(struct fq_faults *fs, const char *command, double now)
{
    int hit = -1;
    size_t i;

    for (i = 0; i < fs->n; i++) {
        if (fs->fired[i] || fs->due[i] >= 0 ||
            fs->list[i].trigger != FQ_TRIG_COMMAND ||
            strcmp(fs->list[i].command, command) != 0) {
            continue;
        }
        if (++fs->count[i] == fs->list[i].n) {
            occur(fs, i, now, &hit);
        }
    }
    return hit;
}

int
fq_faults_connect(struct fq_faults *fs, double now)
{
    int hit = -1;
    size_t i;

    for (i = 0; i < fs->n; i++) {
        if (fs->fired[i] || fs->due[i] >= 0 ||
            fs->list[i].trigger != FQ_TRIG_CONNECT) {
            continue;
        }
        if (++fs->count[i] == fs->list[i].n) {
            occur(fs, i, now, &hit);
        }
    }
    return hit;
}

void
fq_faults_event(struct fq_faults *fs, const struct fq_event *ev, double now)
{
    size_t i;

    for (i = 0; i < fs->n; i++) {
        const struct fq_fault *f = &fs->list[i];

        if (fs->fired[i] || fs->due[i] >= 0) {
            continue;
        }
        if ((f->trigger == FQ_TRIG_PASS &&
             ev->type == FQ_EVENT_MIGRATION_PASS && ev->pass == f->n) ||
            (f->trigger == FQ_TRIG_STATUS && ev->type == FQ_EVENT_MIGRATION &&
             ev->status == f->status)) {
            fs->due[i] = now + f->after;
        }
    }
}

int
fq_faults_next_due(struct fq_faults *fs, double now)
{
    size_t i;

    for (i = 0; i < fs->n; i++) {
        if (!fs->fired[i] && fs->due[i] >= 0 && fs->due[i] <= now) {
            fs->fired[i] = true;
            return (int)i;
        }
    }
    return -1;
}
