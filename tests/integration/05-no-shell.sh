#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No shell anywhere: qmigrate never runs system(), popen() or a command
# line built for a shell.  The only program it runs is gnuplot, with
# execlp() and fixed arguments (cli/plot.c).
. "$(dirname "$0")/lib.sh"
cd "$TOP" || fail "cd"
hits=$(grep -nE '\b(system|popen|execl|execle|execv|execve|execvp|posix_spawnp?)[[:space:]]*\(' \
    qmp/*.c policy/*.c cli/*.c | grep -v '^cli/plot.c:.*execlp("gnuplot", "gnuplot", pf->script')
[ -z "$hits" ] || fail "a way to run programs: $hits"
grep -q 'execlp("gnuplot", "gnuplot", pf->script, (char \*)NULL)' cli/plot.c ||
    fail "plot no longer runs gnuplot as this test expects"
echo "PASS"
