"""Generated requests against a running `serve` container (127.0.0.1 only).

Used by tests/container/test_fuzz_image.py (a short run in `make test`) and by `make fuzz`
(python -m tests.reliability.fuzzing --per-type N). Checks for every answer: the status is
one serving/openapi.yaml documents for /invocations, an error body is exactly
{"error": "..."}; between batches /ping answers 200; at the end gunicorn's worker pids are
the ones at the start (no worker died).
"""

from __future__ import annotations

import argparse
import collections
import functools
import io
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import requests
import yaml
from devtools import booted_worker_pids, worker_pids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import boostbox.serving
from tests.parquet_footer import claim_rows

SPEC = yaml.safe_load((Path(boostbox.serving.__file__).parent / "openapi.yaml").read_text())
DOCUMENTED = {int(s) for s in SPEC["paths"]["/invocations"]["post"]["responses"]}
CONTENT_TYPES = [
    "text/csv",
    "text/libsvm",
    "application/json",
    "application/jsonlines",
    "application/x-parquet",
    "application/x-recordio-protobuf",
]
NUMBERS = st.sampled_from(
    ["0", "1.5", "-2", "1e39", "-1e400", "1e-50", "inf", "-Infinity", "nan", "NaN", "",
     "18446744073709551616", "9" * 400, "0x10", "1_000", "٣", "1e", "--1", "null", "true"]
)  # fmt: skip
SEPARATORS = st.sampled_from([",", ", ", "\n", "\r\n", " ", ":", "\t", ";"])


@st.composite
def text_rows(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.tuples(NUMBERS, SEPARATORS), max_size=40))
    body = "".join(n + s for n, s in parts).encode("utf-8")
    if draw(st.booleans()):
        cut = draw(st.integers(0, max(0, len(body))))
        body = body[:cut]
    return body + draw(st.sampled_from([b"", b"\xff\xfe", b"\x00", b"\xc3"]))


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.floats(), st.integers(-(2**70), 2**70), st.text(max_size=5)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.sampled_from(["instances", "features", "x"]), inner, max_size=2),
    ),
    max_leaves=30,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["value", "deep", "rows", "text"]))
    if kind == "deep":
        depth = draw(st.integers(1, 5000))
        return b"[" * depth + b"1" + b"]" * draw(st.integers(0, depth))
    if kind == "rows":
        row = draw(st.lists(NUMBERS.filter(bool), min_size=1, max_size=6))
        return ('{"instances": [[' + ", ".join(row) + "]]}").encode()
    if kind == "text":
        return draw(text_rows())
    return json.dumps(draw(JSON_VALUES), allow_nan=True).encode()


