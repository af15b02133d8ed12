# SPDX-License-Identifier: GPL-2.0
"""Metrics of the scenario benchmark, on sampled series (numpy arrays).

Pure functions, no I/O, so bench/tests/test-scenario-metrics.py checks
them on synthetic series.  Times in seconds, sizes in bytes.

- integral(t, y): trapezoid integral (byte-seconds);
- legs(t, y, h): the zigzag of a series with hysteresis h: the turning
  points where it changed direction by at least h, as a list of legs
  (i0, i1, kind) with kind "rise" or "drop";
- ramp_coverage(t, used, foot, h): of the rises in guest used of at least
  h, the ones whose backing was already in place: the host footprint grew
  during the rise by at most COVER_SLACK of the rise;
- reaction_lags(t, used, foot, h): for every drop in guest used of at
  least h, the time from the moment used had fallen by half the drop to
  the moment the host footprint had fallen by half the drop (measured
  from the footprint at the drop's start); None when the footprint never
  fell that far before the next rise (or the end);
- without_spikes(t, y, width): y with its upward spikes narrower than
  width seconds cut off (a morphological opening): free page reporting
  takes the blocks it reports off the free lists until the host has
  freed them, so MemFree and MemAvailable drop, and "guest used" jumps,
  by up to 64 MiB and more for 0.2-1 s at every report; such a jump is
  no demand, and ramps and drops are taken on the series without it;
- rep_ratios(runs, cfg, base, key): cfg's key over base's key within
  each repetition that has both (runs[rep][cfg][key]), so that load
  which moved between repetitions cancels; summary(values): their
  median and range.
"""
import numpy as np

MiB = 1 << 20
GiB = 1 << 30
RAMP_BYTES = 64 * MiB
# A rise is "backed before" when the host footprint grew by at most this
# fraction of it while the guest used it (the rest was already backed).
COVER_SLACK = 0.2
# Plateau tolerance of a leg's ends, as a fraction of the leg.
TRIM = 0.1
# Upward spikes of guest used narrower than this are no demand (see
# without_spikes): page reporting's blocks in flight lasted 1-5 samples
# of 200 ms (0.2-1 s) in the committed runs.
SPIKE_S = 2.0


def integral(t, y):
    """Trapezoid integral of y over t (y units x seconds)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(t) < 2:
        return 0.0
    return float(np.sum((y[1:] + y[:-1]) * np.diff(t)) / 2)


def legs(t, y, h):
    """Zigzag legs of y with hysteresis h: [(i0, i1, "rise"|"drop")].

    A leg runs from one turning point to the next; consecutive legs
    alternate.  A turning point is confirmed once the series has moved
    h away from it; the last, unconfirmed, extreme ends the last leg if
    the move to it is at least h.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n < 2:
        return []
    turns = []          # indices of confirmed turning points
    lo = hi = 0         # running extremes since the last turning point
    direction = 0       # +1 rising, -1 falling, 0 unknown
    for i in range(1, n):
        if direction >= 0 and y[i] > y[hi]:
            hi = i
        if direction <= 0 and y[i] < y[lo]:
            lo = i
        if direction == 0:
            if y[hi] - y[lo] >= h:
                # the first extreme reached is where the first leg starts
                start = lo if lo < hi else hi
                turns.append(start)
                direction = 1 if lo < hi else -1
                lo = hi = i
                if direction == 1:
                    hi = i
                else:
                    lo = i
        elif direction == 1:
            if y[hi] - y[i] >= h:
                turns.append(hi)
                direction = -1
                lo = i
        else:
            if y[i] - y[lo] >= h:
                turns.append(lo)
                direction = 1
                hi = i
    if direction == 1 and y[hi] - y[turns[-1]] >= h:
        turns.append(hi)
    elif direction == -1 and y[turns[-1]] - y[lo] >= h:
        turns.append(lo)
    out = []
    for a, b in zip(turns, turns[1:]):
        # Trim the flat ends (an extreme of the noise may lie anywhere on
        # a plateau): the leg starts where the series last left the
        # start's level and ends where it first reached the end's, both
        # within TRIM of the leg's size.
        tol = TRIM * abs(y[b] - y[a])
        seg = y[a:b + 1]
        if y[b] > y[a]:
            a2 = a + int(np.nonzero(seg <= y[a] + tol)[0][-1])
            b2 = a2 + int(np.nonzero(y[a2:b + 1] >= y[b] - tol)[0][0])
            out.append((a2, b2, "rise"))
        else:
            a2 = a + int(np.nonzero(seg >= y[a] - tol)[0][-1])
            b2 = a2 + int(np.nonzero(y[a2:b + 1] <= y[b] + tol)[0][0])
            out.append((a2, b2, "drop"))
    return out


