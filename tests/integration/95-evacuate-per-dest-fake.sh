#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# evacuate with a limit per destination host, on 12 fake VMs bound for
# three hosts (h1: vm1-6, h2: vm7-9, h3: vm10-12; the fake QEMUs send
# nothing anywhere).  The JSON lines prove the limits held: never more
# than N at once, never more than M to one host, and a VM waits for its
# own host while later ones to other hosts start.  A limit in the plan
# applies unless the command line gives one.
. "$(dirname "$0")/lib.sh"

# fresh_fakes: 12 fake VMs at $T/vms/vmN.sock, none migrated yet
FAKE_PID=""
fresh_fakes() {
    [ -n "$FAKE_PID" ] && kill -9 "$FAKE_PID" && wait "$FAKE_PID" 2>/dev/null
    rm -rf "$T/vms" && mkdir "$T/vms"
    "$FAKE_QEMU" --count 12 --qmp-dir "$T/vms" --ram 2G --working-set 32M \
        --link 10gbit >"$T/fake.log" 2>&1 &
    FAKE_PID=$!
    PIDS="$PIDS $FAKE_PID"
    for _ in $(seq 100); do grep -q '^ready' "$T/fake.log" && break; sleep 0.1; done
    grep -q '^ready' "$T/fake.log" || fail "fake-qemu did not start"
}

plan() { # [TOP-LEVEL LINES]
    printf '%b' "${1:-}"
    for i in $(seq 12); do
        h=h1
        [ "$i" -gt 6 ] && h=h2
        [ "$i" -gt 9 ] && h=h3
        printf '[vm%d]\nsource = %s/vms/vm%d.sock\nto = tcp:%s:%d\n\n' \
            "$i" "$T" "$i" "$h" $((5000 + i))
    done
}

# most NAME KEY: the most running at once, overall ("") or to one host
most() {
    awk -v by="$2" '
        /"event":"begin"/ { match($0, /"dest":"[^"]*"/); d = substr($0, RSTART + 8, RLENGTH - 9)
                            match($0, /"vm":"[^"]*"/); v = substr($0, RSTART + 6, RLENGTH - 7)
                            dest[v] = d; n[by ? d : ""]++; k = by ? d : ""
                            if (n[k] > max) max = n[k] }
        /"event":"end"/   { match($0, /"vm":"[^"]*"/); v = substr($0, RSTART + 6, RLENGTH - 7)
                            n[by ? dest[v] : ""]-- }
        END { print max + 0 }' "$T/$1.json"
}

run() { # NAME ARGS...
    local name=$1
    shift
    fresh_fakes
    timeout 240 "$QMIGRATE" evacuate --json --interval 200 "$@" \
        >"$T/$name.json" 2>"$T/$name.err"
    expect_code 0 $? "evacuation $name: $(tail -n 3 "$T/$name.err")"
    [ "$(grep -c '"event":"end".*"result":"completed"' "$T/$name.json")" -eq 12 ] ||
        fail "$name: not all 12 completed"
    echo "$name: at most $(most "$name" "") at once, $(most "$name" 1) to one host"
}

# one per host, four at once: three hosts, so three at once
plan >"$T/plan.ini"
run one --plan "$T/plan.ini" --max-parallel 4 --max-parallel-per-dest 1
[ "$(most one "")" -eq 3 ] || fail "one: $(most one "") at once, expected 3"
[ "$(most one 1)" -eq 1 ] || fail "one: $(most one 1) to one host, expected 1"
expect_grep '"event":"summary".*"destinations":3,"max_running":3,"max_running_per_dest":1' \
    "$T/one.json"
# plan order, but vm7 (h2) and vm10 (h3) do not wait behind vm2-6 (h1)
order=$(sed -n 's/.*"vm":"\(vm[0-9]*\)","event":"begin".*/\1/p;
                 s/.*"event":"begin".*"vm":"\(vm[0-9]*\)".*/\1/p' "$T/one.json" |
    head -n 3 | tr '\n' ' ')
[ "$order" = "vm1 vm7 vm10 " ] || fail "one: the first three begun are '$order'"
expect_grep "to 3 destinations, 4 at a time, 1 to one destination" "$T/one.err"

# two per host, four at once: four at once, never three to h1
run two --plan "$T/plan.ini" --max-parallel 4 --max-parallel-per-dest 2
[ "$(most two "")" -eq 4 ] || fail "two: $(most two "") at once, expected 4"
[ "$(most two 1)" -eq 2 ] || fail "two: $(most two 1) to one host, expected 2"

# the limits in the plan; the command line's --max-parallel-per-dest wins
plan 'max-parallel = 2\nmax-parallel-per-dest = 1\n\n' >"$T/plan2.ini"
run planned --plan "$T/plan2.ini"
[ "$(most planned "")" -eq 2 ] || fail "planned: $(most planned "") at once, expected 2"
[ "$(most planned 1)" -eq 1 ] || fail "planned: $(most planned 1) to one host"
run over --plan "$T/plan2.ini" --max-parallel-per-dest 2
[ "$(most over "")" -eq 2 ] || fail "over: $(most over "") at once, expected 2"
[ "$(most over 1)" -eq 2 ] || fail "over: $(most over 1) to one host, expected 2"

"$QMIGRATE" evacuate --plan "$T/plan.ini" --max-parallel-per-dest x \
    >"$T/bad.out" 2>&1
expect_code 2 $? "a bad --max-parallel-per-dest"
expect_grep "max-parallel-per-dest: 'x' is not a whole number" "$T/bad.out"
echo "PASS"
