#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit test of bench/scenario/metrics.py on synthetic series: integrals,
the zigzag legs, page reporting's spikes taken out, ramp coverage
(backing before the rise, or with it) and reaction lag (the host's drop
after the guest's); of report.py on samples of two repetitions (the
ratios within each, their median and range) and on vshape_host's
reserved bytes (the sampler's dev_reserved column); and of
bench/scenario/settle.sh on made-up samples and controller logs (a still
balloon does not end host-reactive's wait before it is near the
controller's target).  TAP on stdout."""
import csv
import os
import subprocess
import tempfile

import numpy as np

from tap import ok, done, load

M = load("scenario/metrics.py")
R = load("scenario/report.py")
MiB, GiB = M.MiB, M.GiB


def step(t, t0, t1, a, b):
    """a before t0, b after t1, linear in between."""
    return np.interp(t, [t0, t1], [a, b])


t = np.arange(0, 60, 0.2)
rng = np.random.default_rng(1)
noise = rng.uniform(-8, 8, len(t)) * MiB   # well below the 64 MiB threshold

ok(abs(M.integral(t, np.full(len(t), GiB)) / GiB - t[-1]) < 1e-9,
   "integral of 1 GiB over 60 s is 60 GiB*s")
ok(abs(M.integral([0, 10], [0, 2 * GiB]) / GiB - 10) < 1e-9,
   "integral of a linear ramp 0..2 GiB over 10 s is 10 GiB*s")
ok(M.integral([1.0], [5.0]) == 0, "integral of a single sample is 0")

# used: idle 100 MiB, rise to 300 MiB over [10, 14], drop at [30, 31]
used = step(t, 10, 14, 100 * MiB, 300 * MiB)
used = np.where(t >= 30, step(t, 30, 31, 300 * MiB, 100 * MiB), used) + noise
lg = M.legs(t, used, M.RAMP_BYTES)
kinds = [k for _, _, k in lg]
ok(kinds == ["rise", "drop"],
   "legs: one rise then one drop despite noise (%s)" % kinds)
a, b, _ = lg[0]
ok(9 <= t[a] <= 10.4 and 13.6 <= t[b] <= 15,
   "legs: the rise spans about [10, 14] s (%.1f-%.1f)" % (t[a], t[b]))
ok(M.legs(t, noise, M.RAMP_BYTES) == [],
   "legs: a series that moves less than h has no legs")

# backing already in place: footprint flat at 600 MiB
foot_flat = np.full(len(t), 600 * MiB)
cov, tot, _ = M.ramp_coverage(t, used, foot_flat)
ok((cov, tot) == (1, 1),
   "ramp coverage: footprint already there -> 1 of 1 backed before")
# backing follows the guest: footprint = used + 50 MiB
cov, tot, _ = M.ramp_coverage(t, used, used + 50 * MiB)
ok((cov, tot) == (0, 1),
   "ramp coverage: footprint rising with used -> 0 of 1 backed before")
# committed ahead: the footprint rises at [5, 7], before the ramp
foot_ahead = step(t, 5, 7, 150 * MiB, 350 * MiB)
cov, tot, _ = M.ramp_coverage(t, used, foot_ahead)
ok((cov, tot) == (1, 1),
   "ramp coverage: footprint committed 3 s before the ramp -> backed")
# committed half way: 100 of the 200 MiB in place, the rest during
foot_half = step(t, 5, 7, 150 * MiB, 250 * MiB) + \
    np.clip(used - 200 * MiB, 0, None)
cov, tot, r = M.ramp_coverage(t, used, foot_half)
ok((cov, tot) == (0, 1),
   "ramp coverage: half committed ahead -> not backed (grew %d MiB)" %
   (r[0]["foot_growth"] // MiB))

# reaction lag: footprint falls 3 s after used has fallen half way
foot_lag = np.where(t >= 33.5, 150 * MiB, 350 * MiB)
lags = M.reaction_lags(t, used, foot_lag)
ok(len(lags) == 1, "reaction lag: one drop")
ok(lags[0]["lag"] is not None and 2.6 <= lags[0]["lag"] <= 3.4,
   "reaction lag: about 3 s (%.2f)" % lags[0]["lag"])
lags = M.reaction_lags(t, used, foot_flat)
ok(len(lags) == 1 and lags[0]["lag"] is None,
   "reaction lag: footprint never falls -> None")
# a footprint that falls before the guest's drop is half done: lag 0
foot_early = np.where(t >= 30.3, 150 * MiB, 350 * MiB)
lags = M.reaction_lags(t, used, foot_early)
ok(lags[0]["lag"] == 0,
   "reaction lag: a fall during the drop's first half counts as 0 (%s)" %
   lags[0]["lag"])

# page reporting's blocks in flight: MemAvailable drops for one sample
# (80 MiB) or five (1 s) while the host frees them; not a demand
flat = np.full(len(t), 100 * MiB) + noise
for width in (1, 5):
    spiky = flat.copy()
    spiky[150:150 + width] += 80 * MiB
    ok([k for _, _, k in M.legs(t, spiky, M.RAMP_BYTES)] == ["rise", "drop"] and
       M.legs(t, M.without_spikes(t, spiky), M.RAMP_BYTES) == [],
       "a spike of %d sample(s) is a rise and a drop, and none without spikes" % width)
ns = M.without_spikes(t, used)
lg2 = M.legs(t, ns, M.RAMP_BYTES)
ok([k for _, _, k in lg2] == ["rise", "drop"] and
   abs(np.median(ns[(t > 16) & (t < 28)]) - np.median(used[(t > 16) & (t < 28)])) < 8 * MiB and
   abs(t[lg2[0][0]] - t[lg[0][0]]) <= 1.2,
   "without spikes: a ramp held 16 s keeps its legs, start and plateau")
step3 = np.where((t >= 20) & (t < 23), 200 * MiB, 100 * MiB)
ok(np.max(M.without_spikes(t, step3)) == 200 * MiB,
   "without spikes: a plateau of 3 s (longer than %.0f s) stays" % M.SPIKE_S)

ph = ["a"] * 10 + ["b"] * 5 + ["a"] * 5
pt = np.arange(20) * 1.0
rt = M.phase_runtimes(pt, ph)
ok(rt == {"a": 14.0, "b": 5.0},
   "phase runtimes add up per name (%s)" % rt)
ok(M.counter_delta([5, 7, 12]) == 7 and M.counter_delta([-1, -1]) == -1,
   "counter delta of a cumulative counter")

# ratios within a repetition, not of the medians: the load of each
# repetition cancels (ratio of medians here: 30/20 = 1.5)
runs = {1: {"none": {"f": 10.0}, "fpr": {"f": 5.0}},
        2: {"none": {"f": 30.0}, "fpr": {"f": 30.0}},
        3: {"none": {"f": 100.0}, "fpr": {"f": 20.0}},
        4: {"none": {"f": 7.0}}}
r = M.rep_ratios(runs, "none", "fpr", "f")
ok(r == [2.0, 1.0, 5.0],
   "per-repetition ratios, a repetition without the base left out (%s)" % r)
s = M.summary(r + [None])
ok(s == {"median": 2.0, "min": 1.0, "max": 5.0, "n": 3},
   "summary: median and range of the ratios, None ignored (%s)" % s)
ok(M.rep_ratios({1: {"a": {"f": 1.0}, "b": {"f": 0.0}}}, "a", "b", "f") == [],
   "per-repetition ratios: a zero base is left out")
ok(M.summary([None]) is None, "summary of nothing is None")

# report.py on two repetitions: samples as bench/scenario/sampler.c's l1
# mode writes them; none holds 300 MiB in both, fpr 200 then 100 MiB, so
# none / fpr is 1.5 in the first and 3.0 in the second: median 2.25
COLS = ("t1,memfd_bytes,shmem_bytes,dev_inflated,dev_committed,dev_reserved,t,phase,total_kb,"
        "avail_kb,free_kb,cached_kb,balloon_kb,demand_kb,psi_some_us,psi_full_us,"
        "pgmajfault,refault_anon,refault_file,oom_kill").split(",")


def fake_run(path, foot_mib, cycles=2, reserved=None, cols=COLS, meta=""):
    """reserved(k): dev_reserved of sample k (default 0)."""
    with open(path + ".csv", "w", newline="") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore")
        w.writeheader()
        k = 0
        for c in range(cycles):
            for phase in ["work"] * 20 + ["idle"] * 10 + (["end"] if c == cycles - 1 else []):
                w.writerow({**{x: 0 for x in cols}, "t1": 0.2 * k, "t": 0.2 * k,
                            "phase": phase, "memfd_bytes": foot_mib * MiB,
                            "total_kb": 1 << 20, "avail_kb": (1 << 20) - 102400,
                            "free_kb": 1 << 19, "demand_kb": -1,
                            "dev_reserved": reserved(k) if reserved else 0})
                k += 1
    with open(path + ".meta", "w") as f:
        f.write("workload_rc=0\n" + meta)


with tempfile.TemporaryDirectory() as raw:
    for rep, fpr_mib in ((1, 200), (2, 100)):
        fake_run(os.path.join(raw, "rep%d-none" % rep), 300)
        fake_run(os.path.join(raw, "rep%d-fpr" % rep), fpr_mib)
    runs, notes = R.collect(raw)
    ok(sorted(runs) == [1, 2] and all(n["cycles"] == 2 for n in notes.values()),
       "report: two repetitions of two cycles collected (%s)" % notes)
    s2 = R.summarise(runs)
    r = s2["none"]["footprint_vs_fpr"]
    ok(r["n"] == 2 and np.allclose([r["median"], r["min"], r["max"]], [2.25, 1.5, 3.0]),
       "report: none / fpr within each repetition, median of two = mean (%s)" % r)
    md = R.table(s2, len(runs), R.goals(s2))
    ok("over 2 repetitions (the median of two is their mean)" in md and
       "| none | " in md and "2.25 [1.50–3.00]" in md,
       "report: the table says 2 repetitions and gives the ratio's median and range")

# vshape_host's reserved bytes: 64 MiB RESERVEd from sample 45 of 61 (0.2 s
# apart) to the end: 3.1 of 12 s by the trapezoid, a mean of 16.5 MiB
# (shown as 17), a peak of 64; the in-tree driver's runs
# have no device (-1), an older sampler no column: both n/a, not 0
with tempfile.TemporaryDirectory() as raw:
    fake_run(os.path.join(raw, "rep1-none"), 300, reserved=lambda k: -1,
             meta="settle_s=7\nsettle=still\nsettle_balloon_mib=0\nsettle_target_mib=-1\n")
    fake_run(os.path.join(raw, "rep1-fpr"), 200,
             cols=[c for c in COLS if c != "dev_reserved"])
    fake_run(os.path.join(raw, "rep1-vshape-predict"), 200,
             reserved=lambda k: 64 * MiB if k >= 45 else 0)
    fake_run(os.path.join(raw, "rep1-host-reactive"), 200, reserved=lambda k: -1,
             meta="settle_s=64\nsettle=target\nsettle_balloon_mib=470\n"
             "settle_target_mib=488\n")
    runs, _ = R.collect(raw)
    vp = runs[1]["vshape-predict"]
    ok(abs(vp["reserved_mean_mib"] - 64 * 3.1 / 12) < 0.01 and vp["reserved_peak_mib"] == 64,
       "report: reserved mean %.1f MiB and peak %s MiB from dev_reserved" %
       (vp["reserved_mean_mib"], vp["reserved_peak_mib"]))
    ok(runs[1]["none"]["reserved_mean_mib"] is None and
       runs[1]["fpr"]["reserved_peak_mib"] is None and
       runs[1]["fpr"]["series"]["reserved"] is None,
       "report: no device (-1) and no column give no reserved figure")
    s3 = R.summarise(runs)
    md = R.table(s3, 1, R.goals(s3))
    row = [ln for ln in md.splitlines() if ln.startswith("| vshape-predict | ") and "/" in ln]
    ok(len(row) == 1 and "| 17 / 64 |" in row[0],
       "report: the behaviour table gives reserved mean / peak (%s)" % row)
    ok(R.settle_text("host-reactive", runs[1]["host-reactive"]) ==
       "host-reactive 64 s target at 470 MiB (target 488 MiB)" and
       R.settle_text("none", runs[1]["none"]) == "none 7 s still at 0 MiB",
       "report: each run's settle wait as its .meta gives it")
    sl = R.settle_lines(runs)
    ok("- repetition 1: none 7 s still at 0 MiB, host-reactive 64 s target at 470 MiB "
       "(target 488 MiB)\n" in sl and "fpr" not in sl,
       "report: the settle waits of the runs that recorded one (%r)" % sl)


# bench/scenario/settle.sh, polling every 0.05 s: prints "SECONDS HOW
# BALLOON_MIB TARGET_MIB"
SETTLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "scenario", "settle.sh")


def settle(balloon_kb, limit, ctl_lines=None, tol=None):
    with tempfile.TemporaryDirectory() as d:
        csv_path = os.path.join(d, "l2.csv")
        with open(csv_path, "w") as f:
            f.write("t,phase,total_kb,avail_kb,free_kb,cached_kb,balloon_kb\n")
            f.write("1.0,-,786432,700000,600000,1000,%d,-1,0\n" % balloon_kb)
        args = [csv_path, str(limit)]
        if ctl_lines is not None:
            args.append(os.path.join(d, "ctl.log"))
            with open(args[-1], "w") as f:
                f.write("".join(ln + "\n" for ln in ctl_lines))
        env = dict(os.environ, SCEN_SETTLE_POLL="0.05")
        if tol is not None:
            env["SCEN_SETTLE_TOL_MIB"] = str(tol)
        out = subprocess.run(["bash", "-c", '. "$0"; settle "$@"', SETTLE] + args,
                             env=env, capture_output=True, text=True, timeout=30)
        return out.stdout.split()


r = settle(0, 5)
ok(r[1:] == ["still", "0", "-1"] and int(r[0]) <= 1,
   "settle: without a controller, a still balloon ends the wait (%s)" % r)
r = settle(0, 1, [])
ok(r[1:] == ["limit", "0", "-1"],
   "settle: host-reactive's balloon still at 0 before the controller's first "
   "target waits to the limit (%s)" % r)
line = "12.345 target 278 MiB, balloon 490 MiB (used 86 MiB)"
r = settle(0, 1, [line])
ok(r[1:] == ["limit", "0", "490"],
   "settle: a still balloon far from the controller's target waits to the limit (%s)" % r)
r = settle(470 << 10, 5, ["1.0 target 500 MiB, balloon 268 MiB (used 300 MiB)", line])
ok(r[1:] == ["target", "470", "490"] and int(r[0]) <= 1,
   "settle: within 32 MiB of the controller's last target ends the wait (%s)" % r)
r = settle(470 << 10, 1, [line], tol=16)
ok(r[1] == "limit", "settle: the tolerance is SCEN_SETTLE_TOL_MIB (%s)" % r)

done()
