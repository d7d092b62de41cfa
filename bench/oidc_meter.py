"""Who used the CPU during a measurement: the server, our load generators, everybody else.

On a shared 2-core machine other people's jobs skew a throughput figure; the server's CPU time
per request does not move much with them. ``Meter`` samples /proc over a time window (in a
thread, so it works around a blocking wrk run or the flow driver):

- the server process (user + system time, every thread),
- every other descendant of this process (wrk, the flow driver's processes),
- the whole machine's busy time, of which the rest is "others".
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents[int(entry.name)] = int(fields[1])
    return parents


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    total = sum(fields) / _TICK
    idle = (fields[3] + fields[4]) / _TICK
    return total - idle, total


@dataclass
class Usage:
    seconds: float  # wall time of the window
    server: float  # CPU seconds
    generators: float  # CPU seconds of our other descendants and of this process
    others: float  # CPU seconds of everything else on the machine
    cores: int

    def share(self, cpu: float) -> float:
        """A CPU time as a share of the machine's capacity over the window."""
        return cpu / (self.seconds * self.cores)

    @property
    def server_cores(self) -> float:
        return self.server / self.seconds


class Meter:
    def __init__(self, server_pid: int) -> None:
        """``server_pid`` may be this very process (to meter work it does itself)."""
        self.server_pid = server_pid
        self.usage: Usage | None = None
        self._thread: threading.Thread | None = None

    def _sample(self) -> tuple[float, float, float, float]:
        me = os.getpid()
        ours = sum(_proc_cpu(p) for p in (_descendants(me) | {me}) - {self.server_pid})
        busy, _ = _machine()
        return time.monotonic(), _proc_cpu(self.server_pid), ours, busy

    def window(self, start: float, end: float) -> Meter:
        """Sample at ``start`` and ``end`` (``time.monotonic()`` values), in the background."""

        def run() -> None:
            time.sleep(max(0.0, start - time.monotonic()))
            t0, server0, ours0, busy0 = self._sample()
            time.sleep(max(0.0, end - time.monotonic()))
            t1, server1, ours1, busy1 = self._sample()
            server, ours = server1 - server0, max(0.0, ours1 - ours0)
            others = max(0.0, (busy1 - busy0) - server - ours)
            self.usage = Usage(t1 - t0, server, ours, others, os.cpu_count() or 1)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def result(self) -> Usage | None:
        if self._thread:
            self._thread.join()
        return self.usage
