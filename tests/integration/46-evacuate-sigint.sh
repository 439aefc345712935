#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGINT during an evacuation cancels what runs, starts nothing more, and
# leaves every guest running on its source (exit 3).
. "$(dirname "$0")/lib.sh"

mkdir "$T/vms"
# 1 GiB working sets on a 1 Gbit/s link: nothing converges by itself
"$FAKE_QEMU" --count 6 --qmp-dir "$T/vms" --ram 4G --working-set 1G \
    --link 1gbit >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do grep -q '^ready' "$T/fake.log" && break; sleep 0.1; done
for i in $(seq 6); do
    printf '[vm%d]\nsource = %s/vms/vm%d.sock\nto = tcp:127.0.0.1:%d\n' \
        "$i" "$T" "$i" $((5000 + i))
done >"$T/plan.ini"

"$QMIGRATE" evacuate --plan "$T/plan.ini" --max-parallel 2 --json \
    >"$T/out.json" 2>"$T/table" &
qm=$!
sleep 2
kill -INT $qm
wait $qm
expect_code 3 $? "interrupted evacuation"
[ "$(grep -c '"event":"begin"' "$T/out.json")" -eq 2 ] ||
    fail "more than the first two started"
for i in $(seq 6); do
    st=$("$QMP_CMD" "$T/vms/vm$i.sock" query-status)
    echo "$st" | grep -q '"status":"running"' || fail "vm$i is not running: $st"
    m=$("$QMP_CMD" "$T/vms/vm$i.sock" query-migrate)
    case "$m" in
    '{}' | *'"status":"cancelled"'*) ;;
    *) fail "vm$i migration: $m" ;;
    esac
done
expect_grep '^vm6 *cancelled' "$T/table"
expect_grep 'not started: interrupted' "$T/table"
echo "PASS"
