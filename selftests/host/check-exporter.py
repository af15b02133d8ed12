#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check tools/vshape-exporter against the running vshape_host.

  check-exporter.py SOURCE...      each SOURCE the exporter's output: a
                                   file, - (stdin) or the http:// URL of
                                   its --listen server

Parses the Prometheus text format 0.0.4 strictly (every line a HELP,
TYPE or sample; HELP and TYPE once per family and before its samples;
families contiguous; no duplicate series; counters named *_total; label
values escaped), then compares every value with sysfs and debugfs read
now, and fails on a missing series or one the kernel does not explain.
Call it while no request is in flight.  Prints the problems as
"# ..." lines; exit 0 if none, 1 otherwise.
"""

import os
import re
import sys
import time
import urllib.error
import urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
ONE_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

SYS = "/sys"
LEDGER = SYS + "/kernel/vshape_host"
VDPA = SYS + "/bus/vdpa/devices"
DBG = "/sys/kernel/debug/vshape_host"


def parse(text, problems):
    """{(name, frozenset(labels)): value} and {name: type}."""
    series, types, helps, done = {}, {}, {}, set()
    current = None
    if not text.endswith("\n"):
        problems.append("output does not end with a newline")
    for no, line in enumerate(text.splitlines(), 1):
        m = HELP.match(line)
        if m:
            if m.group(1) in helps:
                problems.append("line %d: second HELP for %s" % (no, m.group(1)))
            helps[m.group(1)] = m.group(2)
            if current and current != m.group(1):
                done.add(current)
            current = m.group(1)
            continue
        m = TYPE.match(line)
        if m:
            name = m.group(1)
            if name in types:
                problems.append("line %d: second TYPE for %s" % (no, name))
            if name != current:
                problems.append("line %d: TYPE %s not after its HELP" % (no, name))
            types[name] = m.group(2)
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d: not in the text format: %r" % (no, line))
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name != current or name not in types:
            problems.append("line %d: sample of %s outside its family "
                            "(HELP and TYPE first, families contiguous)"
                            % (no, name))
        if name in done:
            problems.append("line %d: family %s appears twice" % (no, name))
        if types.get(name) == "counter" and not name.endswith("_total"):
            problems.append("line %d: counter %s not named *_total" % (no, name))
        try:
            v = float(value)
        except ValueError:
            problems.append("line %d: value %r is not a number" % (no, value))
            continue
        if v < 0 or v != int(v):
            problems.append("line %d: %s = %s, not a count" % (no, name, value))
        labs = frozenset(ONE_LABEL.findall(labels))
        if len(labs) != len(ONE_LABEL.findall(labels)):
            problems.append("line %d: a label twice" % no)
        key = (name, labs)
        if key in series:
            problems.append("line %d: duplicate series %s{%s}" % (no, name, labels))
        series[key] = int(v)
    return series, types


def read(path):
    with open(path) as f:
        return f.read().strip()


def pairs(path):
    out = {}
    for line in read(path).splitlines():
        k, v = line.split()
        out[k] = int(v, 0)
    return out


def expected():
    """The series the exporter must write, from sysfs and debugfs."""
    want = {("vshape_host_up", frozenset()): 1,
            ("vshape_host_debugfs_up", frozenset()): 1}
    for f in ("capacity_bytes", "charged_bytes", "free_bytes"):
        want[("vshape_host_ledger_" + f, frozenset())] = int(read(LEDGER + "/" + f))
    devs = sorted(d for d in os.listdir(VDPA)
                  if os.path.isdir(os.path.join(VDPA, d, "vshape")))
    for d in devs:
        dev = ("device", d)
        grp = os.path.join(VDPA, d, "vshape")
        for f in ("inflated_bytes", "reserved_bytes", "committed_bytes",
                  "quota_bytes", "capacity_hint_bytes", "target_pages",
                  "actual_pages"):
            want[("vshape_host_device_" + f, frozenset([dev]))] = int(read(grp + "/" + f))
        want[("vshape_host_device_mode",
              frozenset([dev, ("mode", read(grp + "/mode"))]))] = 1
        st = pairs(os.path.join(DBG, d, "stats"))
        led = pairs(os.path.join(DBG, d, "ledger"))
        want[("vshape_host_device_charged_bytes", frozenset([dev]))] = \
            led["device_charged_bytes"]
        for k, v in st.items():
            for prefix, metric, label in (
                    ("req_", "requests_total", "op"),
                    ("status_", "responses_total", "status"),
                    ("bad_", "rejected_total", "reason")):
                if k.startswith(prefix):
                    want[("vshape_host_device_" + metric,
                          frozenset([dev, (label, k[len(prefix):])]))] = v
        for k, metric in (("throttled", "rate_limited_total"),
                          ("backing_err", "backing_errors_total"),
                          ("inflate_pages", "inflate_pages_total"),
                          ("deflate_pages", "deflate_pages_total"),
                          ("punched_bytes", "punched_bytes_total"),
                          ("populated_bytes", "populated_bytes_total"),
                          ("refilled_bytes", "refilled_bytes_total")):
            want[("vshape_host_device_" + metric, frozenset([dev]))] = st[k]
    return want, devs


def fetch(url):
    """The body served at url, retrying while the server starts."""
    for _ in range(300):
        try:
            r = urllib.request.urlopen(url, timeout=30)
            break
        except urllib.error.URLError as e:
            if not isinstance(e.reason, ConnectionRefusedError):
                raise
            time.sleep(0.2)
    else:
        return None, "nothing listens at %s" % url
    with r:
        ctype = r.headers.get("Content-Type", "")
        text = r.read().decode()
    if not ctype.startswith("text/plain; version=0.0.4"):
        return None, "%s: Content-Type %r" % (url, ctype)
    return text, None


def check(source, text, want, devs):
    problems = []
    series, types = parse(text, problems)
    if not devs:
        problems.append("no vshape_host device in %s" % VDPA)
    for key, v in sorted(want.items(), key=str):
        name, labs = key
        shown = "%s{%s}" % (name, ",".join("%s=%s" % l for l in sorted(labs)))
        if key not in series:
            problems.append("missing: %s (kernel says %d)" % (shown, v))
        elif series[key] != v:
            problems.append("%s = %d, kernel says %d" % (shown, series[key], v))
    for key in sorted(set(series) - set(want), key=str):
        problems.append("not checked against the kernel: %s%s"
                        % (key[0], sorted(key[1])))
    for p in problems:
        print("# %s: %s" % (source, p))
    print("# %s: %d series, %d families, %d compared with sysfs/debugfs"
          % (source, len(series), len(types), len(want)))
    return not problems


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    want, devs = expected()
    good = True
    for source in sys.argv[1:]:
        if source.startswith("http://"):
            text, err = fetch(source)
            if err:
                print("# " + err)
                good = False
                continue
        elif source == "-":
            text = sys.stdin.read()
        else:
            with open(source) as f:
                text = f.read()
        good = check(source, text, want, devs) and good
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
