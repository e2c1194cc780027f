"""A missing peer fails its own section only, loudly, after the others ran (no Docker)."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main
from bench import servers, serving, stacks
from bench.loadgen import LoadResult
from bench.settings import Settings


def _script(path: Path, status: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nexit {status}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_shim_that_does_not_run_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shims = tmp_path / "shims"
    _script(shims / "python3.12", 127)  # a pyenv shim on a machine where pyenv is not active
    real = _script(tmp_path / "home" / ".pyenv" / "versions" / "3.12.4" / "bin" / "python3", 0)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}/nonexistent")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert stacks.python_candidates()[0] == str(shims / "python3.12")
    assert stacks.find_python() == str(real)


def test_no_interpreter_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(stacks, "_uv_python", lambda: None)
    with pytest.raises(RuntimeError, match=r"MLServer needs python3\.12"):
        stacks.find_python()


def test_a_failing_peer_does_not_stop_the_other_stacks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    loaded: list[str] = []

    def broken(settings: Settings) -> Any:
        raise RuntimeError("MLServer needs python3.12 and none runs here")

    @contextlib.contextmanager
    def working(settings: Settings) -> Iterator[Any]:
        yield type("R", (), {"startup_s": 1.0})()

    def load(pair: list[tuple[stacks.Stack, Any]], *args: Any) -> dict[str, Any]:
        loaded.extend(stack.key for stack, _ in pair)
        return {stack.key: {"label": stack.label, "points": {}} for stack, _ in pair}

    monkeypatch.setitem(stacks.STARTERS, "mlserver", broken)
    monkeypatch.setitem(stacks.STARTERS, "floor", working)
    monkeypatch.setattr(serving, "load_in_turn", load)
    settings = replace(Settings.smoke_run(), stacks=("mlserver", "floor"))
    payloads: Any = type("P", (), {"one_row_csv": Path("x"), "one_row_v2_json": Path("y")})()
    out, failed = bench_main.measure_stacks(settings, payloads, None, 0.5, {})  # type: ignore[arg-type]
    assert failed == ["mlserver"]
    assert loaded == ["floor"]
    assert "python3.12" in out["stacks"]["mlserver"]["error"]
    with caplog.at_level(logging.ERROR, logger="bench"):
        assert bench_main.report_failures(failed, out) == 1
    assert "FAILED section mlserver: MLServer needs python3.12" in caplog.text
    assert bench_main.report_failures([], out) == 0


def test_the_training_comparison_can_run_alone() -> None:
    args = ["--stacks", "none", "--train-formats", "libsvm", "--train-rows", "1000"]
    settings = bench_main.settings_from(bench_main.parse_args(args))
    assert settings.stacks == ()
    assert settings.train_formats == ("libsvm",)
    assert settings.train_rows == 1000


def test_boostbox_and_the_floor_run_together_every_other_stack_alone() -> None:
    groups = bench_main._groups(("boostbox", "floor", "byoc", "mlserver"))
    assert groups == [["boostbox", "floor"], ["byoc"], ["mlserver"]]
    assert bench_main._groups(("floor", "byoc")) == [["floor"], ["byoc"]]


def test_a_pair_is_loaded_in_turn_and_each_keeps_its_best_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A B B A at each concurrency, half the duration a round; the machine slows down over
    the run (each round 100 req/s slower), which a sequential A A B B would pin on B."""
    calls: list[tuple[str, int, float]] = []

    class Slowing:
        def run(self, url: str, body: Path, ctype: str, conns: int, seconds: float) -> LoadResult:
            if seconds == settings.warmup_s:
                return LoadResult(1, 0, 1.0, 1.0, 1.0, "fake")
            calls.append((url, conns, seconds))
            rps = 1000 - 100 * len(calls)
            return LoadResult(rps, 0, 1.0, 1.0, float(len(calls)), "fake")

    monkeypatch.setattr(serving, "check", lambda *args: {"status": 200})
    settings = replace(Settings.smoke_run(), concurrencies=(1, 8), duration_s=4.0)
    a = stacks.Stack("boostbox", "A", "/a", Path("x"), "text/csv")
    b = stacks.Stack("floor", "B", "/b", Path("x"), "text/csv")
    pair = [(a, servers.Running("http://a", 1.0)), (b, servers.Running("http://b", 1.0))]
    out = serving.load_in_turn(pair, Slowing(), settings, 0.5)  # type: ignore[arg-type]
    assert [url for url, _, _ in calls] == [
        "http://a/a",
        "http://b/b",
        "http://b/b",
        "http://a/a",
    ] * 2
    assert {seconds for _, _, seconds in calls} == {2.0}
    first, second = out["boostbox"]["points"]["1"], out["floor"]["points"]["1"]
    assert (first["rps"], second["rps"]) == (900, 800)  # each side's faster round
    assert (first["p99_best_ms"], second["p99_best_ms"]) == (1.0, 2.0)
    assert len(first["rounds"]) == len(second["rounds"]) == 2
    assert out["boostbox"]["points"]["8"]["rps"] == 500
