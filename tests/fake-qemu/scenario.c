/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: scenario options, from the command line or an INI file. */
#include "tests/fake-qemu/fake.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
fq_scenario_init(struct fq_scenario *sc)
{
    memset(sc, 0, sizeof(*sc));
    fq_model_config_init(&sc->model);
    sc->version.major = 7;
    sc->version.minor = 2;
    sc->version.micro = 22;
    snprintf(sc->version.package, sizeof(sc->version.package),
             "qmigrate fake-qemu");
    sc->time_scale = 1;
    sc->tick_ms = 10;
}

void
fq_scenario_fini(struct fq_scenario *sc)
{
    size_t i;
    size_t j;

    for (i = 0; i < sc->n_vms; i++) {
        for (j = 0; j < sc->vms[i].n_overrides; j++) {
            free(sc->vms[i].overrides[j]);
        }
        free(sc->vms[i].overrides);
    }
    free(sc->vms);
    free(sc->faults);
    memset(sc, 0, sizeof(*sc));
}

/* A number with an optional suffix; *suffix points after the number. */
static int
parse_number(const char *text, double *out, const char **suffix)
{
    char *end;
    double x;

    while (isspace((unsigned char)*text)) {
        text++;
    }
    if (*text == '\0' || *text == '-' || *text == '+') {
        return -1;
    }
    errno = 0;
    x = strtod(text, &end);
    if (errno != 0 || end == text || !isfinite(x) || x < 0) {
        return -1;
    }
    *out = x;
    *suffix = end;
    return 0;
}

static int
binary_suffix(const char *s, double *mult)
{
    static const char units[] = "kmgt";
    const char *u;

    *mult = 1;
    if (*s == '\0') {
        return 0;
    }
    u = strchr(units, tolower((unsigned char)*s));
    if (u == NULL) {
        return -1;
    }
    *mult = pow(1024, (double)(u - units + 1));
    s++;
    if (*s == 'i' || *s == 'I') {
        s++;
    }
    if (*s == 'b' || *s == 'B') {
        s++;
    }
    return *s == '\0' ? 0 : -1;
}

int
fq_parse_size(const char *text, uint64_t *out)
{
    const char *suffix;
    double x;
    double mult;

    if (parse_number(text, &x, &suffix) < 0 ||
        binary_suffix(suffix, &mult) < 0 || x * mult >= 1.8e19) {
        return -1;
    }
    *out = (uint64_t)llround(x * mult);
    return 0;
}

int
fq_parse_rate(const char *text, double *out)
{
    static const struct {
        const char *name;
        double bytes;
    } bits[] = {
        {"bit", 0.125},  {"kbit", 125.0}, {"mbit", 125e3},
        {"gbit", 125e6}, {"tbit", 125e9},
    };
    const char *suffix;
    char unit[16];
    size_t i;
    double x;
    double mult;

    if (parse_number(text, &x, &suffix) < 0) {
        return -1;
    }
    snprintf(unit, sizeof(unit), "%s", suffix);
    if (strlen(unit) > 2 && strcasecmp(unit + strlen(unit) - 2, "/s") == 0) {
        unit[strlen(unit) - 2] = '\0';
    }
    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (strcasecmp(unit, bits[i].name) == 0) {
            *out = x * bits[i].bytes;
            return 0;
        }
    }
    if (binary_suffix(unit, &mult) < 0) {
        return -1;
    }
    *out = x * mult;
    return 0;
}

int
fq_parse_duration(const char *text, double *out)
{
    const char *suffix;
    double x;

    if (parse_number(text, &x, &suffix) < 0) {
        return -1;
    }
    if (*suffix == '\0' || strcmp(suffix, "s") == 0) {
        *out = x;
    } else if (strcmp(suffix, "ms") == 0) {
        *out = x / 1000;
    } else if (strcmp(suffix, "m") == 0 || strcmp(suffix, "min") == 0) {
        *out = x * 60;
    } else if (strcmp(suffix, "h") == 0) {
        *out = x * 3600;
    } else {
        return -1;
    }
    return 0;
}

