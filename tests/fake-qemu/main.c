/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fake-qemu: the program: options, then serve until told to stop. */
#include "tests/fake-qemu/fake.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
    struct fq_scenario sc;
    struct fq_server *srv;
    struct fq_error err = {"", ""};
    int rc;

    signal(SIGPIPE, SIG_IGN);
    fq_scenario_init(&sc);
    if (fq_scenario_parse_args(&sc, argc, argv, &err) < 0) {
        fprintf(stderr, "fake-qemu: %s\n", err.desc);
        fq_scenario_fini(&sc);
        return 2;
    }
    if (sc.help) {
        fputs(fq_usage, stdout);
        fq_scenario_fini(&sc);
        return 0;
    }
    if (fq_scenario_finish(&sc, &err) < 0) {
        fprintf(stderr, "fake-qemu: %s\n", err.desc);
        fq_scenario_fini(&sc);
        return 2;
    }
    srv = fq_server_new(&sc, &err);
    fq_scenario_fini(&sc);
    if (srv == NULL) {
        fprintf(stderr, "fake-qemu: %s\n", err.desc);
        return 1;
    }
    rc = fq_server_run(srv);
    fq_server_free(srv);
    return rc;
}