def _window_extreme(t, y, half, fn):
    """fn (np.min or np.max) of y over [t_i - half, t_i + half], each i."""
    lo = np.searchsorted(t, t - half, side="left")
    hi = np.searchsorted(t, t + half, side="right")
    return np.array([fn(y[a:b]) for a, b in zip(lo, hi)])


def without_spikes(t, y, width=SPIKE_S):
    """y with its upward spikes narrower than width seconds removed: the
    maximum over a window of width of the minimum over the same window
    (an opening).  A plateau at least width long keeps its level; a
    rise keeps its start, and its end if it holds width."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(y) < 2:
        return y.copy()
    half = width / 2
    return _window_extreme(t, _window_extreme(t, y, half, np.min), half, np.max)


def ramp_coverage(t, used, foot, h=RAMP_BYTES):
    """(covered, total, per-ramp list) for rises in used of >= h.

    Each entry: dict(t0, t1, rise, foot_growth, covered)."""
    used = np.asarray(used, dtype=float)
    foot = np.asarray(foot, dtype=float)
    ramps = []
    for a, b, kind in legs(t, used, h):
        if kind != "rise":
            continue
        rise = used[b] - used[a]
        growth = max(0.0, float(np.max(foot[a:b + 1]) - foot[a]))
        ramps.append({"t0": float(t[a]), "t1": float(t[b]),
                      "rise": float(rise), "foot_growth": growth,
                      "covered": bool(growth <= COVER_SLACK * rise)})
    return int(sum(r["covered"] for r in ramps)), len(ramps), ramps


def reaction_lags(t, used, foot, h=RAMP_BYTES):
    """Per drop in used of >= h: dict(t0, drop, lag) (lag None if the
    footprint did not fall by half the drop before the next rise)."""
    t = np.asarray(t, dtype=float)
    used = np.asarray(used, dtype=float)
    foot = np.asarray(foot, dtype=float)
    lg = legs(t, used, h)
    out = []
    for k, (a, b, kind) in enumerate(lg):
        if kind != "drop":
            continue
        drop = used[a] - used[b]
        # until the end of the following rise (or the end of the series)
        end = lg[k + 1][1] if k + 1 < len(lg) else len(t) - 1
        half_used = np.nonzero(used[a:b + 1] <= used[a] - drop / 2)[0]
        tu = t[a + half_used[0]]
        a0 = max(0, a - 1)      # the footprint just before the drop began
        fall = np.nonzero(foot[a0:end + 1] <= foot[a0] - drop / 2)[0]
        lag = None
        if len(fall):
            lag = max(0.0, float(t[a0 + fall[0]] - tu))
        out.append({"t0": float(t[a]), "drop": float(drop), "lag": lag})
    return out


def phase_runtimes(t, phases):
    """Seconds spent per phase name (sum over its occurrences), from the
    phase column of consecutive samples."""
    out = {}
    for i in range(len(t) - 1):
        out[phases[i]] = out.get(phases[i], 0.0) + float(t[i + 1] - t[i])
    return out


def counter_delta(v):
    """Increase of a cumulative counter over the series (-1 if absent)."""
    v = np.asarray(v, dtype=float)
    if len(v) == 0 or v[0] < 0:
        return -1
    return float(v[-1] - v[0])


def rep_ratios(runs, cfg, base, key):
    """[runs[r][cfg][key] / runs[r][base][key] for each repetition r that
    ran both] (in repetition order; a base of 0 or None is left out)."""
    out = []
    for r in sorted(runs):
        x, b = runs[r].get(cfg), runs[r].get(base)
        if x is None or b is None or x.get(key) is None or not b.get(key):
            continue
        out.append(float(x[key]) / float(b[key]))
    return out


def summary(values):
    """dict(median, min, max, n) of the values that are not None, or
    None when there are none."""
    v = [float(x) for x in values if x is not None]
    if not v:
        return None
    return {"median": float(np.median(v)), "min": min(v), "max": max(v),
            "n": len(v)}
