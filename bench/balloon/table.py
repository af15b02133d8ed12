#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Render bench/results/balloon.json as a Markdown table.

    bench/balloon/table.py [balloon.json] [--docs docs/benchmarks.md]

With --docs, the table replaces what lies between the lines
<!-- balloon-table:begin --> and <!-- balloon-table:end --> in that file;
otherwise it is printed.
"""
import json
import sys

BEGIN, END = "<!-- balloon-table:begin -->", "<!-- balloon-table:end -->"


def fmt(s):
    return "%.2f (%.2f–%.2f)" % (s["median"], s["min"], s["max"])


def table(doc):
    out = ["| kernel (guest cmdline) | size | direction | in-tree virtio_balloon s, median (min–max) "
           "| vshape_guest s, median (min–max) | time ratio vshape/in-tree "
           "| throughput ratio vshape/in-tree | vshape at least as fast? |",
           "|---|---|---|---|---|---|---|---|"]
    for run in doc["runs"]:
        k = run["kernel"]
        if run.get("guest_cmdline_extra"):
            k += " (%s)" % run["guest_cmdline_extra"]
        for size in run["summary"]["vshape"]:
            for d in ("inflate", "deflate"):
                i = run["summary"]["inbox"][size][d]
                v = run["summary"]["vshape"][size][d]
                r = run["ratios"][size][d]
                tr = r["time_ratio_vshape_over_inbox"]
                # yes/no only when the min–max ranges do not overlap.
                if v["max"] < i["min"]:
                    verdict = "yes"
                elif v["min"] > i["max"]:
                    verdict = "no"
                else:
                    verdict = "within noise (ranges overlap)"
                out.append("| %s | %s | %s | %s | %s | %.2f | %.2f | %s |" % (
                    k, size.replace("GiB", " GiB"), d, fmt(i), fmt(v), tr,
                    r["speedup_inbox_time_over_vshape_time"], verdict))
    return "\n".join(out) + "\n"


def main(argv):
    path = "bench/results/balloon.json"
    docs = None
    args = list(argv)
    if "--docs" in args:
        i = args.index("--docs")
        docs = args[i + 1]
        del args[i:i + 2]
    if args:
        path = args[0]
    with open(path) as f:
        t = table(json.load(f))
    if not docs:
        sys.stdout.write(t)
        return 0
    with open(docs) as f:
        text = f.read()
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        sys.stderr.write("%s: no %s ... %s markers\n" % (docs, BEGIN, END))
        return 1
    text = text[:a + len(BEGIN)] + "\n" + t + text[b:]
    with open(docs, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
