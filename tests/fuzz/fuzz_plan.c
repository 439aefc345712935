/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the evacuate plan parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qm_options global;
    struct plan plan;
    char *text = malloc(size + 1);
    char err[1024];

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    options_init(&global);
    global.command = CMD_EVACUATE;
    if (plan_parse(text, "fuzz.ini", &global, &plan, err, sizeof(err)) == 0) {
        size_t i;

        for (i = 0; i < plan.n; i++) {
            if (plan.vms[i].opts.source[0] == '\0' ||
                plan.vms[i].opts.uri[0] == '\0') {
                __builtin_trap(); /* validated: both are required */
            }
        }
        plan_free(&plan);
    } else if (strncmp(err, "fuzz.ini", 8) != 0) {
        __builtin_trap();
    }
    free(text);
    return 0;
}
