"""wrk (https://github.com/wg/wrk) with generated Lua scripts for form POSTs.

A scenario is one fixed request, or a list of bodies sent once each in order (refresh tokens are
single-use) or round and round (logins of several accounts). ``run()`` returns requests/s,
latency percentiles and the count of responses that were not 2xx/3xx, so a broken scenario
cannot pass for a fast one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int  # non-2xx/3xx responses
    socket_errors: int

    @property
    def ok(self) -> bool:
        return self.bad == 0 and self.socket_errors == 0


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(
    headers: dict[str, str],
    body: str | None = None,
    bodies: list[str] | None = None,
    cycle: bool = False,
) -> str:
    """POST ``body`` every time, or each of ``bodies`` once (``cycle``: round and round)."""
    lines = ['wrk.method = "POST"']
    for name, value in headers.items():
        lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
    if bodies is None:
        lines.append(f"wrk.body = {_lua_string(body or '')}")
        return "\n".join(lines) + "\n"
    lines.append("local bodies = {")
    lines.extend(f"  {_lua_string(b)}," for b in bodies)
    lines.append("}")
    lines.append(f"CYCLE = {'true' if cycle else 'false'}")
    # One Lua state per wrk thread: thread k of n takes bodies k, k+n, k+2n, ...
    lines.append(
        """
counter = 1  -- global: setup() sets it per thread
local threads = 0
local step = 1
function setup(thread)
  threads = threads + 1
  thread:set("counter", threads)
end
function init(args)
  step = tonumber(args[1]) or 1
end
function request()
  if CYCLE and counter > #bodies then
    counter = (counter - 1) % #bodies + 1
  end
  local body = bodies[counter]
  counter = counter + step
  if body == nil then
    return wrk.format("POST", "/exhausted", nil, "")
  end
  return wrk.format(nil, nil, nil, body)
end
"""
    )
    return "\n".join(lines)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    assert match, text
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str) -> WrkResult:
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert done and rps, output
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        bad=int(bad.group(1)) if bad else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def run(
    url: str,
    script: str,
    workdir: Path,
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    name: str = "scenario",
) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    path = workdir / f"{name}.lua"
    path.write_text(script)
    seconds = f"{max(1, round(duration))}s"  # wrk takes whole seconds
    cmd = [
        "wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", seconds,
        "--timeout", "10s", "-s", str(path), url, "--", str(threads),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    return parse(done.stdout)
