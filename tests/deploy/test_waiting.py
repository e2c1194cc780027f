"""wait_for: transitions logged once, terminal states, deadline; a fake clock, no sleeping."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from deploy.errors import JobFailed, WaitTimeout
from deploy.waiting import wait_for


class FakeClock:
    """Monotonic time that advances only when the poller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answers(*states: tuple[str, str]) -> Any:
    replies = [
        {
            "TrainingJobStatus": status,
            "SecondaryStatus": secondary,
            "SecondaryStatusTransitions": [{"StatusMessage": f"{secondary} message"}],
            "FailureReason": "bad hyperparameter",
        }
        for status, secondary in states
    ]

    def describe(name: str) -> Mapping[str, Any]:
        assert name == "job-1"
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return describe


def test_logs_each_transition_once_and_returns_on_completed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    describe = answers(
        ("InProgress", "Starting"),
        ("InProgress", "Starting"),
        ("InProgress", "Training"),
        ("Completed", "Completed"),
    )
    with caplog.at_level(logging.INFO, logger="deploy.waiting"):
        final = wait_for(
            "training", "job-1", describe, timeout=100, interval=10, clock=clock, sleep=clock.sleep
        )
    assert final["TrainingJobStatus"] == "Completed"
    assert clock.sleeps == [10, 10, 10]
    assert [r.getMessage() for r in caplog.records] == [
        "training job job-1: InProgress/Starting - Starting message",
        "training job job-1: InProgress/Training - Training message",
        "training job job-1: Completed/Completed - Completed message",
    ]


def test_failed_job_raises_with_its_failure_reason() -> None:
    clock = FakeClock()
    describe = answers(("InProgress", "Training"), ("Failed", "Failed"))
    with pytest.raises(JobFailed, match="job-1 ended Failed: bad hyperparameter"):
        wait_for(
            "training", "job-1", describe, timeout=60, interval=5, clock=clock, sleep=clock.sleep
        )


def test_deadline_raises_without_oversleeping() -> None:
    clock = FakeClock()
    describe = answers(("InProgress", "Training"))
    with pytest.raises(WaitTimeout, match="still InProgress after 25s"):
        wait_for(
            "training", "job-1", describe, timeout=25, interval=10, clock=clock, sleep=clock.sleep
        )
    assert clock.sleeps == [10, 10, 5]
