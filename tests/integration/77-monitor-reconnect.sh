#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A source monitor that closes and reopens mid-migration: qmigrate makes
# one reconnect attempt and follows the migration to its end.  When the
# monitor does not come back (QEMU died), exit 4 names both failures.
. "$(dirname "$0")/lib.sh"

EASY=(--ram 4G --working-set 32M --link 10gbit)

start_fake hup "${EASY[@]}" --fault 'on=migrate after=1s hangup'
timeout 60 "$QMIGRATE" migrate --source "$T/hup.qmp" --to tcp:127.0.0.1:4444 \
    --json >"$T/hup.json" 2>"$T/hup.err"
expect_code 0 $? "hangup, then reconnect"
expect_grep "reconnecting once" "$T/hup.err"
expect_grep "reconnected to the source monitor" "$T/hup.err"
expect_grep '"result":"completed"' "$T/hup.json"
"$QMP_CMD" "$T/hup.qmp" query-status | grep -q '"status":"postmigrate"' ||
    fail "the fake source is not postmigrate"

start_fake die "${EASY[@]}" --fault 'on=migrate after=1s die'
timeout 60 "$QMIGRATE" migrate --source "$T/die.qmp" --to tcp:127.0.0.1:4444 \
    --json >"$T/die.json" 2>"$T/die.err"
expect_code 4 $? "QEMU died"
expect_grep "then the reconnect attempt: cannot connect" "$T/die.err"
expect_grep '"result":"error"' "$T/die.json"

echo "PASS"
