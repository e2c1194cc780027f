"""A short fuzz run (about 500 generated requests) against a container; `make fuzz` runs
the long one (tests/reliability/fuzzing.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability import fuzzing
from tests.support import serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

PER_TYPE = 84  # x 6 content types = 504 requests


@pytest.fixture(scope="module")
def served(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    model = save(train("binary:logistic"), tmp_path_factory.mktemp("fuzz") / "model")
    model.chmod(0o755)
    with serving_container(model, env={"MODEL_SERVER_WORKERS": "2"}) as found:
        yield found


def test_short_fuzz_no_undocumented_status_no_worker_death(served: tuple[str, str]) -> None:
    url, container = served
    tally = fuzzing.run(url, container, PER_TYPE, log=lambda _: None)
    assert tally.sent >= 500
    assert not tally.problems, tally.problems[:10]
    assert 500 not in tally.statuses
