/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/runstat: run a command, report its CPU time and peak RSS as JSON. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * runstat OUT.json [-n NOFILE] -- COMMAND [ARGS...]
 *
 * Runs COMMAND (stdin, stdout and stderr are its own) and writes one JSON
 * line to OUT.json: wall seconds, user and system CPU seconds, peak RSS
 * (the kernel's ru_maxrss, which is /proc/PID/status VmHWM at exit) and
 * how it ended.  Only that process is counted: wait4() reports the child
 * alone.  SIGINT and SIGTERM are passed on to it.  -n raises the open file
 * limit first (soft up to the hard limit).  Exits with the command's
 * status.
 */

static pid_t child = -1;

static void
forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv(const struct timeval *t)
{
    return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
    struct sigaction sa;
    struct rusage ru;
    struct rlimit rl;
    const char *out;
    double t0, wall;
    int status, a = 2, code;
    FILE *f;

    if (argc < 4) {
        goto usage;
    }
    out = argv[1];
    if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
        rlim_t want = (rlim_t)strtoull(argv[a + 1], NULL, 10);

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
            rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        a += 2;
    }
    if (a >= argc || strcmp(argv[a], "--") != 0 || a + 1 >= argc) {
        goto usage;
    }
    a++;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    t0 = now();
    child = fork();
    if (child < 0) {
        fprintf(stderr, "runstat: fork: %s\n", strerror(errno));
        return 127;
    }
    if (child == 0) {
        execvp(argv[a], argv + a);
        fprintf(stderr, "runstat: %s: %s\n", argv[a], strerror(errno));
        _exit(127);
    }
    while (wait4(child, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "runstat: wait4: %s\n", strerror(errno));
            return 127;
        }
    }
    wall = now() - t0;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    f = fopen(out, "w");
    if (f == NULL) {
        fprintf(stderr, "runstat: %s: %s\n", out, strerror(errno));
        return 127;
    }
    fprintf(f,
            "{\"wall_s\":%.3f,\"user_s\":%.3f,\"sys_s\":%.3f,"
            "\"cpu_s\":%.3f,\"maxrss_kib\":%ld,\"exit\":%d}\n",
            wall, tv(&ru.ru_utime), tv(&ru.ru_stime),
            tv(&ru.ru_utime) + tv(&ru.ru_stime), ru.ru_maxrss, code);
    if (fclose(f) != 0) {
        fprintf(stderr, "runstat: %s: %s\n", out, strerror(errno));
        return 127;
    }
    return code;

usage:
    fprintf(stderr, "usage: runstat OUT.json [-n NOFILE] -- COMMAND "
                    "[ARGS...]\n");
    return 2;
}
