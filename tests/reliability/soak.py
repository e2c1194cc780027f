"""Saturation soak against a serving container: mixed content types from several clients.

`make soak` runs 10 minutes (SOAK_SECONDS); tests/container/test_soak_image.py runs 30 s.
Reports errors, worker RSS after warm-up vs at the end, and latency p99 in the first vs the
last window (a minute, or a third of a short run).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import requests
from devtools import booted_worker_pids, worker_pids

ROWS = np.random.default_rng(3).normal(size=(20, 4)).astype(np.float32)


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(ROWS, columns=list("abcd")).to_parquet(buffer)
    return buffer.getvalue()


CSV = "\n".join(",".join(f"{v:.4f}" for v in r) for r in ROWS)
LIBSVM = "\n".join(" ".join(f"{i}:{v:.4f}" for i, v in enumerate(r)) for r in ROWS)
BODIES = [
    ("text/csv", CSV.encode()),
    ("application/json", json.dumps({"instances": ROWS.tolist()}).encode()),
    ("text/libsvm", LIBSVM.encode()),
    ("application/x-parquet", _parquet()),
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Soak:
    errors: list[str] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (t, latency)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (t, total worker KiB)
    requests: int = 0


def run(url: str, container: str, seconds: float, clients: int = 8) -> dict[str, object]:
    soak, lock, stop = Soak(), threading.Lock(), threading.Event()
    start = time.monotonic()

    def client(n: int) -> None:
        session = requests.Session()
        i = n
        while not stop.is_set():
            content_type, body = BODIES[i % len(BODIES)]
            i += 1
            sent = time.monotonic()
            try:
                answer = session.post(
                    f"{url}/invocations", data=body, headers={"Content-Type": content_type},
                    timeout=60,
                )  # fmt: skip
                problem = None if answer.status_code == 200 else f"{answer.status_code}"
            except requests.RequestException as e:
                problem = type(e).__name__
            done = time.monotonic()
            with lock:
                soak.requests += 1
                soak.samples.append((sent - start, done - sent))
                if problem:
                    soak.errors.append(f"{content_type}: {problem}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    pids = booted_worker_pids(container, 2)
    while time.monotonic() - start < seconds:
        soak.rss.append((time.monotonic() - start, sum(rss_kib(p) for p in pids)))
        time.sleep(min(5.0, seconds / 20))
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    window = min(60.0, seconds / 3)
    first = [lat for t, lat in soak.samples if t < window]
    last = [lat for t, lat in soak.samples if t >= seconds - window]
    warm = [kib for t, kib in soak.rss if t >= window] or [soak.rss[-1][1]]
    return {
        "seconds": seconds,
        "clients": clients,
        "requests": soak.requests,
        "errors": len(soak.errors),
        "error_examples": soak.errors[:5],
        "worker_pids_unchanged": worker_pids(container) == pids,
        "rss_kib_after_warmup": warm[0],
        "rss_kib_end": soak.rss[-1][1],
        "rss_growth_pct": round(100 * (soak.rss[-1][1] - warm[0]) / warm[0], 2),
        "p99_ms_first_window": round(1000 * float(np.percentile(first, 99)), 1),
        "p99_ms_last_window": round(1000 * float(np.percentile(last, 99)), 1),
        "window_s": window,
    }


def main() -> int:
    from tests.support import serving_container
    from tests.unit.serving.conftest import save, train

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workdir", type=Path, default=Path("build/soak"))
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    model = save(train("binary:logistic"), workdir / "model")
    model.chmod(0o755)
    with serving_container(model, env={"MODEL_SERVER_WORKERS": "2"}) as (url, name):
        report = run(url, name, args.seconds)
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    ok = report["errors"] == 0 and report["worker_pids_unchanged"]
    return 0 if ok and float(str(report["rss_growth_pct"])) < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
