/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: ssh:// monitor addresses, the ssh argv built from them, and
 * the reading of ssh's stderr. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmp/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qmp_ssh_url url;
    struct qmp_error err;
    char *text = malloc(size + 1);
    char line[300];
    char **argv;
    size_t i;

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    qmp_ssh_explain(text, line, sizeof(line));
    if (qmp_ssh_parse(text, &url, &err) == 0) {
        const char *opts[] = {text + 6};

        /* a parsed address always makes a vector: ssh, then the host last */
        argv = qmp_ssh_argv(&url, "/tmp/q/monitor.sock", NULL, 0, 5, &err);
        if (argv == NULL || strcmp(argv[0], "ssh") != 0) {
            __builtin_trap();
        }
        for (i = 0; argv[i + 1] != NULL; i++) {
        }
        if (strcmp(argv[i], url.host) != 0 || url.host[0] == '-' ||
            url.path[0] != '/') {
            __builtin_trap();
        }
        qmp_ssh_argv_free(argv);
        argv = qmp_ssh_argv(&url, "/tmp/q/monitor.sock", opts, 1, 5, &err);
        qmp_ssh_argv_free(argv);
    } else if (err.kind != QMP_ERROR_ADDRESS || err.message[0] == '\0') {
        __builtin_trap(); /* every refusal says why */
    }
    free(text);
    return 0;
}
