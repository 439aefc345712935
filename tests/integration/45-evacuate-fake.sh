#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# evacuate 20 fake VMs with --max-parallel 4: all complete, and the JSON
# lines prove that never more than 4 ran at once (and that 4 did).
. "$(dirname "$0")/lib.sh"

mkdir "$T/vms"
"$FAKE_QEMU" --count 20 --qmp-dir "$T/vms" --ram 2G --working-set 32M \
    --link 10gbit >"$T/fake.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 100); do grep -q '^ready' "$T/fake.log" && break; sleep 0.1; done
grep -q '^ready' "$T/fake.log" || fail "fake-qemu did not start"

for i in $(seq 20); do
    printf '[vm%d]\nsource = %s/vms/vm%d.sock\nto = tcp:127.0.0.1:%d\n\n' \
        "$i" "$T" "$i" $((5000 + i))
done >"$T/plan.ini"

timeout 240 "$QMIGRATE" evacuate --plan "$T/plan.ini" --max-parallel 4 \
    --json --interval 200 >"$T/out.json" 2>"$T/table"
expect_code 0 $? "evacuation of 20 fake VMs"
[ "$(grep -c '"event":"end".*"result":"completed"' "$T/out.json")" -eq 20 ] ||
    fail "not all 20 completed"
# replay begin/end in order: the number running never exceeds 4
max=$(awk '/"event":"begin"/ { n++; if (n > max) max = n }
           /"event":"end"/ { n-- }
           END { print max }' "$T/out.json")
[ "$max" -eq 4 ] || fail "at most $max ran at once, expected exactly 4"
expect_grep '"event":"summary".*"max_running":4' "$T/out.json"
[ "$(grep -c '^vm[0-9]* *completed' "$T/table")" -eq 20 ] ||
    fail "the table does not list 20 completed VMs"
echo "PASS"
