#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The config file: the same keys as the long options; the command line
# wins over the file, the file over the defaults; an unknown key or a bad
# value is an error naming the file, the line and the key.
. "$(dirname "$0")/lib.sh"
export QMIGRATE_CONFIG="$T/none.conf"   # never the machine's /etc one

start_qemu src 128 0
start_qemu dst 128 0 -incoming "unix:$T/mig.sock"
wait_guest src

cat >"$T/good.conf" <<CONF
# qmigrate settings
downtime = 1500
downtime-initial = 250
policy = adaptive
bandwidth = 200
json
interval = 200
CONF
timeout 60 "$QMIGRATE" migrate --config "$T/good.conf" --source "$T/src.qmp" \
    --to "unix:$T/mig.sock" --downtime 1800 >"$T/out.json" 2>"$T/err"
expect_code 0 $? "migration with a config file"
# json came from the file; downtime from the command line; the rest from the file
expect_grep '"event":"start"' "$T/out.json"
expect_grep '"downtime":1800,' "$T/out.json"
expect_grep '"downtime-initial":250,' "$T/out.json"
expect_grep '"bandwidth":200' "$T/out.json"
expect_grep '"interval":200' "$T/out.json"
expect_grep '"completion-timeout":800' "$T/out.json"

# the default config path comes from QMIGRATE_CONFIG
cp "$T/good.conf" "$T/none.conf"
"$QMIGRATE" migrate --source "$T/missing.qmp" --to "unix:$T/m" \
    >"$T/out2.json" 2>&1
expect_code 4 $? "default config, missing monitor"
expect_grep '"event":"end"' "$T/out2.json"
rm "$T/none.conf"

printf 'downtime = 900\nfrobnicate = 1\n' >"$T/unknown.conf"
"$QMIGRATE" migrate --config "$T/unknown.conf" --source "$T/src.qmp" \
    --to "unix:$T/m" >"$T/out" 2>&1
expect_code 2 $? "unknown key"
expect_grep "unknown.conf:2: unknown key 'frobnicate'" "$T/out"

printf '\n# ok\ndowntime = lots\n' >"$T/bad.conf"
"$QMIGRATE" migrate --config "$T/bad.conf" --source "$T/src.qmp" \
    --to "unix:$T/m" >"$T/out" 2>&1
expect_code 2 $? "bad value"
expect_grep "bad.conf:3: key 'downtime': --downtime: 'lots' is not a whole number" "$T/out"

printf '[vm1]\nsource = x\n' >"$T/section.conf"
"$QMIGRATE" migrate --config "$T/section.conf" --source "$T/src.qmp" \
    --to "unix:$T/m" >"$T/out" 2>&1
expect_code 2 $? "section in a config file"
expect_grep "section.conf:1: section \[vm1\]" "$T/out"

"$QMIGRATE" migrate --config "$T/nope.conf" --source "$T/src.qmp" \
    --to "unix:$T/m" >"$T/out" 2>&1
expect_code 2 $? "missing config file"
expect_grep "nope.conf" "$T/out"

# the source is untouched by all of that
expect_status src postmigrate
echo "PASS"
