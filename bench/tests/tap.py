# SPDX-License-Identifier: GPL-2.0
"""TAP for the bench unit tests (bench/tests/test-*.py), and loading the
module under test from its file.

    from tap import ok, plan, done, load
    mod = load("shaping/table.py")   # relative to bench/
    plan(3)                          # optional: the plan first
    ok(cond, "what it shows")        # ok N / not ok N
    done()                           # the plan (if not given first), exit 1 on a failure

done() also fails a plan that does not match the number of results.
"""
import importlib.util
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
_n = 0
_failed = 0
_planned = None


def load(path):
    """The module in bench/PATH, loaded from its file (so that a name
    like table.py does not clash); its directory is searched for what it
    imports."""
    full = os.path.join(BENCH, path)
    sys.path.insert(0, os.path.dirname(full))
    name = os.path.splitext(path)[0].replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, full)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def plan(count):
    global _planned
    _planned = count
    print("1..%d" % count)


def ok(cond, desc):
    global _n, _failed
    _n += 1
    if not cond:
        _failed += 1
    print("%sok %d - %s" % ("" if cond else "not ", _n, desc))
    return bool(cond)


def done():
    if _planned is None:
        print("1..%d" % _n)
    elif _planned != _n:
        print("# plan 1..%d but %d results" % (_planned, _n))
        sys.exit(1)
    sys.exit(1 if _failed else 0)