static int
bad_value(struct fq_error *err, const char *key, const char *value,
          const char *want)
{
    fq_error_set(err, "GenericError", "--%s: '%s' is not %s", key, value, want);
    return -1;
}

/* Model keys: the ones a [vm NAME] section may override.  1 if handled. */
static int
set_model(struct fq_model_config *c, const char *key, const char *value,
          struct fq_error *err)
{
    uint64_t size;
    int rc;
    double x;

    if (strcmp(key, "ram") == 0 || strcmp(key, "page-size") == 0 ||
        strcmp(key, "working-set") == 0 || strcmp(key, "disk") == 0 ||
        strcmp(key, "disk-working-set") == 0) {
        if (fq_parse_size(value, &size) < 0) {
            return bad_value(err, key, value, "a size (like 4G, 512M)");
        }
        if (strcmp(key, "ram") == 0) {
            c->ram_bytes = size;
        } else if (strcmp(key, "page-size") == 0) {
            c->page_size = size;
        } else if (strcmp(key, "working-set") == 0) {
            c->working_set_bytes = size;
        } else if (strcmp(key, "disk") == 0) {
            c->disk_bytes = size;
        } else {
            c->disk_working_set_bytes = size;
        }
        return 1;
    }
    if (strcmp(key, "dirty-rate") == 0 || strcmp(key, "link") == 0 ||
        strcmp(key, "zero-scan-rate") == 0 ||
        strcmp(key, "disk-dirty-rate") == 0) {
        if (fq_parse_rate(value, &x) < 0) {
            return bad_value(err, key, value,
                             "a rate (like 250000, 1G, "
                             "10gbit)");
        }
        if (strcmp(key, "dirty-rate") == 0) {
            c->dirty_rate = x;
        } else if (strcmp(key, "link") == 0) {
            c->link_bandwidth = x;
        } else if (strcmp(key, "zero-scan-rate") == 0) {
            c->zero_scan_rate = x;
        } else {
            c->disk_dirty_rate = x;
        }
        return 1;
    }
    if (strcmp(key, "setup-time") == 0 || strcmp(key, "switchover-time") == 0 ||
        strcmp(key, "cancel-time") == 0) {
        if (fq_parse_duration(value, &x) < 0) {
            return bad_value(err, key, value, "a duration (like 5ms, 2s)");
        }
        if (strcmp(key, "setup-time") == 0) {
            c->setup_ms = x * 1000;
        } else if (strcmp(key, "switchover-time") == 0) {
            c->switchover_ms = x * 1000;
        } else {
            c->cancel_ms = x * 1000;
        }
        return 1;
    }
    if (strcmp(key, "zero-share") == 0) {
        const char *rest;

        if (parse_number(value, &x, &rest) < 0 || *rest != '\0' || x > 1) {
            return bad_value(err, key, value, "a share between 0 and 1");
        }
        c->zero_share = x;
        return 1;
    }
    if (strcmp(key, "zero-pages") == 0) {
        if (strcmp(value, "last") == 0) {
            c->zero_pages_last = true;
        } else if (strcmp(value, "mixed") == 0) {
            c->zero_pages_last = false;
        } else {
            return bad_value(err, key, value, "'last' or 'mixed'");
        }
        return 1;
    }
    rc = fq_dirtyrate_set_model(c, key, value, err);
    return rc != 0 ? rc : fq_scenario_set_levers(c, key, value, err);
}

static int
add_fault(struct fq_scenario *sc, const char *spec, const char *vm,
          struct fq_error *err)
{
    struct fq_fault f;
    struct fq_fault *n;

