"""Busy competitor processes for ``bench --contend N`` (CyNet must
degrade gracefully when another process wants the cores)."""

import contextlib
import subprocess
import sys
import time

#: a CPU-bound loop that also ends when its parent is gone (checked about
#: every 10 ms), so that a killed benchmark leaves no busy process behind
BUSY_LOOP = (
    "import os\n"
    "parent = os.getppid()\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(200_000):\n"
    "        pass\n"
)


@contextlib.contextmanager
def competitors(n):
    """Run ``n`` busy processes inside; they are always stopped on the way
    out (an exception or Ctrl-C included).  Yields their pids."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"contend must be an int >= 0 (busy processes), got {n!r}")
    procs = []
    try:
        for _ in range(n):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", BUSY_LOOP],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
            )
        if procs:
            time.sleep(0.2)  # let them start spinning
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
