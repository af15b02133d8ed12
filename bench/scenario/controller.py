#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""host-reactive configuration of the scenario benchmark: a host-side
balloon controller of the kind libvirt/KubeVirt-style managers run.

    controller.py QMP_SOCK [--margin-mib N] [--period S] [--log FILE]

Every period (default 1 s) it reads the guest's stats queue through QMP
(qom-get guest-stats of /machine/peripheral/balloon0, polled by QEMU every
second) and sets the balloon target (QMP `balloon`, the guest's logical
size) to what the guest uses plus a margin:

    target = min(RAM, stat-total-memory - stat-available-memory + margin)

With the in-tree driver and no deflate-on-oom, stat-total-memory excludes
the balloon, so total - available is the guest's own use.  It runs until
SIGTERM.  Each target it sets is a line of the log: "T target N MiB,
balloon B MiB (used U MiB)", B = RAM - N, the balloon that target means
(bench/scenario/settle.sh waits for it).  The QMP connection is
scripts/qmp's (one shared client).
"""
import argparse
import importlib.machinery
import os
import signal
import sys
import time

MiB = 1 << 20
HERE = os.path.dirname(os.path.abspath(__file__))
qmp = importlib.machinery.SourceFileLoader(
    "vshape_qmp", os.path.join(HERE, "..", "..", "scripts", "qmp")).load_module()

BALLOON = "/machine/peripheral/balloon0"


def call(conn, cmd, **args):
    req = {"execute": cmd}
    if args:
        req["arguments"] = args
    conn.send(req)
    reply = conn.recv()
    if "error" in reply:
        raise RuntimeError("%s: %s" % (cmd, reply["error"]))
    return reply.get("return", {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sock")
    ap.add_argument("--margin-mib", type=int, default=192)
    ap.add_argument("--period", type=float, default=1.0)
    ap.add_argument("--log")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conn = qmp.Conn(qmp.connect(a.sock, 30))
    conn.recv()
    call(conn, "qmp_capabilities")
    call(conn, "qom-set", path=BALLOON,
         property="guest-stats-polling-interval", value=1)
    ram = call(conn, "query-balloon")["actual"]
    log = open(a.log, "a") if a.log else sys.stdout
    last = None
    while not stop:
        t = time.monotonic()
        gs = call(conn, "qom-get", path=BALLOON, property="guest-stats")
        st = gs["stats"]
        total = st.get("stat-total-memory", -1)
        avail = st.get("stat-available-memory", -1)
        # nothing before the guest's first report (last-update 0)
        if gs.get("last-update", 0) > 0 and total > 0 and avail >= 0:
            target = min(ram, total - avail + a.margin_mib * MiB)
            target -= target % MiB
            if target != last:
                call(conn, "balloon", value=target)
                last = target
                # the balloon that target means (RAM - target):
                # bench/scenario/settle.sh waits for it
                print("%.3f target %d MiB, balloon %d MiB (used %d MiB)" %
                      (t, target // MiB, (ram - target) // MiB,
                       (total - avail) // MiB),
                      file=log, flush=True)
        time.sleep(max(0.0, a.period - (time.monotonic() - t)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