    if (fq_fault_parse(spec, &f, err) < 0) {
        return -1;
    }
    if (vm != NULL) {
        snprintf(f.vm, sizeof(f.vm), "%s", vm);
    }
    n = realloc(sc->faults, (sc->n_faults + 1) * sizeof(*n));
    if (n == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
        return -1;
    }
    sc->faults = n;
    sc->faults[sc->n_faults++] = f;
    return 0;
}

static struct fq_vm_spec *
add_vm(struct fq_scenario *sc, const char *name, const char *addr,
       struct fq_error *err)
{
    struct fq_vm_spec *n;
    size_t i;

    if (*name == '\0' || strlen(name) >= FQ_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") != strlen(name)) {
        fq_error_set(err, "GenericError",
                     "'%s' is not a VM name (letters, "
                     "digits, '-', '_', '.')",
                     name);
        return NULL;
    }
    for (i = 0; i < sc->n_vms; i++) {
        if (strcmp(sc->vms[i].name, name) == 0) {
            fq_error_set(err, "GenericError", "VM '%s' is defined twice", name);
            return NULL;
        }
    }
    if (strlen(addr) >= FQ_ADDR_MAX) {
        fq_error_set(err, "GenericError", "address of VM '%s' is too long",
                     name);
        return NULL;
    }
    n = realloc(sc->vms, (sc->n_vms + 1) * sizeof(*n));
    if (n == NULL) {
        fq_error_set(err, "GenericError", "out of memory");
        return NULL;
    }
    sc->vms = n;
    n = &sc->vms[sc->n_vms++];
    memset(n, 0, sizeof(*n));
    snprintf(n->name, sizeof(n->name), "%s", name);
    snprintf(n->addr, sizeof(n->addr), "%s", addr);
    return n;
}

int
fq_scenario_set(struct fq_scenario *sc, const char *key, const char *value,
                struct fq_error *err)
{
    int rc = set_model(&sc->model, key, value, err);
    const char *rest;
    double x;

    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    if (strcmp(key, "qmp") == 0) {
        return add_vm(sc, "vm", value, err) ? 0 : -1;
    } else if (strcmp(key, "vm") == 0) {
        char name[FQ_NAME_MAX];
        const char *colon = strchr(value, ':');

        if (colon == NULL || (size_t)(colon - value) >= sizeof(name)) {
            return bad_value(err, key, value, "NAME:ADDRESS");
        }
        snprintf(name, sizeof(name), "%.*s", (int)(colon - value), value);
        return add_vm(sc, name, colon + 1, err) ? 0 : -1;
    } else if (strcmp(key, "count") == 0) {
        if (parse_number(value, &x, &rest) < 0 || *rest != '\0' || x < 1 ||
            x > 100000 || x != floor(x)) {
            return bad_value(err, key, value, "a count from 1 to 100000");
        }
        sc->count = (unsigned)x;
    } else if (strcmp(key, "qmp-dir") == 0) {
        if (strlen(value) >= sizeof(sc->qmp_dir) - 32) {
            return bad_value(err, key, value, "a shorter directory");
        }
        snprintf(sc->qmp_dir, sizeof(sc->qmp_dir), "%s", value);
    } else if (strcmp(key, "time-scale") == 0) {
        if (parse_number(value, &x, &rest) < 0 || *rest != '\0' || x <= 0) {
            return bad_value(err, key, value, "a positive number");
        }
        sc->time_scale = x;
    } else if (strcmp(key, "tick") == 0) {
        if (fq_parse_duration(value, &x) < 0 || x < 0.001 || x > 1) {
            return bad_value(err, key, value, "a duration from 1ms to 1s");
        }
        sc->tick_ms = x * 1000;
    } else if (strcmp(key, "version") == 0) {
        if (fq_version_parse(value, &sc->version, err) < 0) {
            return bad_value(err, key, value,
                             "a QEMU version 7.2.0 or later "
                             "(like 9.1.0)");
        }
    } else if (strcmp(key, "package") == 0) {
        snprintf(sc->version.package, sizeof(sc->version.package), "%s", value);
    } else if (strcmp(key, "fault") == 0) {
        return add_fault(sc, value, NULL, err);
    } else if (strcmp(key, "scenario") == 0) {
        return fq_scenario_load(sc, value, err);
    } else {
        fq_error_set(err, "GenericError",
                     "unknown option '%s' (see "
                     "fake-qemu --help)",
                     key);
        return -1;
    }
    return 0;
}

