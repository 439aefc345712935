/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cli/config: the config file, with the same keys as the long options. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ini.h"

static int
config_entry(void *opaque, const char *section, const char *key,
             const char *value, char *err, size_t errlen)
{
    struct qm_options *o = opaque;
    const struct option_spec *spec;
    char why[512];

    if (key == NULL) {
        snprintf(err, errlen,
                 "section [%s]: the config file has no sections (plans do)",
                 section);
        return -1;
    }
    spec = option_find(key);
    if (spec == NULL || !(spec->where & OPTION_IN_CONFIG)) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    if (!(spec->commands & o->command)) {
        return 0; /* another command's setting */
    }
    if (spec->arg == NULL && value[0] == '\0') {
        value = "true";
    }
    if (options_set(o, key, value, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "key '%s': %s", key, why);
        return -1;
    }
    return 0;
}

int
config_apply(struct qm_options *o, const char *text, const char *filename,
             char *err, size_t errlen)
{
    return ini_parse(text, filename, config_entry, o, err, errlen);
}
