#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/prediction.py TSV RUNDIR: how well adaptive predicted, on real QEMU.

Reads bench/part-real's real.tsv and, for every run of the adaptive
policy, its `qmigrate migrate --json` lines (RUNDIR/QEMU-ROUND-NAME-
adaptive.json).  Prints a Markdown section:

* the switch-over need adaptive predicted (the "switch-over needs X s" of
  its first set-downtime or cancel reason), beside QEMU's own
  expected-downtime in the sample it decided on, and the downtime QEMU
  measured when the migration completed;
* the error of its ETA at 25, 50 and 75 % of the run's actual total time:
  (t + eta_s - T) / (T - t), the last progress line at or before that
  moment, so +20 % means it promised 20 % more of the remaining time
  than it took.
"""
import json
import re
import statistics
import sys

NEED = re.compile(r"switch-over needs ([0-9.]+) s")


def load(path):
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        return None
    return lines


def analyse(lines):
    """Prediction, QEMU's figures and ETA errors of one run."""
    out = {"need_s": None, "expected_ms": None, "downtime_ms": None,
           "eta": {}}
    progress = [x for x in lines if x.get("event") == "progress"]
    end = next((x for x in lines if x.get("event") == "end"), None)
    for x in lines:
        if x.get("event") != "action":
            continue
        m = NEED.search(x.get("reason", ""))
        if m is None:
            continue
        out["need_s"] = float(m.group(1))
        before = [p for p in progress if p["t"] <= x["t"] + 1e-9]
        if before:
            out["expected_ms"] = before[-1].get("expected_downtime_ms")
        break
    if end is None:
        return out
    out["result"] = end.get("result")
    out["downtime_ms"] = end.get("downtime_ms")
    total = end.get("total_time_ms")
    if end.get("result") != "completed" or not total:
        return out
    total /= 1000.0
    for share in (0.25, 0.50, 0.75):
        at = share * total
        seen = [p for p in progress if p["t"] <= at]
        if not seen:
            out["eta"][share] = "no sample"
            continue
        p = seen[-1]
        if p.get("eta_s") is None:
            out["eta"][share] = "no ETA"
            continue
        left = total - p["t"]
        out["eta"][share] = (p["t"] + p["eta_s"] - total) / left * 100.0
    return out


def cell(v, fmt):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    return fmt % v


def main():
    tsv, rundir = sys.argv[1], sys.argv[2]
    rows = []
    with open(tsv, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            r = dict(zip(head, line.rstrip("\n").split("\t")))
            if r.get("policy") == "adaptive":
                rows.append(r)
    print("| QEMU | accelerator | guest | round | result | predicted need "
          "| QEMU expected-downtime then | QEMU downtime | ETA error at 25 % "
          "| at 50 % | at 75 % |")
    print("| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: "
          "| ---: |")
    errors = {}
    for r in rows:
        name = "%s-%s-%s-adaptive.json" % (r["qemu"], r["round"], r["scenario"])
        lines = load("%s/%s" % (rundir, name))
        if lines is None:
            continue
        a = analyse(lines)
        kind = "Linux" if r["scenario"].startswith("linux-") else "test guest"
        for share, e in a["eta"].items():
            if not isinstance(e, str):
                errors.setdefault((kind, share), []).append(e)
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["qemu"], r["accel"].upper(), r["scenario"], r["round"],
            r["result"], cell(a["need_s"], "%.2f s"),
            cell(a["expected_ms"], "%d ms"), cell(a["downtime_ms"], "%d ms"),
            cell(a["eta"].get(0.25), "%+.0f %%"),
            cell(a["eta"].get(0.50), "%+.0f %%"),
            cell(a["eta"].get(0.75), "%+.0f %%")))
    print()
    print("The ETA goal is ±20 % from half-way on. Median absolute error over "
          "the completed runs, and how many were within ±20 %:")
    print()
    for kind in ("test guest", "Linux"):
        parts = []
        for share in (0.25, 0.50, 0.75):
            e = errors.get((kind, share), [])
            if not e:
                parts.append("%d %%: no ETA given" % (share * 100))
                continue
            inside = sum(1 for x in e if abs(x) <= 20)
            parts.append("%d %%: %.0f %% (%d of %d within ±20 %%)" % (
                share * 100, statistics.median(abs(x) for x in e), inside,
                len(e)))
        print("* %s: %s" % (kind, "; ".join(parts)))
    print()


if __name__ == "__main__":
    main()
