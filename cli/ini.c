/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/ini: the INI format of the config file and the evacuate plan. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ini.h"

#define INI_LINE_MAX 4096

static char *
trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

static int
ini_line(char *line, char *section, size_t section_size, ini_entry_fn *entry,
         void *opaque, char *err, size_t errlen)
{
    char *p = trim(line), *eq, *key, *value;
    size_t i;

    if (*p == '\0' || *p == '#' || *p == ';') {
        return 0;
    }
    for (i = 0; p[i] != '\0'; i++) {
        if ((unsigned char)p[i] < 0x20 && p[i] != '\t') {
            snprintf(err, errlen, "a control character (0x%02x)",
                     (unsigned char)p[i]);
            return -1;
        }
    }
    if (*p == '[') {
        char *close = strchr(p, ']');

        if (close == NULL || trim(close + 1)[0] != '\0') {
            snprintf(err, errlen, "a section header must be '[name]'");
            return -1;
        }
        *close = '\0';
        p = trim(p + 1);
        if (*p == '\0' || strlen(p) >= section_size) {
            snprintf(err, errlen, "a section name must be 1..%zu bytes",
                     section_size - 1);
            return -1;
        }
        snprintf(section, section_size, "%s", p);
        return entry(opaque, section, NULL, NULL, err, errlen);
    }
    eq = strchr(p, '=');
    if (eq == NULL) {
        /* a bare key: a flag, as on the command line */
        if (strpbrk(p, " \t") != NULL) {
            snprintf(err, errlen, "expected 'key = value', got '%.60s'", p);
            return -1;
        }
        return entry(opaque, section, p, "", err, errlen);
    }
    *eq = '\0';
    key = trim(p);
    value = trim(eq + 1);
    if (*key == '\0') {
        snprintf(err, errlen, "a key is missing before '='");
        return -1;
    }
    if (value[0] == '"') {
        size_t len = strlen(value);

        if (len < 2 || value[len - 1] != '"') {
            snprintf(err, errlen, "key '%s': unterminated quote", key);
            return -1;
        }
        value[len - 1] = '\0';
        value++;
    }
    return entry(opaque, section, key, value, err, errlen);
}

int
ini_parse(const char *text, const char *filename, ini_entry_fn *entry,
          void *opaque, char *err, size_t errlen)
{
    char section[128] = "";
    char line[INI_LINE_MAX];
    char why[512];
    const char *p = text;
    int lineno = 0;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        lineno++;
        if (len >= sizeof(line)) {
            snprintf(err, errlen, "%s:%d: the line is longer than %zu bytes",
                     filename, lineno, sizeof(line) - 1);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        why[0] = '\0';
        if (ini_line(line, section, sizeof(section), entry, opaque, why,
                     sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", filename, lineno, why);
            return -1;
        }
        p += len + (nl ? 1 : 0);
    }
    return 0;
}
