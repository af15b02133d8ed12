#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""TAP tests of bench/shaping/table.py on made-up CSV rows.

    bench/tests/test-shaping-table.py

Checks the medians, GiB/s, ratios (baseline median / range-request median),
that timed-out rows are left out, the row order, and that --docs only
replaces the text between the markers.
"""
import csv, json, os, subprocess, sys, tempfile

from tap import ok, plan, done, load

table = load("shaping/table.py")
TABLE = table.__file__


FIELDS = ["env", "driver", "mib", "rep", "dir", "seconds", "requests", "pfns",
          "punched_mib"]


def write(d, env, rows):
    with open(os.path.join(d, env + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for r in rows:
            w.writerow([env] + list(r))


plan(9)
with tempfile.TemporaryDirectory() as d:
    # nested 256 MiB inflate: shaping 0.1/0.2/0.3 s (median 0.2), the
    # in-tree driver 2.0 s twice and one timeout (left out).
    write(d, "nested", [
        ("shaping", 256, 1, "inflate", "0.1", 4, 0, 256),
        ("shaping", 256, 2, "inflate", "0.3", 4, 0, 256),
        ("shaping", 256, 3, "inflate", "0.2", 4, 0, 256),
        ("virtio_balloon", 256, 1, "inflate", "2.0", 0, 65536, 256),
        ("virtio_balloon", 256, 2, "inflate", "timeout 600", 0, 65536, 0),
        ("virtio_balloon", 256, 3, "inflate", "2.0", 0, 65536, 256),
        ("shaping", 256, 1, "deflate", "0.5", 4, 0, 0),
    ])
    write(d, "loopback", [
        ("shaping", 512, 1, "inflate", "0.004", 8, 0, 0),
        ("vshape-pfn", 512, 1, "inflate", "0.016", 0, 131072, 0),
    ])
    res, ratios = table.summarise(table.load(d))
    by = {(r["env"], r["driver"], r["mib"], r["dir"]): r for r in res}
    s = by[("nested", "shaping", 256, "inflate")]
    ok(s["median_s"] == 0.2 and s["reps"] == 3, "median of three repetitions")
    ok(s["gib_per_s"] == 1.25, "GiB/s = MiB / 1024 / median")
    v = by[("nested", "virtio_balloon", 256, "inflate")]
    ok(v["reps"] == 2, "a timed-out repetition is left out")
    rat = {(x["env"], x["mib"], x["dir"], x["baseline"]): x["ratio"] for x in ratios}
    ok(rat.get(("nested", 256, "inflate", "virtio_balloon")) == 10.0,
       "ratio = baseline median / range-request median (2.0 / 0.2)")
    ok(rat.get(("loopback", 512, "inflate", "vshape-pfn")) == 4.0,
       "ratio against vshape_guest's PFN arrays")
    ok(("nested", 256, "deflate", "virtio_balloon") not in rat,
       "no ratio without a baseline row")
    t = table.table(res, ratios).splitlines()
    envs = [line.split("|")[1].strip() for line in t[2:]]
    ok(envs == ["nested", "nested", "loopback"], "rows ordered nested, then loopback")

    docs = os.path.join(d, "doc.md")
    with open(docs, "w") as f:
        f.write("before\n%s\nold table\n%s\nafter\n" % (table.BEGIN, table.END))
    out = os.path.join(d, "out.json")
    p = subprocess.run([sys.executable, TABLE, d, "--json", out, "--docs", docs],
                       capture_output=True, text=True)
    text = open(docs).read()
    ok(p.returncode == 0 and "old table" not in text and
       text.startswith("before\n") and text.endswith("after\n") and
       "| nested | 256 MiB | inflate |" in text,
       "--docs replaces only the text between the markers")
    j = json.load(open(out))
    ok(len(j["results"]) == len(res) and len(j["ratios"]) == len(ratios),
       "--json holds every result and ratio")
done()
