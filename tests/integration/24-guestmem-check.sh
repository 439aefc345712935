#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The memory check itself: it accepts the test guest's pattern and names
# a page that a migration lost.
. "$(dirname "$0")/lib.sh"

# page counters, one 4 KiB page each: printf a little-endian word, pad
page() {
    printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x00\\x00"
    head -c 4092 /dev/zero
}
{ for _ in 1 2 3; do page 7; done; for _ in 1 2 3 4 5; do page 6; done; } >"$T/good"
"$GUESTMEM" "$T/good" >"$T/out" 2>&1 || fail "a good dump refused: $(cat "$T/out")"
{ for _ in 1 2 3; do page 7; done; page 5; for _ in 1 2 3; do page 6; done; } >"$T/lost"
"$GUESTMEM" "$T/lost" >"$T/out" 2>&1
expect_code 1 $? "a stale page"
expect_grep "page 3 (guest address 0x203000) holds 5 after 7" "$T/out"
{ page 7; page 6; page 7; page 6; } >"$T/twice"
"$GUESTMEM" "$T/twice" >"$T/out" 2>&1
expect_code 1 $? "two boundaries"
{ page 0; page 0; } >"$T/zero"
"$GUESTMEM" "$T/zero" >"$T/out" 2>&1
expect_code 1 $? "a guest that never ran"
expect_grep "did not run" "$T/out"

# and on a real guest that never migrated
start_qemu g 128 8
wait_guest g
sleep 0.5
verify_guest_memory g 8
echo "PASS"
