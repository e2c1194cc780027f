"""Load from a separate process: wrk (POST bodies via a Lua script) or bench.pyload as fallback."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

WRK_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "{content_type}"
local f = assert(io.open("{body}", "rb"))
wrk.body = f:read("*a")
f:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d," ..
    "\\"errors\\":%d,\\"non2xx\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One load point: throughput, latency percentiles and failures, plus the tool used."""

    requests: int
    errors: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def wrk_path(*, install: bool) -> str | None:
    """wrk on PATH; when missing and `install`, apt-get install it (Debian's package)."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        logger.warning("wrk is missing and cannot be installed here (need root and apt-get)")
        return None
    logger.info("installing wrk with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
    for attempt in ([install_cmd], [["apt-get", "update", "-q"], install_cmd]):
        for cmd in attempt:
            subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=600)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def _pinned(cmd: list[str], cpus: str) -> list[str]:
    return ["taskset", "-c", cpus, *cmd] if cpus and shutil.which("taskset") else cmd


@dataclass(frozen=True)
class LoadGenerator:
    """Runs one load point against a URL; `wrk` None means the Python fallback."""

    wrk: str | None
    script_dir: Path
    client_cpus: str = ""

    @property
    def tool(self) -> str:
        return "wrk" if self.wrk else "pyload"

    def run(
        self, url: str, body: Path, content_type: str, concurrency: int, duration_s: float
    ) -> LoadResult:
        if self.wrk:
            return self._run_wrk(self.wrk, url, body, content_type, concurrency, duration_s)
        return self._run_pyload(url, body, content_type, concurrency, duration_s)

    def _run_wrk(
        self, wrk: str, url: str, body: Path, content_type: str, conns: int, duration_s: float
    ) -> LoadResult:
        self.script_dir.mkdir(parents=True, exist_ok=True)
        script = self.script_dir / f"post_{body.stem}.lua"
        script.write_text(
            WRK_LUA.format(content_type=content_type, body=body.resolve()), encoding="utf-8"
        )
        seconds = max(1, round(duration_s))
        cmd = [wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script)]
        proc = subprocess.run(
            _pinned([*cmd, url], self.client_cpus),
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=False,
        )
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if proc.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        return LoadResult(
            requests=int(data["requests"]),
            errors=int(data["errors"]) + int(data["non2xx"]),
            duration_s=data["duration_us"] / 1e6,
            p50_ms=data["p50_us"] / 1e3,
            p99_ms=data["p99_us"] / 1e3,
            tool="wrk",
        )

    def _run_pyload(
        self, url: str, body: Path, content_type: str, conns: int, duration_s: float
    ) -> LoadResult:
        cmd = [
            sys.executable,
            "-m",
            "bench.pyload",
            url,
            str(body),
            "--content-type",
            content_type,
            "--concurrency",
            str(conns),
            "--duration",
            str(duration_s),
        ]
        proc = subprocess.run(
            _pinned(cmd, self.client_cpus),
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"bench.pyload failed ({proc.returncode}): {proc.stderr}")
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        return LoadResult(
            requests=int(data["requests"]),
            errors=int(data["errors"]),
            duration_s=float(data["duration_s"]),
            p50_ms=float(data["p50_ms"]),
            p99_ms=float(data["p99_ms"]),
            tool="pyload",
        )
