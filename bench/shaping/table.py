#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Range requests vs PFN arrays: CSV rows -> JSON and a Markdown table.

    bench/shaping/table.py RESULTS_DIR [--json OUT] [--docs docs/benchmarks.md]

Reads RESULTS_DIR/{nested,nested-huge,loopback}.csv (rows from nested-l1.sh and
loopback.sh), takes the median of the repetitions per environment,
driver, size and direction, and the throughput in GiB/s; the ratio is
shaping / baseline.  --docs replaces the text between the markers
<!-- shaping-table begin --> and <!-- shaping-table end -->.
"""
import argparse, csv, json, os, statistics, sys

DRIVERS = ["shaping", "vshape-pfn", "virtio_balloon"]
LABEL = {"shaping": "vshape_guest, range requests (2 MiB extents)",
         "vshape-pfn": "vshape_guest without the feature (PFN arrays, 4096/msg)",
         "virtio_balloon": "in-tree virtio_balloon (PFN arrays, 256/msg)"}
ENVS = ["nested", "nested-huge", "loopback"]
BEGIN, END = "<!-- shaping-table begin -->", "<!-- shaping-table end -->"


def load(d):
    rows = []
    for env in ENVS:
        p = os.path.join(d, env + ".csv")
        if os.path.exists(p):
            with open(p) as f:
                rows += list(csv.DictReader(f))
    return rows


def summarise(rows):
    groups = {}
    for r in rows:
        try:
            s = float(r["seconds"])
        except ValueError:      # "timeout N"
            continue
        k = (r["env"], r["driver"], int(r["mib"]), r["dir"])
        groups.setdefault(k, []).append((s, int(r["requests"]), int(r["pfns"])))
    res = []
    for (env, drv, mib, d), v in sorted(groups.items()):
        secs = [x[0] for x in v]
        med = statistics.median(secs)
        res.append({"env": env, "driver": drv, "mib": mib, "dir": d,
                    "reps": len(v), "seconds": secs, "median_s": round(med, 6),
                    "gib_per_s": round(mib / 1024 / med, 3),
                    "shaping_requests": v[0][1], "pfns": v[0][2]})
    by = {(r["env"], r["driver"], r["mib"], r["dir"]): r for r in res}
    ratios = []
    for (env, drv, mib, d), r in by.items():
        if drv != "shaping":
            continue
        for base in DRIVERS[1:]:
            b = by.get((env, base, mib, d))
            if b:
                ratios.append({"env": env, "mib": mib, "dir": d, "baseline": base,
                               "ratio": round(b["median_s"] / r["median_s"], 1)})
    return res, ratios


def table(res, ratios):
    by = {(r["env"], r["driver"], r["mib"], r["dir"]): r for r in res}
    rat = {(x["env"], x["mib"], x["dir"], x["baseline"]): x["ratio"] for x in ratios}
    out = ["| stack | size | direction | range requests | vshape_guest PFN | in-tree PFN | ratio vs vshape PFN | ratio vs in-tree |",
           "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["env"], r["mib"], r["dir"]) for r in res},
                  key=lambda k: (ENVS.index(k[0]), k[1], k[2] != "inflate"))
    for env, mib, d in keys:
        cells = []
        for drv in DRIVERS:
            r = by.get((env, drv, mib, d))
            cells.append("%.2f GiB/s (%.3f s)" % (r["gib_per_s"], r["median_s"]) if r else "–")
        rs = ["%.1fx" % rat[(env, mib, d, b)] if (env, mib, d, b) in rat else "–" for b in DRIVERS[1:]]
        out.append("| %s | %d MiB | %s | %s |" % (env, mib, d, " | ".join(cells + rs)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--json")
    ap.add_argument("--docs")
    a = ap.parse_args()
    res, ratios = summarise(load(a.dir))
    if not res:
        sys.exit("table.py: no results in " + a.dir)
    t = table(res, ratios)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"benchmark": "range requests (VIRTIO_BALLOON_F_VSHAPE extents) vs PFN arrays, "
                                    "same vshape_host device and VM",
                       "method": "target_pages written on the host, time until the device's "
                                 "inflated_bytes reaches the target (inflate) or 0 (deflate), "
                                 "polled every 0.5 ms in the host; median of the repetitions; "
                                 "ratio = baseline median time / range-request median time",
                       "drivers": LABEL, "results": res, "ratios": ratios}, f, indent=2)
            f.write("\n")
    if a.docs and os.path.exists(a.docs):
        s = open(a.docs).read()
        if BEGIN in s and END in s:
            s = s[:s.index(BEGIN) + len(BEGIN)] + "\n" + t + s[s.index(END):]
            open(a.docs, "w").write(s)
    sys.stdout.write(t)


if __name__ == "__main__":
    main()