@st.composite
def parquet_bodies(draw: st.DrawFn) -> bytes:
    columns = draw(st.integers(1, 5))
    rows = draw(st.integers(0, 4))
    table = {}
    for n in range(columns):
        kind = draw(st.sampled_from(["f", "i", "s", "b"]))
        if kind == "f":
            table[f"c{n}"] = pa.array(
                draw(st.lists(st.floats(width=64), min_size=rows, max_size=rows))
            )
        elif kind == "i":
            table[f"c{n}"] = pa.array(
                draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows)),
                pa.int64(),
            )
        elif kind == "b":
            table[f"c{n}"] = pa.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
        else:
            table[f"c{n}"] = pa.array(
                draw(st.lists(st.text(max_size=3), min_size=rows, max_size=rows))
            )
    buffer = io.BytesIO()
    pq.write_table(pa.table(table), buffer)
    data = buffer.getvalue()
    claim = draw(st.sampled_from([None] * 6 + [rows + 1, 2**31, 3_000_000_000, -1]))
    if claim is not None:  # a footer claiming other row counts than the pages hold
        data = claim_rows(data, claim)
    cut = draw(st.sampled_from([None, None, 4, len(data) // 2, len(data) - 3]))
    return data if cut is None else data[:cut]


@st.composite
def recordio_bodies(draw: st.DrawFn) -> bytes:
    from sagemaker_training import recordio

    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    rows = draw(st.integers(1, 3))
    width = draw(st.integers(1, 6))
    values = draw(st.lists(st.floats(width=32), min_size=rows * width, max_size=rows * width))
    buffer = io.BytesIO()
    recordio._write_numpy_to_dense_tensor(
        buffer, np.asarray(values, np.float32).reshape(rows, width)
    )
    data = buffer.getvalue()
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


BODIES: dict[str, st.SearchStrategy[bytes]] = {
    "text/csv": text_rows(),
    "text/libsvm": text_rows(),
    "application/json": json_bodies(),
    "application/jsonlines": st.lists(json_bodies(), max_size=4).map(b"\n".join),
    "application/x-parquet": parquet_bodies(),
    "application/x-recordio-protobuf": recordio_bodies(),
}
PARAMS = st.sampled_from(
    ["", "; charset=utf-8", "; charset=latin-1", "; charset=utf-32", "; charset=nope",
     '; x="', "; label_size=1", ";;", "; charset=UTF-8; q=0.5"]
)  # fmt: skip
ACCEPTS = st.sampled_from(
    [None, "text/csv", "application/json", "application/jsonlines",
     "application/x-recordio-protobuf", "*/*", "text/*",
     "application/json;q=0.5, text/csv;q=0.9", "image/png", "text/csv;q=0",
     "application/json;q=abc", ""]
)  # fmt: skip
ATTRIBUTES = st.sampled_from(
    [None, "output=contributions", "output=margin", "output=leaf", "output=interactions",
     "output=nope", "x" * 5000, "output=", "output=prediction,margin"]
)  # fmt: skip


@dataclass
class Tally:
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    problems: list[str] = field(default_factory=list)
    sent: int = 0
    per_type: dict[str, int] = field(default_factory=dict)
    workers: tuple[list[int], list[int]] = field(default_factory=lambda: ([], []))
    """gunicorn's worker pids before and after the run."""

    def add(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.problems += other.problems
        self.sent += other.sent
        self.per_type.update(other.per_type)


WORKERS = 2
"""gunicorn workers in the fuzzed container."""
PROGRESS_EVERY = 1000
"""Requests between progress lines of one content type."""


def fuzz_type(
    url: str, content_type: str, count: int, log: Callable[[str], None] | None = None
) -> Tally:
    """`count` generated requests of one content type; /ping checked every 100."""
    session = requests.Session()
    tally = Tally()
    start = time.monotonic()

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(body=BODIES[content_type], params=PARAMS, accept=ACCEPTS, attributes=ATTRIBUTES)
    def one(body: bytes, params: str, accept: str | None, attributes: str | None) -> None:
        headers = {"Content-Type": content_type + params}
        if accept is not None:
            headers["Accept"] = accept
        if attributes is not None:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = attributes
        answer = session.post(f"{url}/invocations", data=body, headers=headers, timeout=30)
        tally.sent += 1
        tally.statuses[answer.status_code] += 1
        where = f"{content_type}{params} accept={accept!r} body={body[:60]!r}"
        if answer.status_code not in DOCUMENTED:
            tally.problems.append(f"{answer.status_code} {where}: {answer.text[:200]}")
        elif answer.status_code >= 400:
            try:
                error = answer.json()
            except ValueError:
                error = None
            if not (
                isinstance(error, dict)
                and set(error) == {"error"}
                and isinstance(error["error"], str)
            ):
                tally.problems.append(f"bad error body {where}: {answer.text[:200]}")
        if tally.sent % 100 == 0 and session.get(f"{url}/ping", timeout=10).status_code != 200:
            tally.problems.append(f"/ping not 200 after {tally.sent} requests")
        if log is not None and tally.sent % PROGRESS_EVERY == 0:
            elapsed = time.monotonic() - start
            errors = sum(n for status, n in tally.statuses.items() if status >= 500)
            log(
                f"{content_type}: {tally.sent} requests in {elapsed:.0f} s, 5xx {errors}, "
                f"problems {len(tally.problems)}"
            )

    one()
    tally.per_type[content_type] = tally.sent
    return tally


def run(
    url: str,
    container: str,
    per_type: int,
    log: Callable[[str], None] = print,
    jobs: int = 1,
) -> Tally:
    """Fuzz every content type (`jobs` of them at once, each in its own process); return
    the tally (problems empty when all checks held)."""
    tally = Tally()
    before = booted_worker_pids(container, WORKERS)
    if jobs > 1:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=spawn) as pool:
            progress = functools.partial(print, flush=True)
            parts = [pool.submit(fuzz_type, url, ct, per_type, progress) for ct in CONTENT_TYPES]
            for content_type, part in zip(CONTENT_TYPES, parts, strict=True):
                tally.add(part.result())
                log(f"{content_type}: {tally.per_type[content_type]} requests")
    else:
        for content_type in CONTENT_TYPES:
            tally.add(fuzz_type(url, content_type, per_type, log))
            log(f"{content_type}: {tally.per_type[content_type]} requests")
    after = worker_pids(container)
    tally.workers = (sorted(before), sorted(after))
    if before != after or not before:
        tally.problems.append(f"worker pids changed: {sorted(before)} -> {sorted(after)}")
    if requests.get(f"{url}/ping", timeout=10).status_code != 200:
        tally.problems.append("/ping not 200 at the end")
    return tally


def main() -> int:
    from tests.support import serving_container
    from tests.unit.serving.conftest import save, train

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-type", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=1, help="content types fuzzed at once")
    parser.add_argument("--workdir", type=Path, default=Path("build/fuzz"))
    args = parser.parse_args()
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    model = save(train("binary:logistic"), args.workdir / "model")
    model.chmod(0o755)
    with serving_container(model, env={"MODEL_SERVER_WORKERS": str(WORKERS)}) as (url, name):
        start = time.monotonic()
        tally = run(url, name, args.per_type, jobs=args.jobs)
        seconds = time.monotonic() - start
    report = {
        "requests": tally.sent,
        "per_type": args.per_type,
        "requests_per_type": tally.per_type,
        "seconds": round(seconds),
        "statuses": dict(sorted(tally.statuses.items())),
        "server_errors": sum(n for status, n in tally.statuses.items() if status >= 500),
        "worker_pids_before_after": tally.workers,
        "problem_count": len(tally.problems),
        "problems": tally.problems[:50],
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
