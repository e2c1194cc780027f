"""Turn raw measurements into rows: value, baseline, ratio, target and whether it is met."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the results table; `ratio` is boostbox over the baseline (same run)."""

    section: str
    metric: str
    value: float | None
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _met(value: float | None, op: str, limit: float) -> bool | None:
    if value is None:
        return None
    return value >= limit if op == ">=" else value <= limit


def _p99(point: dict[str, Any]) -> float:
    """A load point's p99: the lower of its rounds' when it was loaded in turn with a peer."""
    return float(point.get("p99_best_ms", point["p99_ms"]))


def serving_rows(raw: dict[str, Any], concurrencies: tuple[int, ...]) -> list[Row]:
    stacks: dict[str, Any] = raw.get("stacks", {})
    inproc = raw.get("inprocess_one_row")
    rows: list[Row] = []
    box = stacks.get("boostbox")
    for c in concurrencies:
        key = str(c)
        section = f"serve 1-row c={c}"
        for name, stack in stacks.items():
            point = stack.get("points", {}).get(key)
            if point is None:
                continue
            label = "boostbox" if name == "boostbox" else name
            rows.append(Row(section, f"{label} req/s", point["rps"], "req/s"))
            rows.append(
                Row(section, f"{label} p50 / p99", point["p50_ms"], "ms", "p99", point["p99_ms"])
            )
        if box is None or key not in box.get("points", {}):
            continue
        rps = box["points"][key]["rps"]
        for name, op, limit in (("mlserver", ">=", 2.0), ("byoc", ">=", 2.0), ("floor", ">=", 1.0)):
            peer = stacks.get(name, {}).get("points", {}).get(key)
            if peer is None:
                continue
            ratio = _ratio(rps, peer["rps"])
            rows.append(
                Row(
                    section,
                    f"throughput x {name}",
                    rps,
                    "req/s",
                    name,
                    peer["rps"],
                    ratio,
                    f"{op} {limit:g}x",
                    _met(ratio, op, limit),
                )
            )
        if inproc:
            ratio = _ratio(rps, inproc["per_second"])
            rows.append(
                Row(
                    section,
                    "throughput x in-process inplace_predict (1 core)",
                    rps,
                    "req/s",
                    "in-process",
                    inproc["per_second"],
                    ratio,
                )
            )
        floor = stacks.get("floor", {}).get("points", {}).get(key)
        if c == 8 and floor is not None:
            p99, floor_p99 = _p99(box["points"][key]), _p99(floor)
            ratio = _ratio(p99, floor_p99)
            rows.append(
                Row(
                    section,
                    "boostbox p99 x floor p99",
                    p99,
                    "ms",
                    "floor p99",
                    floor_p99,
                    ratio,
                    "<= 1x",
                    _met(ratio, "<=", 1.0),
                )
            )
    if inproc:
        rows.append(
            Row(
                "serve 1-row",
                "in-process inplace_predict p50 / p99",
                inproc["p50_ms"],
                "ms",
                "p99",
                inproc["p99_ms"],
            )
        )
    return rows


def batch_rows(raw: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    server = raw.get("batch_server", {})
    for name, ref in raw.get("batch_inprocess", {}).items():
        got = server.get(name)
        value = got["server_ms"] if got else None
        paired = got is not None and "reference_ms" in got
        baseline = got["reference_ms"] if paired else ref["total_ms"]
        ratio = _ratio(value, baseline)
        how = ", paired per request" if paired else ""
        rows.append(
            Row(
                f"batch {name}",
                f"server time, {ref['rows']} rows, {ref['bytes'] / 1e6:.2f} MB",
                value,
                "ms",
                f"in-process {ref['decoder']} + inplace_predict{how}",
                baseline,
                ratio,
                "<= 1.3x",
                _met(ratio, "<=", 1.3),
            )
        )
        if got is not None and "new_connection_ms" in got:
            fresh = got["new_connection_ms"]
            rows.append(
                Row(
                    f"batch {name}",
                    "server time, a new connection each (context)",
                    fresh,
                    "ms",
                    "same baseline",
                    baseline,
                    _ratio(fresh, baseline),
                )
            )
    return rows


def training_rows(raw: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for fmt, result in raw.get("training", {}).items():
        if not isinstance(result, dict) or "reference" not in result:
            continue
        ref = result["reference"]
        box = result.get("boostbox")
        wall = box["docker_wall_s"] if box else None
        ratio = _ratio(wall, ref["docker_wall_s"])
        rows.append(
            Row(
                f"train {fmt}",
                "docker run train wall",
                wall,
                "s",
                "in-process load + train",
                ref["docker_wall_s"],
                ratio,
                "<= 1.15x",
                _met(ratio, "<=", 1.15),
            )
        )
        peak = box["peak_rss_mb"] if box else None
        rows.append(
            Row(
                f"train {fmt}",
                "peak RSS",
                peak,
                "MB",
                "in-process",
                ref["peak_rss_mb"],
                _ratio(peak, ref["peak_rss_mb"]),
                "<= 1.2x",
                _met(_ratio(peak, ref["peak_rss_mb"]), "<=", 1.2),
            )
        )
    return rows


def external_memory_rows(raw: dict[str, Any]) -> list[Row]:
    """external_memory=true against in-memory boostbox on the same CSV, in one run."""
    result = raw.get("training", {}).get("external_memory")
    if not isinstance(result, dict) or "in_memory" not in result:
        return []
    ext, mem = result["external_memory"], result["in_memory"]
    return [
        Row(
            "train csv external_memory",
            what,
            ext[key],
            unit,
            "in memory",
            mem[key],
            _ratio(ext[key], mem[key]),
        )
        for what, key, unit in (
            ("docker run train wall", "docker_wall_s", "s"),
            ("peak RSS", "peak_rss_mb", "MB"),
        )
    ]


def image_rows(raw: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    size = raw.get("image_size_mb")
    if size is not None:
        rows.append(
            Row("image", "image size", size, "MB", target="<= 600 MB", met=_met(size, "<=", 600))
        )
    starts = raw.get("cold_start_s")
    if starts:
        median = statistics.median(starts)
        floor = raw.get("floor_start_s")
        rows.append(
            Row(
                "image",
                "cold start (docker run serve -> 200 /ping), median",
                median,
                "s",
                "floor container start" if floor else "",
                floor,
                _ratio(median, floor),
                "<= 1 s",
                _met(median, "<=", 1.0),
            )
        )
    rss = raw.get("worker_rss_mb")
    if rss:
        rows.append(
            Row(
                "image",
                "RSS per worker (max, after load)",
                max(rss),
                "MB",
                target="<= 100 MB",
                met=_met(max(rss), "<=", 100),
            )
        )
    return rows


def all_rows(raw: dict[str, Any], concurrencies: tuple[int, ...]) -> list[Row]:
    return [
        *serving_rows(raw, concurrencies),
        *batch_rows(raw),
        *training_rows(raw),
        *external_memory_rows(raw),
        *image_rows(raw),
    ]


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pasteable into an issue)."""
    head = [
        "section",
        "metric",
        "value",
        "unit",
        "baseline",
        "baseline value",
        "ratio",
        "target",
        "met",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**NO**")
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        cells = [
            r.section,
            r.metric,
            _fmt(r.value),
            r.unit,
            r.baseline,
            _fmt(r.baseline_value),
            ratio,
            r.target,
            met,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