int
fq_scenario_parse_args(struct fq_scenario *sc, int argc, char **argv,
                       struct fq_error *err)
{
    int i;

    for (i = 1; i < argc; i++) {
        char key[64];
        const char *arg = argv[i];
        const char *value;
        const char *eq;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            sc->help = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            fq_error_set(err, "GenericError",
                         "unexpected argument '%s' "
                         "(options start with --)",
                         arg);
            return -1;
        }
        arg += 2;
        eq = strchr(arg, '=');
        if (eq != NULL) {
            snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
            value = eq + 1;
        } else {
            snprintf(key, sizeof(key), "%s", arg);
            if (i + 1 >= argc) {
                fq_error_set(err, "GenericError", "option --%s needs a value",
                             key);
                return -1;
            }
            value = argv[++i];
        }
        if (fq_scenario_set(sc, key, value, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static char *
trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

static int
add_override(struct fq_vm_spec *vm, const char *key, const char *value)
{
    char **n = realloc(vm->overrides, (vm->n_overrides + 1) * sizeof(*n));
    size_t len = strlen(key) + strlen(value) + 2;

    if (n == NULL) {
        return -1;
    }
    vm->overrides = n;
    n[vm->n_overrides] = malloc(len);
    if (n[vm->n_overrides] == NULL) {
        return -1;
    }
    snprintf(n[vm->n_overrides], len, "%s=%s", key, value);
    vm->n_overrides++;
    return 0;
}

/* One line inside [vm NAME]: qmp, fault, or a model key. */
static int
vm_line(struct fq_scenario *sc, size_t vm, const char *key, const char *value,
        struct fq_error *err)
{
    struct fq_model_config scratch = sc->model;
    struct fq_vm_spec *spec = &sc->vms[vm];

    if (strcmp(key, "qmp") == 0) {
        if (strlen(value) >= sizeof(spec->addr)) {
            return bad_value(err, key, value, "a shorter address");
        }
        snprintf(spec->addr, sizeof(spec->addr), "%s", value);
        return 0;
    }
    if (strcmp(key, "fault") == 0) {
        return add_fault(sc, value, spec->name, err);
    }
    switch (set_model(&scratch, key, value, err)) {
    case 1:
        if (add_override(spec, key, value) < 0) {
            fq_error_set(err, "GenericError", "out of memory");
            return -1;
        }
        return 0;
    case 0:
        fq_error_set(err, "GenericError", "'%s' cannot be set per VM", key);
        return -1;
    default:
        return -1;
    }
}

int
fq_scenario_load(struct fq_scenario *sc, const char *path, struct fq_error *err)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    unsigned lineno = 0;
    long vm = -1;
    int rc = -1;

    if (f == NULL) {
        fq_error_set(err, "GenericError", "%s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        struct fq_error e = {"", ""};
        char *s;
        char *eq;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fq_error_set(err, "GenericError", "%s:%u: line too long", path,
                         lineno);
            goto out;
        }
        s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';') {
            continue;
        }
        if (*s == '[') {
            char *end = strchr(s, ']');

            if (end == NULL || end[1] != '\0' || strncmp(s, "[vm ", 4) != 0) {
                fq_error_set(err, "GenericError",
                             "%s:%u: expected a section "
                             "like [vm NAME], not '%s'",
                             path, lineno, s);
                goto out;
            }
            *end = '\0';
            if (add_vm(sc, trim(s + 4), "", &e) == NULL) {
                fq_error_set(err, "GenericError", "%s:%u: %s", path, lineno,
                             e.desc);
                goto out;
            }
            vm = (long)sc->n_vms - 1;
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            fq_error_set(err, "GenericError",
                         "%s:%u: expected KEY = VALUE, "
                         "not '%s'",
                         path, lineno, s);
            goto out;
        }
        *eq = '\0';
        if ((vm < 0 ? fq_scenario_set(sc, trim(s), trim(eq + 1), &e)
                    : vm_line(sc, (size_t)vm, trim(s), trim(eq + 1), &e)) < 0) {
            fq_error_set(err, "GenericError", "%s:%u: %s", path, lineno,
                         e.desc);
            goto out;
        }
    }
    if (ferror(f)) {
        fq_error_set(err, "GenericError", "%s: read error", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

int
fq_scenario_vm_config(const struct fq_scenario *sc, const struct fq_vm_spec *vm,
                      struct fq_model_config *cfg, struct fq_error *err)
{
    size_t i;

    *cfg = sc->model;
    for (i = 0; i < vm->n_overrides; i++) {
        char key[64];
        const char *eq = strchr(vm->overrides[i], '=');

        snprintf(key, sizeof(key), "%.*s", (int)(eq - vm->overrides[i]),
                 vm->overrides[i]);
        if (set_model(cfg, key, eq + 1, err) < 0) {
            return -1;
        }
    }
    if (fq_model_config_check(cfg, err) < 0) {
        char msg[sizeof(err->desc)];

        snprintf(msg, sizeof(msg), "%s", err->desc);
        fq_error_set(err, "GenericError", "VM '%s': %s", vm->name, msg);
        return -1;
    }
    return 0;
}

int
fq_scenario_finish(struct fq_scenario *sc, struct fq_error *err)
{
    struct fq_model_config cfg;
    size_t i;
    size_t j;

    if ((sc->count != 0) != (sc->qmp_dir[0] != '\0')) {
        fq_error_set(err, "GenericError", "--count and --qmp-dir go together");
        return -1;
    }
    for (i = 1; i <= sc->count; i++) {
        char name[32];
        char addr[FQ_ADDR_MAX + 64];

        snprintf(name, sizeof(name), "vm%zu", i);
        snprintf(addr, sizeof(addr), "unix:%s/%s.sock", sc->qmp_dir, name);
        if (add_vm(sc, name, addr, err) == NULL) {
            return -1;
        }
    }
    if (sc->n_vms == 0) {
        fq_error_set(err, "GenericError",
                     "no monitor to serve: give --qmp, "
                     "--vm, --count with --qmp-dir, or [vm] sections");
        return -1;
    }
    for (i = 0; i < sc->n_vms; i++) {
        if (sc->vms[i].addr[0] == '\0') {
            fq_error_set(err, "GenericError", "VM '%s' has no qmp address",
                         sc->vms[i].name);
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(sc->vms[i].addr, sc->vms[j].addr) == 0) {
                fq_error_set(err, "GenericError",
                             "VMs '%s' and '%s' share "
                             "the address %s",
                             sc->vms[j].name, sc->vms[i].name, sc->vms[i].addr);
                return -1;
            }
        }
        if (fq_scenario_vm_config(sc, &sc->vms[i], &cfg, err) < 0) {
            return -1;
        }
    }
    for (i = 0; i < sc->n_faults; i++) {
        const char *vm = sc->faults[i].vm;

        for (j = 0; vm[0] != '\0' && j < sc->n_vms; j++) {
            if (strcmp(sc->vms[j].name, vm) == 0) {
                break;
            }
        }
        if (vm[0] != '\0' && j == sc->n_vms) {
            fq_error_set(err, "GenericError", "fault '%s': no VM named '%s'",
                         sc->faults[i].text, vm);
            return -1;
        }
    }
    return 0;
}
