"""X-Amzn-SageMaker-Custom-Attributes parsing."""

from __future__ import annotations

import pytest

from boostbox.errors import BadRequest
from boostbox.serving.attributes import parse
from boostbox.serving.predictor import OutputKind


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (None, OutputKind.PREDICTION),
        ("", OutputKind.PREDICTION),
        ("output=contributions", OutputKind.CONTRIBUTIONS),
        (" Output = MARGIN ;", OutputKind.MARGIN),
        ("output=leaf", OutputKind.LEAF),
        ("output=interactions", OutputKind.INTERACTIONS),
        ("output=prediction", OutputKind.PREDICTION),
        (";,", OutputKind.PREDICTION),
    ],
)
def test_known_outputs(header: str | None, kind: OutputKind) -> None:
    assert parse(header) is kind


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("trace=1", "unknown key 'trace'"),
        ("output=shap", "unknown output 'shap'"),
        ("contributions", "'contributions' is not a key=value pair"),
        ("output=leaf;output=margin", "'output' is given twice"),
        ("=leaf", "not a key=value pair"),
    ],
)
def test_bad_headers_are_400_naming_the_problem(header: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(header)
