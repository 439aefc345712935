#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No shell anywhere: qmigrate never runs system(), popen() or a command
# line built for a shell.  It runs two programs: gnuplot, with execlp()
# and fixed arguments (cli/plot.c), and OpenSSH's ssh for ssh:// monitors,
# with execvp() of an argument vector whose first word is "ssh"
# (qmp/ssh.c builds it; tests/unit/test_qmp_ssh.c checks it word by word).
. "$(dirname "$0")/lib.sh"
cd "$TOP" || fail "cd"
hits=$(grep -nE '\b(system|popen|execl|execle|execv|execve|execvp|posix_spawnp?)[[:space:]]*\(' \
    qmp/*.c policy/*.c migrate/*.c cli/*.c |
    grep -v '^cli/plot.c:.*execlp("gnuplot", "gnuplot", pf->script' |
    grep -v '^qmp/tunnel.c:[0-9]*:    execvp(argv\[0\], argv);$')
[ -z "$hits" ] || fail "a way to run programs: $hits"
grep -q 'execlp("gnuplot", "gnuplot", pf->script, (char \*)NULL)' cli/plot.c ||
    fail "plot no longer runs gnuplot as this test expects"
[ "$(grep -c 'execvp(' qmp/tunnel.c)" -eq 1 ] || fail "more than one execvp in qmp/tunnel.c"
grep -q 'argv_push(argv, &n, "ssh")' qmp/ssh.c ||
    fail "the ssh argument vector no longer starts with ssh as this test expects"
echo "PASS"
