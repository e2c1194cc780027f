"""A 30 s saturation soak (mixed content types, 8 clients); `make soak` runs 10 minutes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability import soak
from tests.support import serving_container
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container


@pytest.fixture
def served(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    model = save(train("binary:logistic"), tmp_path_factory.mktemp("soak") / "model")
    model.chmod(0o755)
    with serving_container(model, env={"MODEL_SERVER_WORKERS": "2"}) as found:
        yield found


def test_30s_soak_has_no_errors_and_bounded_rss(served: tuple[str, str]) -> None:
    report = soak.run(*served, seconds=30)
    print(f"\nsoak 30 s: {report}")
    assert report["errors"] == 0, report["error_examples"]
    assert report["worker_pids_unchanged"]
    assert float(str(report["rss_growth_pct"])) < 20  # 30 s is short; make soak checks 5 %
