#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/qmp-rtt.py: a plain synchronous QMP client, the comparison for qmp-rtt.
"""qmp-rtt.py MONITOR [COUNT]

What a straightforward Python tool does: a blocking UNIX socket, a
buffered reader, one json.dumps and one json.loads per message.  Sends
COUNT query-status commands one at a time and prints the median and 95th
percentile round trip and the round trips per second as one JSON line,
in the same form as bench/qmp-rtt (which it is compared with).
"""
import json
import socket
import sys
import time


def read_reply(reader):
    """The next reply, skipping events; raises on an error or EOF."""
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("monitor closed the connection")
        msg = json.loads(line)
        if "return" in msg:
            return msg["return"]
        if "error" in msg:
            raise RuntimeError(msg["error"].get("desc", "QMP error"))
        # an event: not ours, read on


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: qmp-rtt.py MONITOR [COUNT]\n")
        return 2
    path = sys.argv[1]
    if path.startswith("unix:"):
        path = path[5:]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    reader = sock.makefile("rb")
    greeting = json.loads(reader.readline())
    if "QMP" not in greeting:
        sys.stderr.write("qmp-rtt.py: no QMP greeting\n")
        return 4
    sock.sendall(json.dumps({"execute": "qmp_capabilities"}).encode() + b"\n")
    read_reply(reader)
    lat = []
    cpu0 = time.process_time()
    start = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        cmd = {"execute": "query-status", "id": i}
        sock.sendall(json.dumps(cmd).encode() + b"\n")
        read_reply(reader)
        lat.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    sock.close()
    lat.sort()
    print(json.dumps({
        "client": "python",
        "count": count,
        "median_us": round(lat[count // 2] * 1e6, 1),
        "p95_us": round(lat[int(count * 0.95)] * 1e6, 1),
        "serial_rps": round(count / total),
        "cpu_us_per_rt": round(cpu / count * 1e6, 1),
    }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
