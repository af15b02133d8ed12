#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit test of bench/scenario/metrics.py on synthetic series: integrals,
the zigzag legs, ramp coverage (backing before the rise, or with it) and
reaction lag (the host's drop after the guest's).  TAP on stdout."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scenario"))
import metrics as M  # noqa: E402

MiB, GiB = M.MiB, M.GiB
n = 0
fails = 0


def check(desc, cond):
    global n, fails
    n += 1
    if not cond:
        fails += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, desc))


def step(t, t0, t1, a, b):
    """a before t0, b after t1, linear in between."""
    return np.interp(t, [t0, t1], [a, b])


t = np.arange(0, 60, 0.2)
rng = np.random.default_rng(1)
noise = rng.uniform(-8, 8, len(t)) * MiB   # well below the 64 MiB threshold

check("integral of 1 GiB over 60 s is 60 GiB*s",
      abs(M.integral(t, np.full(len(t), GiB)) / GiB - t[-1]) < 1e-9)
check("integral of a linear ramp 0..2 GiB over 10 s is 10 GiB*s",
      abs(M.integral([0, 10], [0, 2 * GiB]) / GiB - 10) < 1e-9)
check("integral of a single sample is 0", M.integral([1.0], [5.0]) == 0)

# used: idle 100 MiB, rise to 300 MiB over [10, 14], drop at [30, 31]
used = step(t, 10, 14, 100 * MiB, 300 * MiB)
used = np.where(t >= 30, step(t, 30, 31, 300 * MiB, 100 * MiB), used) + noise
lg = M.legs(t, used, M.RAMP_BYTES)
kinds = [k for _, _, k in lg]
check("legs: one rise then one drop despite noise (%s)" % kinds,
      kinds == ["rise", "drop"])
a, b, _ = lg[0]
check("legs: the rise spans about [10, 14] s (%.1f-%.1f)" % (t[a], t[b]),
      9 <= t[a] <= 10.4 and 13.6 <= t[b] <= 15)
check("legs: a series that moves less than h has no legs",
      M.legs(t, noise, M.RAMP_BYTES) == [])

# backing already in place: footprint flat at 600 MiB
foot_flat = np.full(len(t), 600 * MiB)
cov, tot, _ = M.ramp_coverage(t, used, foot_flat)
check("ramp coverage: footprint already there -> 1 of 1 backed before",
      (cov, tot) == (1, 1))
# backing follows the guest: footprint = used + 50 MiB
cov, tot, _ = M.ramp_coverage(t, used, used + 50 * MiB)
check("ramp coverage: footprint rising with used -> 0 of 1 backed before",
      (cov, tot) == (0, 1))
# committed ahead: the footprint rises at [5, 7], before the ramp
foot_ahead = step(t, 5, 7, 150 * MiB, 350 * MiB)
cov, tot, _ = M.ramp_coverage(t, used, foot_ahead)
check("ramp coverage: footprint committed 3 s before the ramp -> backed",
      (cov, tot) == (1, 1))
# committed half way: 100 of the 200 MiB in place, the rest during
foot_half = step(t, 5, 7, 150 * MiB, 250 * MiB) + \
    np.clip(used - 200 * MiB, 0, None)
cov, tot, r = M.ramp_coverage(t, used, foot_half)
check("ramp coverage: half committed ahead -> not backed (grew %d MiB)" %
      (r[0]["foot_growth"] // MiB), (cov, tot) == (0, 1))

# reaction lag: footprint falls 3 s after used has fallen half way
foot_lag = np.where(t >= 33.5, 150 * MiB, 350 * MiB)
lags = M.reaction_lags(t, used, foot_lag)
check("reaction lag: one drop", len(lags) == 1)
check("reaction lag: about 3 s (%.2f)" % lags[0]["lag"],
      lags[0]["lag"] is not None and 2.6 <= lags[0]["lag"] <= 3.4)
lags = M.reaction_lags(t, used, foot_flat)
check("reaction lag: footprint never falls -> None",
      len(lags) == 1 and lags[0]["lag"] is None)
# a footprint that falls before the guest's drop is half done: lag 0
foot_early = np.where(t >= 30.3, 150 * MiB, 350 * MiB)
lags = M.reaction_lags(t, used, foot_early)
check("reaction lag: a fall during the drop's first half counts as 0 (%s)" %
      lags[0]["lag"], lags[0]["lag"] == 0)

ph = ["a"] * 10 + ["b"] * 5 + ["a"] * 5
pt = np.arange(20) * 1.0
rt = M.phase_runtimes(pt, ph)
check("phase runtimes add up per name (%s)" % rt,
      rt == {"a": 14.0, "b": 5.0})
check("counter delta of a cumulative counter",
      M.counter_delta([5, 7, 12]) == 7 and M.counter_delta([-1, -1]) == -1)

print("1..%d" % n)
sys.exit(1 if fails else 0)
