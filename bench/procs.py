"""Child processes waited for with their own CPU seconds and their own peak RSS.

wait4's ru_maxrss is no measure of a child: Linux carries the parent's high-water mark over the fork and the
exec, so a child of a bench (or test) process grown to 400 MB reports 400 MB however little it used itself.
A child's own peak is the VmHWM line of /proc/PID/status, read while it runs; it only grows, so the last
reading before the child exits is its peak to within what it allocated in its last `interval`.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass


def high_water_kib(pid: int) -> int:
    """A running child's own peak RSS in KiB (VmHWM of /proc/PID/status; 0 once it is gone or has exited)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            status = fh.read()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


@dataclass
class Finished:
    """How one child ended: its exit code, its own CPU seconds (user + system) and its own peak RSS."""

    returncode: int
    cpu: float
    peak_mb: float


def wait_all(procs: list[subprocess.Popen], interval: float = 0.1) -> dict[int, Finished]:
    """Wait for every child, reading each one's VmHWM while it runs; pid -> Finished. Sets each returncode."""
    peaks = {p.pid: 0 for p in procs}
    done: dict[int, Finished] = {}
    while len(done) < len(procs):
        for proc in procs:
            if proc.pid in done:
                continue
            peaks[proc.pid] = max(peaks[proc.pid], high_water_kib(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                done[pid] = Finished(proc.returncode, usage.ru_utime + usage.ru_stime, peaks[pid] / 1024)
        if len(done) < len(procs):
            time.sleep(interval)
    return done
