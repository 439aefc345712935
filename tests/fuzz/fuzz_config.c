/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the config file parser (INI, option keys and values). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qm_options o;
    char *text = malloc(size + 1);
    char err[1024];

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    options_init(&o);
    o.command = CMD_MIGRATE;
    if (config_apply(&o, text, "fuzz.conf", err, sizeof(err)) < 0 &&
        strncmp(err, "fuzz.conf:", 10) != 0) {
        __builtin_trap(); /* every error names the file and line */
    }
    free(text);
    return 0;
}
