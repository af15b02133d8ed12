#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Balloon inflate/deflate benchmark: vshape_guest against Debian's
in-tree virtio_balloon, on the same QEMU and the same VM.

    bench/balloon/bench.py [--kernel 6.12] [--mem-gib 6] [--sizes 1,4]
                           [--reps 3] [--append CMDLINE] [--json OUT]

Boots one VM (QEMU's stock virtio-balloon-pci, deflate-on-oom=on, QMP),
runs bench/balloon/guest.sh in it, and for each repetition, for each
driver in turn (the order alternates between repetitions): loads the
driver in the guest, then for each size N sets the QMP balloon target to
RAM - N GiB and times, from the host, until query-balloon's `actual`
equals it (polled every --poll-ms over one QMP connection), then sets it
back to RAM (deflate) and times that the same way; then unloads the
driver.  Prints one JSON document (all samples) on stdout or to --json.
Python stdlib only.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
GIB = 1 << 30


def log(msg):
    sys.stderr.write("# %s\n" % msg)
    sys.stderr.flush()


class QMP:
    """One persistent QMP connection; events are skipped."""

    def __init__(self, path, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        s.settimeout(60)
        self.sock, self.buf = s, b""
        self._recv()  # greeting
        self.cmd("qmp_capabilities")

    def _recv(self):
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise RuntimeError("QMP connection closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                msg = json.loads(line)
                if "event" not in msg:
                    return msg

    def cmd(self, name, **args):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\r\n")
        reply = self._recv()
        if "error" in reply:
            raise RuntimeError("QMP %s: %s" % (name, reply["error"]))
        return reply.get("return", {})

    def actual(self):
        return self.cmd("query-balloon")["actual"]


class Mailbox:
    """Requests to bench/balloon/guest.sh through the shared directory,
    in the protocol of selftests/lib/mailbox.sh: req.N (renamed into
    place), the answer in resp.N, its status in st.N (written last)."""

    def __init__(self, box):
        self.box, self.n = box, 0

    def text(self, req, timeout=120.0):
        self.n += 1
        tmp = os.path.join(self.box, "req.tmp")
        with open(tmp, "w") as f:
            f.write(req + "\n")
        os.rename(tmp, os.path.join(self.box, "req.%d" % self.n))
        st = os.path.join(self.box, "st.%d" % self.n)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(st) and os.path.getsize(st) > 0):
            if time.monotonic() > deadline:
                raise RuntimeError("guest did not answer %r" % req)
            time.sleep(0.1)
        with open(os.path.join(self.box, "resp.%d" % self.n)) as f:
            return f.read()

    def ask(self, req, timeout=120.0):
        out = {}
        for line in self.text(req, timeout).splitlines():
            k, sep, v = line.partition("=")
            if sep:
                out[k] = v
        if "error" in out:
            raise RuntimeError("guest: %s: %s" % (req, out["error"]))
        return out


def move(qmp, target, poll, timeout):
    """Set the balloon target (bytes of guest RAM) and time until actual
    reaches it.  Returns (seconds, polls)."""
    t0 = time.monotonic()
    qmp.cmd("balloon", value=target)
    polls = 0
    while True:
        cur = qmp.actual()
        polls += 1
        now = time.monotonic()
        if cur == target:
            return now - t0, polls
        if now - t0 > timeout:
            raise RuntimeError("actual %d never reached %d in %.0f s"
                               % (cur, target, timeout))
        time.sleep(poll)


def settle(qmp, target, timeout=120):
    """Wait until actual equals target (untimed)."""
    deadline = time.monotonic() + timeout
    while qmp.actual() != target:
        if time.monotonic() > deadline:
            raise RuntimeError("balloon did not settle at %d" % target)
        time.sleep(0.05)


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", default="6.12")
    ap.add_argument("--mem-gib", type=int, default=6)
    ap.add_argument("--sizes", default="1,4", help="GiB, comma-separated")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--poll-ms", type=float, default=20.0)
    ap.add_argument("--move-timeout", type=float, default=300.0)
    ap.add_argument("--append", default="",
                    help="extra guest kernel command line (e.g. init_on_alloc=0)")
    ap.add_argument("--json")
    a = ap.parse_args()

    kver = subprocess.check_output([TOP + "/scripts/kernels", a.kernel],
                                   text=True).split()[-1]
    ko = os.path.join(TOP, "build", kver, "guest", "vshape_guest.ko")
    if not os.path.exists(ko):
        subprocess.check_call([TOP + "/scripts/build-kmods", kver],
                              stdout=subprocess.DEVNULL)
    with open(ko, "rb") as f:
        ko_sha = hashlib.sha256(f.read()).hexdigest()
    sizes = [int(s) for s in a.sizes.split(",")]
    ram = a.mem_gib * GIB
    run = os.path.join(TOP, "build", "bench", "balloon-" + kver)
    shutil.rmtree(run, ignore_errors=True)
    box = os.path.join(run, "box")
    os.makedirs(box)
    sock = os.path.join(run, "qmp.sock")
    pidfile = os.path.join(run, "qemu.pid")
    qemu_ver = subprocess.check_output(["qemu-system-x86_64", "--version"],
                                       text=True).splitlines()[0]

    vm = [TOP + "/scripts/vm", "--kernel", kver, "--mem", "%dG" % a.mem_gib,
          "--quiet", "--timeout", "1200", "--rundir", os.path.join(run, "vm"),
          "--qmp", sock, "--pidfile", pidfile, "--results", box,
          "--background"] + (["--append", a.append] if a.append else []) + [
          "--qemu-arg", "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on",
          "--env", "VSHAPE_KO=" + ko, "--env", "VSHAPE_MAILBOX=" + box,
          "--", "bench/balloon/guest.sh"]
    subprocess.check_call(vm, cwd=TOP, stdout=subprocess.DEVNULL)

    def kill_vm():
        try:
            with open(pidfile) as f:
                os.kill(int(f.read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass

    try:
        deadline = time.monotonic() + 600
        while not os.path.exists(os.path.join(box, "ready")):
            if time.monotonic() > deadline:
                raise RuntimeError("guest never became ready")
            time.sleep(0.5)
        qmp = QMP(sock)
        mb = Mailbox(box)
        accel = "unknown"
        try:
            with open(os.path.join(run, "vm", "qemu-cmdline")) as f:
                words = f.read().replace("\0", " ").split()
            accel = words[words.index("-accel") + 1]
        except (OSError, ValueError, IndexError):
            pass
        st = mb.ask("state")
        log("%s: guest MemTotal %s kB, accel %s" % (kver, st.get("MemTotal_kb"), accel))
        drivers = ["inbox", "vshape"]
        samples = {d: {"%dGiB" % n: {"inflate": [], "deflate": []} for n in sizes}
                   for d in drivers}
        guest_view = {d: {"%dGiB" % n: {"inflate": [], "deflate": []} for n in sizes}
                      for d in drivers}
        polls = {}
        t_start = time.monotonic()
        for rep in range(a.reps):
            order = drivers if rep % 2 == 0 else drivers[::-1]
            for drv in order:
                settle(qmp, ram)
                mb.ask("load " + drv)
                settle(qmp, ram)
                if drv == "vshape":
                    mb.ask("trace")  # clear
                for n in sizes:
                    key = "%dGiB" % n
                    for direction, target in (("inflate", ram - n * GIB),
                                              ("deflate", ram)):
                        secs, np_ = move(qmp, target, a.poll_ms / 1000.0,
                                         a.move_timeout)
                        samples[drv][key][direction].append(round(secs, 4))
                        polls.setdefault(drv, []).append(np_)
                        if drv == "vshape":
                            tv = mb.ask("trace")
                            ev = direction
                            if ev + "_latency_ns" in tv:
                                guest_view[drv][key][direction].append({
                                    "passes": int(tv[ev + "_passes"]),
                                    "latency_s": round(int(tv[ev + "_latency_ns"]) / 1e9, 4),
                                    "pages": int(tv[ev + "_pages"])})
                        log("rep %d %-6s %s %-7s %.3f s" % (rep + 1, drv, key, direction, secs))
                        time.sleep(0.5)
                mb.ask("unload")
        elapsed = time.monotonic() - t_start
        # A WARN/BUG/Oops/lockdep/hung task/Call Trace in the guest
        # fails the benchmark (selftests/lib/klog.sh's patterns).
        klog = os.path.join(run, "guest-dmesg.txt")
        with open(klog, "w") as f:
            f.write(mb.text("dmesg"))
        bad = subprocess.run(
            ["bash", "-c", '. "$1/selftests/lib/klog.sh"; klog_scan "$2"',
             "klog", TOP, klog], stdout=subprocess.PIPE, text=True).stdout
        if bad:
            raise RuntimeError("guest kernel log (%s):\n%s" % (klog, bad))
        mb.ask("quit")
        subprocess.call([TOP + "/scripts/vm", "--wait", os.path.join(run, "vm")],
                        cwd=TOP, stdout=subprocess.DEVNULL)
    except BaseException:
        kill_vm()
        raise

    summary = {}
    ratios = {}
    for drv in drivers:
        summary[drv] = {}
        for key, dirs in samples[drv].items():
            summary[drv][key] = {}
            n = int(key[:-3])
            for direction, xs in dirs.items():
                s = stats(xs)
                s["throughput_gib_s"] = round(n / s["median"], 3)
                summary[drv][key][direction] = s
    for key in samples["vshape"]:
        ratios[key] = {}
        for direction in ("inflate", "deflate"):
            tv = summary["vshape"][key][direction]["median"]
            ti = summary["inbox"][key][direction]["median"]
            ratios[key][direction] = {
                "time_ratio_vshape_over_inbox": round(tv / ti, 3),
                "speedup_inbox_time_over_vshape_time": round(ti / tv, 3)}
    doc = {
        "benchmark": "balloon inflate/deflate",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kernel": kver,
        "qemu": qemu_ver,
        "accel": accel,
        "host_cpus": os.cpu_count(),
        "git_commit": subprocess.run(["git", "-C", TOP, "rev-parse", "HEAD"],
                                     capture_output=True, text=True).stdout.strip(),
        "vshape_ko_sha256_at_start": ko_sha,
        "guest_cmdline_extra": a.append,
        "guest_ram_bytes": ram,
        "guest_vcpus": 2,
        "device": "virtio-balloon-pci,deflate-on-oom=on",
        "drivers": {"inbox": "virtio_balloon (Debian's module for this kernel)",
                    "vshape": "vshape_guest (build/%s/guest/vshape_guest.ko)" % kver},
        "method": ("host-observed wall time from the QMP `balloon` command "
                   "until query-balloon `actual` equals the target, polled "
                   "every %g ms over one QMP connection; inflate = target RAM - "
                   "N GiB from RAM, deflate = back to RAM; repetitions "
                   "alternate the driver order" % a.poll_ms),
        "reps": a.reps,
        "poll_ms": a.poll_ms,
        "units": "seconds",
        "samples": samples,
        "summary": summary,
        "ratios": ratios,
        "ratio_note": ("time_ratio_vshape_over_inbox = median vshape time / "
                       "median in-tree time (< 1: vshape faster); "
                       "speedup_inbox_time_over_vshape_time = its inverse, "
                       "equal to the throughput ratio vshape/in-tree (> 1: vshape faster)"),
        "guest_view_vshape": guest_view["vshape"],
        "guest_view_note": ("sum of the latency_ns of vshape:vshape_inflate/"
                            "deflate tracepoints per move (guest-side, includes "
                            "host acknowledgments); the in-tree driver has no "
                            "equivalent tracepoint"),
        "bench_seconds": round(elapsed, 1),
    }
    out = json.dumps(doc, indent=2, sort_keys=False) + "\n"
    if a.json:
        with open(a.json, "w") as f:
            f.write(out)
    else:
        sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
