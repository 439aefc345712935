#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --disk mirror while the Linux guest writes files to an ext4 file system
# on its virtio disk: files written before, during and after the
# migration.  Afterwards the guest runs on the destination only, e2fsck
# finds the destination's file system clean, and every file on it has the
# sha256 the guest printed when it wrote it.
. "$(dirname "$0")/lib.sh"

files=16
truncate -s 64M "$T/fs.raw"
mke2fs -q -t ext4 -F "$T/fs.raw" || fail "mke2fs"
"$QEMU_IMG" convert -f raw -O qcow2 "$T/fs.raw" "$T/src.qcow2" || fail "convert"
"$QEMU_IMG" create -q -f qcow2 "$T/dst.qcow2" 64M || fail "create"
work="qmigrate.work=disk qmigrate.files=$files"
# shellcheck disable=SC2046
start_linux src 256 "$work" $(disk_args "$T/src.qcow2")
# shellcheck disable=SC2046
start_linux dst 256 "$work" $(disk_args "$T/dst.qcow2") -incoming defer -S
wait_linux src
i=0
until grep -q '^qmigrate-linux file f1 ' "$T/src.serial"; do
    i=$((i + 1))
    [ $i -gt 300 ] && fail "the guest wrote no file in 30 s"
    sleep 0.1
done

timeout 120 "$QMIGRATE" migrate --source "$T/src.qmp" --dest "$T/dst.qmp" \
    --to "unix:$T/mig.sock" --disk mirror --bandwidth 40 --json \
    >"$T/out.json" 2>"$T/err"
expect_code 0 $? "mirror migration of the Linux guest"
expect_grep '"result":"completed"' "$T/out.json"
expect_status dst running
expect_status src postmigrate
expect_runs_only_on dst src
on_src=$(grep -c '^qmigrate-linux file ' "$T/src.serial")
i=0
until grep -q '^qmigrate-linux disk done' "$T/dst.serial"; do
    i=$((i + 1))
    [ $i -gt 300 ] && fail "the guest did not finish its files in 30 s"
    sleep 0.1
done
on_dst=$(grep -c '^qmigrate-linux file ' "$T/dst.serial")
[ $((on_src + on_dst)) -eq $files ] ||
    fail "$on_src files written on the source, $on_dst on the destination, of $files"
[ "$on_dst" -gt 0 ] || fail "every file was written before the migration ended"

# quit (not kill): QEMU writes its cached image metadata on the way out
qmp dst quit >/dev/null 2>&1
qmp src quit >/dev/null 2>&1
wait $PID_src $PID_dst 2>/dev/null
"$QEMU_IMG" convert -f qcow2 -O raw "$T/dst.qcow2" "$T/dst.raw" || fail "convert"
e2fsck -fn "$T/dst.raw" >"$T/fsck" 2>&1 ||
    fail "e2fsck on the destination's disk: $(cat "$T/fsck")"
cat "$T/src.serial" "$T/dst.serial" | tr -d '\r' | sed -n 's/^qmigrate-linux file //p' |
    while read -r name sum; do
        debugfs -R "dump /$name $T/$name" "$T/dst.raw" >/dev/null 2>&1
        got=$(sha256sum "$T/$name" 2>/dev/null | cut -d' ' -f1)
        [ "$got" = "$sum" ] ||
            fail "$name on the destination's disk: sha256 '$got', the guest wrote $sum"
    done || exit 1
echo "PASS ($on_src files written on the source, $on_dst on the destination)"
