#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Scenario benchmark report: samples -> JSON, markdown table, plots.

    report.py RAWDIR [--json FILE] [--docs docs/benchmarks.md] [--img DIR]

RAWDIR holds rep<N>-<config>.csv (rows of bench/scenario/sampler.c's l1
mode) and .meta files from bench/scenario/l1.sh.  Each run is cut to the
workload's window (from its first phase to its "end" marker).  Per run:
host footprint (allocated blocks of L2's memfd) and L1 Shmem as GiB*s and
peak; guest used (MemTotal - MemAvailable, less vshape's balloon, which
vshape_guest leaves in MemTotal) as GiB*s; runtime per phase; L2 memory
PSI some/full (seconds stalled); major faults, refaults, OOM kills;
reaction lags and ramp coverage (bench/scenario/metrics.py).  Ratios
against fpr and none are taken within a repetition (the same L1 boot),
then summarised as median [min-max] over the repetitions.  The oracle
is the integral of guest used of the none run of the same repetition.
The generated table replaces the text between the markers
<!-- scenario-table:begin --> and <!-- scenario-table:end -->.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics as M  # noqa: E402

ORDER = ["none", "fpr", "host-reactive", "vshape-reactive", "vshape-predict"]
SMALL_RAMP = 32 * (1 << 20)
GiB = M.GiB
MiB = M.MiB


def load_run(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    meta = {}
    mpath = path[:-4] + ".meta"
    if os.path.exists(mpath):
        for line in open(mpath):
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return rows, meta


def window(rows):
    """Rows of the workload: from its first phase to its end marker."""
    idx = [i for i, r in enumerate(rows) if r["phase"] not in ("-", "")]
    if not idx:
        return []
    a = idx[0]
    b = next((i for i in range(a, len(rows)) if rows[i]["phase"] == "end"),
             len(rows) - 1)
    w = rows[a:b + 1]
    # the sampler may read the phase file while the workload rewrites it
    # (an empty read is "-"): such a sample belongs to the phase before
    for i in range(1, len(w)):
        if w[i]["phase"] in ("-", ""):
            w[i]["phase"] = w[i - 1]["phase"]
    return w


def cycles(w):
    """(starts, complete): indices where a cycle begins (its first
    phase starts again) and how many cycles ran to their end."""
    if not w:
        return [], 0
    first = w[0]["phase"]
    starts = [i for i in range(len(w))
              if w[i]["phase"] == first and (i == 0 or w[i - 1]["phase"] != first)]
    ended = w[-1]["phase"] == "end"
    return starts, len(starts) - (0 if ended else 1)


def cut(w, k):
    """The first k cycles of a window (and its end marker row)."""
    starts, done = cycles(w)
    if k >= len(starts):
        return w
    return w[:starts[k] + 1]


def col(rows, k):
    return np.array([float(r[k]) for r in rows])


def opt_delta(w, k, unit=1):
    """Increase of a counter column over the window, in units, or None
    when the samples do not have it (an older sampler, or no
    vshape_guest: -1)."""
    d = M.counter_delta(col(w, k)) if k in w[0] else -1
    return None if d < 0 else d / unit


def opt_col(w, k):
    """Column k as an array, or None when the samples do not have it (an
    older sampler) or hold -1 (no vshape_host device: the in-tree
    configurations)."""
    if k not in w[0]:
        return None
    v = col(w, k)
    return None if np.all(v < 0) else np.maximum(v, 0)


def opt_stat(v, fn):
    """fn(v) in MiB, or None when v is None."""
    return None if v is None else float(fn(v)) / MiB


def frac(a, b):
    """a / b, or None when b is 0."""
    return a / b if b else None


def analyse(rows, cfg, k=None):
    w = window(rows)
    if k is not None:
        w = cut(w, k)
    if len(w) < 3:
        return None
    t = col(w, "t1")
    t = t - t[0]
    foot = col(w, "memfd_bytes")
    shmem = col(w, "shmem_bytes")
    balloon = np.maximum(col(w, "balloon_kb"), 0) * 1024
    used = (col(w, "total_kb") - col(w, "avail_kb")) * 1024
    # what the guest holds (not free, not ballooned) and, beside the
    # footprint, what the host keeps backed that the guest does not hold
    # (free memory not returned, and L2's memory outside MemTotal)
    held = (col(w, "total_kb") - col(w, "free_kb")) * 1024
    if cfg.startswith("vshape"):
        used = used - balloon
        held = held - balloon
    demand = col(w, "demand_kb") * 1024
    # vshape_host's own view of the balloon (sampler.c, L1): what it
    # holds INFLATED, RESERVED (charged, not populated: a RESERVE parts
    # the guest's balloon from the host's inflated) and COMMITTED
    reserved = opt_col(w, "dev_reserved")
    committed = opt_col(w, "dev_committed")
    phases = [r["phase"] for r in w]
    # ramps and drops of the demand, without page reporting's blocks in
    # flight (metrics.without_spikes); at the 64 MiB and at half
    # of it, for workloads scaled down (an 80 MiB batch moves guest used
    # by 60-90 MiB)
    demand_used = M.without_spikes(t, used)
    changes = {}
    for tag, h in (("", M.RAMP_BYTES), ("_32mib", SMALL_RAMP)):
        covered, nramps, _ = M.ramp_coverage(t, demand_used, foot, h)
        lags = M.reaction_lags(t, demand_used, foot, h)
        got = [d["lag"] for d in lags if d["lag"] is not None]
        changes.update({
            "ramps" + tag: nramps,
            "ramps" + tag + "_backed_before": covered,
            "drops" + tag: len(lags),
            "drops" + tag + "_returned": len(got),
            "reaction_lag" + tag + "_median_s": float(np.median(got)) if got else None,
        })
    runtimes = M.phase_runtimes(t, phases)
    runtimes.pop("end", None)
    return {
        "runtime_s": float(t[-1]),
        "phase_runtime_s": runtimes,
        "footprint_gib_s": M.integral(t, foot) / GiB,
        "footprint_peak_mib": float(foot.max()) / MiB,
        "footprint_mean_mib": M.integral(t, foot) / MiB / max(float(t[-1]), 1e-9),
        "shmem_gib_s": M.integral(t, shmem) / GiB,
        "shmem_peak_mib": float(shmem.max()) / MiB,
        "used_gib_s": M.integral(t, used) / GiB,
        "used_peak_mib": float(used.max()) / MiB,
        "backed_not_held_mean_mib": M.integral(t, foot - held) / MiB / max(float(t[-1]), 1e-9),
        "balloon_mean_mib": M.integral(t, balloon) / MiB / max(float(t[-1]), 1e-9),
        "reserved_mean_mib": None if reserved is None else
        M.integral(t, reserved) / MiB / max(float(t[-1]), 1e-9),
        "reserved_peak_mib": opt_stat(reserved, np.max),
        "committed_peak_mib": opt_stat(committed, np.max),
        # vshape_guest's page reporting (sampler.c; -1 where absent)
        "reported_mib": opt_delta(w, "reported_bytes", MiB),
        "report_skipped_blocks": opt_delta(w, "report_skipped"),
        "report_errors": opt_delta(w, "report_errors"),
        "psi_some_s": M.counter_delta(col(w, "psi_some_us")) / 1e6,
        "psi_full_s": M.counter_delta(col(w, "psi_full_us")) / 1e6,
        "major_faults": M.counter_delta(col(w, "pgmajfault")),
        "refaults": M.counter_delta(col(w, "refault_anon")) +
        M.counter_delta(col(w, "refault_file")),
        "oom_kills": M.counter_delta(col(w, "oom_kill")),
        **changes,
        "ramp_coverage": frac(changes["ramps_backed_before"], changes["ramps"]),
        "samples": len(w),
        "series": {"t": t, "used": used, "foot": foot, "balloon": balloon,
                   "demand": demand, "reserved": reserved,
                   "committed": committed, "phases": phases},
    }


summary = M.summary


def fmt(s, digits=1):
    if s is None:
        return "n/a"
    if s["n"] == 1 or s["min"] == s["max"]:
        return "%.*f" % (digits, s["median"])
    return "%.*f [%.*f–%.*f]" % (digits, s["median"], digits, s["min"],
                                 digits, s["max"])


def kernel_problems(path):
    """Lines of an L2 kernel log that report a problem (WARN, BUG, Oops,
    a call trace, a hung task, lockdep), or None when there is no log."""
    if not os.path.exists(path):
        return None
    pat = re.compile(r"WARNING:|BUG:|Oops|Call Trace:|hung_task|blocked for more than|"
                     r"possible circular locking|KASAN")
    return [line.rstrip() for line in open(path, errors="replace") if pat.search(line)]


def collect(raw):
    """Every finished run (a .meta exists), cut to the cycles that every
    run of its repetition completed, so that a repetition compares the
    same work (a run whose L2 was stopped early keeps its whole cycles).
    Returns (runs, notes): notes[rep] = {"cycles": k, "cut": {cfg: n}}."""
    loaded = {}
    for path in sorted(glob.glob(os.path.join(raw, "rep*-*.csv"))):
        m = re.match(r"rep(\d+)-(.+)\.csv$", os.path.basename(path))
        if not os.path.exists(path[:-4] + ".meta"):
            continue            # still running, or its L1 was stopped
        rep, cfg = int(m.group(1)), m.group(2)
        rows, meta = load_run(path)
        done = cycles(window(rows))[1]
        if done < 1:
            continue
        loaded.setdefault(rep, {})[cfg] = (rows, meta, done)
    runs, notes = {}, {}
    for rep, per in loaded.items():
        k = min(d for _, _, d in per.values())
        notes[rep] = {"cycles": k,
                      "complete_cycles": {c: d for c, (_, _, d) in per.items()}}
        for cfg, (rows, meta, done) in per.items():
            res = analyse(rows, cfg, k)
            if res is None:
                continue
            res["workload_rc"] = meta.get("workload_rc")
            res["driver"] = meta.get("driver", "")
            for mk in ("l2_boot_s", "setup_s", "settle_s", "settle", "settle_balloon_mib",
                       "settle_target_mib", "workload_s", "end_utc"):
                if mk in meta:
                    res[mk] = meta[mk]
            res["l2_kernel_problems"] = kernel_problems(
                os.path.join(raw, "rep%d-%s.dmesg" % (rep, cfg)))
            res["cycles_compared"] = k
            res["complete_cycles"] = done
            runs.setdefault(rep, {})[cfg] = res
    return runs, notes


KEYS = ["footprint_gib_s", "footprint_peak_mib", "footprint_mean_mib", "shmem_gib_s", "used_gib_s",
        "backed_not_held_mean_mib", "balloon_mean_mib", "reserved_mean_mib",
        "reserved_peak_mib", "committed_peak_mib",
        "runtime_s", "psi_some_s", "psi_full_s", "major_faults", "refaults",
        "oom_kills", "ramp_coverage", "reaction_lag_median_s", "reported_mib",
        "report_skipped_blocks", "report_errors"]


def summarise(runs):
    cfgs = [c for c in ORDER if any(c in r for r in runs.values())]
    out = {}
    for c in cfgs:
        per = [runs[r][c] for r in sorted(runs) if c in runs[r]]
        s = {k: summary([p[k] for p in per]) for k in KEYS}
        # ratios within each repetition (same L1 boot, nearby in time),
        # then their median and range: the integral moves with runtime,
        # which moves with the machine's load, so the mean footprint
        # (integral / runtime) and the runtime are given apart too
        for base in ("fpr", "none"):
            for k, name in (("footprint_gib_s", "footprint"),
                            ("footprint_mean_mib", "mean"),
                            ("footprint_peak_mib", "peak"),
                            ("runtime_s", "runtime")):
                s[name + "_vs_" + base] = summary(M.rep_ratios(runs, c, base, k))
        s["footprint_over_used"] = summary(
            [p["footprint_gib_s"] / p["used_gib_s"] for p in per])
        s["ramps"] = sum(p["ramps"] for p in per)
        s["ramps_backed_before"] = sum(p["ramps_backed_before"] for p in per)
        s["drops"] = sum(p["drops"] for p in per)
        for k in ("ramps_32mib", "ramps_32mib_backed_before", "drops_32mib",
                  "drops_32mib_returned"):
            s[k] = sum(p[k] for p in per)
        s["reaction_lag_32mib_median_s"] = summary(
            [p["reaction_lag_32mib_median_s"] for p in per])
        s["drops_returned"] = sum(p["drops_returned"] for p in per)
        s["oom_kills_total"] = sum(max(0, p["oom_kills"]) for p in per)
        phases = sorted({k for p in per for k in p["phase_runtime_s"]})
        s["phase_runtime_s"] = {ph: summary([p["phase_runtime_s"].get(ph) for p in per])
                                for ph in phases}
        s["workload_rc"] = [p["workload_rc"] for p in per]
        s["driver"] = per[0]["driver"]
        out[c] = s
    if "none" in cfgs:
        per = [runs[r]["none"] for r in sorted(runs) if "none" in runs[r]]
        o = {"footprint_gib_s": summary([p["used_gib_s"] for p in per])}
        oruns = {r: {"oracle": {"f": runs[r]["none"]["used_gib_s"]},
                     **{b: {"f": runs[r][b]["footprint_gib_s"]}
                        for b in ("fpr", "none") if b in runs[r]}}
                 for r in runs if "none" in runs[r]}
        for base in ("fpr", "none"):
            o["footprint_vs_" + base] = summary(M.rep_ratios(oruns, "oracle", base, "f"))
        out["oracle"] = o
    return out


def x2(v):
    return "n/a" if v is None else "%.2fx" % v


def goals(s):
    """The issue's goals, evaluated on the medians."""
    g = []
    vp, vr = s.get("vshape-predict"), s.get("vshape-reactive")

    def med(x, k):
        return x[k]["median"] if x and x.get(k) else None
    if vp:
        f, r = med(vp, "footprint_vs_fpr"), med(vp, "runtime_vs_none")
        g.append(("vshape-predict footprint <= 0.75x fpr with runtime <= 1.02x none",
                  f is not None and r is not None and f <= 0.75 and r <= 1.02,
                  "footprint integral %s fpr, runtime %s none (mean footprint %s fpr, "
                  "runtime %s fpr)" % (x2(f), x2(r), x2(med(vp, "mean_vs_fpr")),
                                       x2(med(vp, "runtime_vs_fpr")))))
        o = med(vp, "footprint_over_used")
        on = med(s.get("oracle"), "footprint_vs_none")
        f_none = med(vp, "footprint_vs_none")
        g.append(("vshape-predict footprint <= 20% above the oracle (what the guest "
                  "used in the same run)",
                  o is not None and o <= 1.2,
                  ("%.0f%% above its own run's guest used" % ((o - 1) * 100) if o else "n/a") +
                  ("; %+.0f%% against the none run's guest used" % ((f_none / on - 1) * 100)
                   if f_none and on else "")))
        rb, rn = vp["ramps_backed_before"], vp["ramps"]
        g.append(("backing in place before >= 80% of ramps (vshape-predict)",
                  rn > 0 and rb / rn >= 0.8,
                  "%d of %d ramps of >= 64 MiB; %d of %d of >= 32 MiB" % (
                      rb, rn, vp["ramps_32mib_backed_before"], vp["ramps_32mib"])))
    ooms = {c: x["oom_kills_total"] for c, x in s.items() if "oom_kills_total" in x}
    g.append(("no OOM kill in any configuration", all(v == 0 for v in ooms.values()),
              ", ".join("%s %d" % kv for kv in ooms.items())))
    if vp and vr:
        ps, rs = med(vp, "psi_some_s"), med(vr, "psi_some_s")
        pc, rc, ps32, rs32 = (frac(x["ramps%s_backed_before" % h], x["ramps" + h]) or 0
                              for h in ("", "_32mib") for x in (vp, vr))
        g.append(("vshape-predict better than vshape-reactive on stall time or ramp coverage",
                  (ps is not None and rs is not None and ps < rs) or pc > rc,
                  "PSI some %.1f vs %.1f s, ramps backed %.0f%% vs %.0f%% "
                  "(at 32 MiB: %.0f%% vs %.0f%%)" %
                  (ps or 0, rs or 0, pc * 100, rc * 100, ps32 * 100, rs32 * 100)))
    return [{"goal": a, "met": bool(b), "measured": c} for a, b, c in g]


def table(s, nreps, gl):
    L = []
    L.append("Medians [min–max] over %d repetitions%s.  Every ratio is taken within a "
             "repetition (the same L1 boot, the configurations one after the other), "
             "then its median and range are given; mean = integral / runtime." % (
                 nreps, " (the median of two is their mean)" if nreps == 2 else ""))
    L.append("")
    L.append("| configuration | footprint GiB·s | × fpr | × none | mean MiB | × fpr | × none | "
             "peak MiB | runtime s | × fpr | × none | guest used GiB·s | footprint / used | "
             "L1 Shmem GiB·s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in ORDER + ["oracle"]:
        x = s.get(c)
        if not x:
            continue
        if c == "oracle":
            L.append("| oracle (guest used of the none run) | %s | %s | %s | | | | | | | | | | |" % (
                fmt(x["footprint_gib_s"]), fmt(x["footprint_vs_fpr"], 2),
                fmt(x["footprint_vs_none"], 2)))
            continue
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c, fmt(x["footprint_gib_s"]), fmt(x["footprint_vs_fpr"], 2),
            fmt(x["footprint_vs_none"], 2), fmt(x["footprint_mean_mib"], 0),
            fmt(x["mean_vs_fpr"], 2), fmt(x["mean_vs_none"], 2),
            fmt(x["footprint_peak_mib"], 0), fmt(x["runtime_s"], 0),
            fmt(x["runtime_vs_fpr"], 2), fmt(x["runtime_vs_none"], 2),
            fmt(x["used_gib_s"]), fmt(x["footprint_over_used"], 2), fmt(x["shmem_gib_s"])))
    L.append("")
    L.append("Behaviour (PSI, faults, means and reporting: median [min–max] per run; "
             "ramps and drops: summed over the repetitions, taken on guest used without "
             "the spikes of page reporting's blocks in flight; backed, not held: the "
             "footprint less what the guest holds, MemTotal − MemFree − balloon, i.e. "
             "free memory still backed plus L2's backed memory outside MemTotal; "
             "reserved, committed: vshape_host's RESERVED and COMMITTED bytes as L1 "
             "samples them; reporting: vshape_guest's own counters; n/a for the in-tree "
             "driver):")
    L.append("")
    L.append("| configuration | PSI some / full s | major faults | refaults | OOM kills | "
             "ramps ≥ 64 MiB backed before | drops ≥ 64 MiB returned, lag s | "
             "ramps ≥ 32 MiB backed before | drops ≥ 32 MiB returned, lag s | "
             "backed, not held, mean MiB | balloon mean MiB | "
             "reserved mean / peak MiB | committed peak MiB | "
             "reported MiB / skipped (COMMITted) blocks / errors |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in ORDER:
        x = s.get(c)
        if not x:
            continue
        L.append("| %s | %s / %s | %s | %s | %d | %d/%d | %d/%d, %s | %d/%d | %d/%d, %s "
                 "| %s | %s | %s | %s | %s |" % (
            c, fmt(x["psi_some_s"]), fmt(x["psi_full_s"]), fmt(x["major_faults"], 0),
            fmt(x["refaults"], 0), x["oom_kills_total"], x["ramps_backed_before"],
            x["ramps"], x["drops_returned"], x["drops"], fmt(x["reaction_lag_median_s"]),
            x["ramps_32mib_backed_before"], x["ramps_32mib"], x["drops_32mib_returned"],
            x["drops_32mib"], fmt(x["reaction_lag_32mib_median_s"]),
            fmt(x["backed_not_held_mean_mib"], 0), fmt(x["balloon_mean_mib"], 0),
            "n/a" if x["reserved_mean_mib"] is None else "%s / %s" % (
                fmt(x["reserved_mean_mib"], 0), fmt(x["reserved_peak_mib"], 0)),
            fmt(x["committed_peak_mib"], 0),
            "n/a" if x["reported_mib"] is None else "%s / %s / %s" % (
                fmt(x["reported_mib"], 0), fmt(x["report_skipped_blocks"], 0),
                fmt(x["report_errors"], 0))))
    L.append("")
    phases = []
    for c in ORDER:
        for ph in s.get(c, {}).get("phase_runtime_s", {}):
            if ph not in phases:
                phases.append(ph)
    L.append("Runtime per phase (seconds, summed over the cycles; median [min–max]):")
    L.append("")
    L.append("| configuration | " + " | ".join(phases) + " |")
    L.append("|---|" + "---|" * len(phases))
    for c in ORDER:
        x = s.get(c)
        if x:
            L.append("| %s | " % c + " | ".join(
                fmt(x["phase_runtime_s"].get(ph), 0) for ph in phases) + " |")
    L.append("")
    L.append("Goals (medians; figures, not assertions):")
    L.append("")
    for g in gl:
        L.append("- %s **%s**: %s — %s" % ("✔" if g["met"] else "✘",
                                          "met" if g["met"] else "not met",
                                          g["goal"], g["measured"]))
    return "\n".join(L)


def settle_text(cfg, x):
    """One run's settle wait, from its .meta (l1.sh)."""
    want = x.get("settle_target_mib", "-1")
    return "%s %s s %s at %s MiB%s" % (
        cfg, x.get("settle_s", "?"), x["settle"], x.get("settle_balloon_mib", "?"),
        "" if want in ("", "-1") else " (target %s MiB)" % want)


def settle_lines(runs):
    """The settle wait of every run that recorded one, per repetition
    (markdown; empty when none did)."""
    md = ""
    for r in sorted(runs):
        st = [settle_text(c, runs[r][c]) for c in ORDER
              if c in runs[r] and runs[r][c].get("settle")]
        if st:
            md += "- repetition %d: %s\n" % (r, ", ".join(st))
    if md:
        md = ("\nThe balloon's rest before each workload (bench/scenario/settle.sh: "
              "seconds waited, how it ended — still, near the controller's target, or "
              "the time limit — and the balloon then):\n\n" + md)
    return md


def first_runs(runs):
    """[(configuration, repetition, series)]: each configuration's run in
    the first repetition that has it (the plots and the phase table)."""
    out = []
    for c in ORDER:
        have = [r for r in sorted(runs) if c in runs[r]]
        if have:
            out.append((c, have[0], runs[have[0]][c]["series"]))
    return out


def phase_table(runs):
    """Per configuration of the first repetition, one row per phase
    occurrence: what the guest used and what the host held."""
    L = []
    for c, rep, sr in first_runs(runs):
        t, ph = sr["t"], sr["phases"]
        L.append("%s (repetition %d):" % (c, rep))
        L.append("")
        L.append("| phase | from s | s | guest used peak MiB | footprint at end MiB | "
                 "balloon at end MiB | predicted demand at end MiB |")
        L.append("|---|---|---|---|---|---|---|")
        a = 0
        for i in range(1, len(ph) + 1):
            if i < len(ph) and ph[i] == ph[a]:
                continue
            if ph[a] != "end":
                e = i - 1
                d = sr["demand"][e]
                L.append("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s |" % (
                    ph[a], t[a], t[min(i, len(t) - 1)] - t[a],
                    sr["used"][a:i].max() / MiB, sr["foot"][e] / MiB,
                    sr["balloon"][e] / MiB, "%.0f" % (d / MiB) if d >= 0 else "-"))
            a = i
        L.append("")
    return "\n".join(L)


def plot(runs, img):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    os.makedirs(img, exist_ok=True)
    paths = []
    for c, rep, sr in first_runs(runs):
        t = sr["t"]
        fig, ax = plt.subplots(figsize=(10, 3.6))
        ax.plot(t, sr["foot"] / MiB, label="host footprint (memfd blocks)", color="C3")
        ax.plot(t, sr["used"] / MiB, label="guest used", color="C0")
        if np.any(sr["demand"] >= 0):
            d = np.where(sr["demand"] >= 0, sr["demand"], np.nan)
            ax.plot(t, d / MiB, label="predicted demand", color="C2", ls="--")
        ax.plot(t, sr["balloon"] / MiB, label="balloon", color="C7")
        # vshape_host's RESERVED and COMMITTED (L1's view; vshape only)
        if sr.get("reserved") is not None:
            ax.plot(t, sr["reserved"] / MiB, label="reserved (host)", color="C1",
                    ls=":")
        if sr.get("committed") is not None:
            ax.plot(t, sr["committed"] / MiB, label="committed (host)", color="C4",
                    ls=":")
        ph = sr["phases"]
        for i in range(1, len(ph)):
            if ph[i] != ph[i - 1]:
                ax.axvline(t[i], color="0.85", lw=0.8, zorder=0)
                ax.text(t[i], ax.get_ylim()[1] * 0.98, ph[i], fontsize=6,
                        rotation=90, va="top", color="0.4")
        ax.set_xlabel("seconds (workload)")
        ax.set_ylabel("MiB")
        ax.set_title("scenario: %s (repetition %d)" % (c, rep))
        ax.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        p = os.path.join(img, "scenario-%s.png" % c)
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    # the overview: the repetition with the most configurations
    rep = max(sorted(runs), key=lambda r: len(runs[r]))
    fig, ax = plt.subplots(figsize=(10, 3.6))
    for c in ORDER:
        if c in runs[rep]:
            sr = runs[rep][c]["series"]
            ax.plot(sr["t"], sr["foot"] / MiB, label=c)
    ax.set_xlabel("seconds (workload)")
    ax.set_ylabel("host footprint MiB")
    ax.set_title("scenario: host footprint per configuration (repetition %d)" % rep)
    ax.legend(fontsize=7)
    fig.tight_layout()
    p = os.path.join(img, "scenario-footprint.png")
    fig.savefig(p, dpi=90)
    plt.close(fig)
    paths.append(p)
    return paths


def run_info(raw):
    """run.meta (commit, parameters, start, end, wall time; run.sh) and
    the machine's 1-minute load average over the run (load.txt)."""
    info = {}
    path = os.path.join(raw, "run.meta")
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.rstrip("\n").partition("=")
            info[k] = v
    path = os.path.join(raw, "load.txt")
    if os.path.exists(path):
        load = [float(line.split()[1]) for line in open(path) if len(line.split()) > 1]
        info["load_1min"] = summary(load)
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--json")
    ap.add_argument("--docs")
    ap.add_argument("--img")
    ap.add_argument("--phases", action="store_true",
                    help="also print a table per phase (first repetition)")
    a = ap.parse_args()
    runs, notes = collect(a.raw)
    if not runs:
        print("report: no runs in %s" % a.raw, file=sys.stderr)
        return 1
    s = summarise(runs)
    gl = goals(s)
    md = table(s, len(runs), gl)
    md += "\n\nRuns per repetition (complete cycles; the repetition compares the cycles all its runs completed):\n\n"
    for r in sorted(notes):
        md += "- repetition %d: %s — %d cycle(s) compared\n" % (
            r, ", ".join("%s %d" % kv for kv in sorted(notes[r]["complete_cycles"].items())),
            notes[r]["cycles"])
    md += settle_lines(runs)
    logs = [(r, c, x["l2_kernel_problems"]) for r in sorted(runs) for c, x in runs[r].items()
            if x.get("l2_kernel_problems") is not None]
    bad = [(r, c, p) for r, c, p in logs if p]
    md += "\nL2 kernel logs (WARN, BUG, Oops, call traces, hung tasks): %s.\n" % (
        "no log saved" if not logs else
        "none in the %d logs" % len(logs) if not bad else
        "; ".join("repetition %d %s: %s" % (r, c, p[0]) for r, c, p in bad))
    info = run_info(a.raw)
    if info:
        ld = info.get("load_1min")
        md += "\nThe run: commit %s%s, %s to %s (%s s), %s on %s CPUs.\n" % (
            info.get("commit", "?")[:12],
            " with uncommitted changes" if info.get("tree_dirty", "0") not in ("", "0") else "",
            info.get("start_utc", "?"), info.get("end_utc", "(unfinished)"),
            info.get("wall_s", "?"),
            "load average (1 min, every 30 s) %s" % fmt(ld) if ld else "load not recorded",
            info.get("cpus", "?"))
    print(md)
    if a.phases:
        print()
        print(phase_table(runs))
    if a.json:
        per = {r: {c: {k: v for k, v in x.items() if k != "series"}
                   for c, x in runs[r].items()} for r in runs}
        with open(a.json, "w") as f:
            json.dump({"benchmark": "scenario", "run": run_info(a.raw),
                       "repetitions": len(runs),
                       "cycles_compared": {r: notes[r] for r in notes},
                       "summary": s, "goals": gl, "runs": per}, f, indent=1, default=float,
                      sort_keys=True)
            f.write("\n")
    if a.docs:
        text = open(a.docs).read()
        b, e = "<!-- scenario-table:begin -->", "<!-- scenario-table:end -->"
        if b in text and e in text:
            text = text[:text.index(b) + len(b)] + "\n" + md + "\n" + text[text.index(e):]
            open(a.docs, "w").write(text)
        else:
            print("report: markers missing in %s; table not written" % a.docs,
                  file=sys.stderr)
            return 1
    if a.img:
        for p in plot(runs, a.img):
            print("plot: %s" % p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
