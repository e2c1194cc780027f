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
        ("trace_id=abc", OutputKind.PREDICTION),
        ("3f2b8c1e-9d4a-4f6e-8a7b-2c1d0e9f8a7b", OutputKind.PREDICTION),
        ("trace_id=abc,output=margin", OutputKind.MARGIN),
        ("ab-test=variant-b; output=leaf; contributions", OutputKind.LEAF),
        ("output=leaf;output=LEAF", OutputKind.LEAF),
        ("=leaf", OutputKind.PREDICTION),
        ("outputs=shap", OutputKind.PREDICTION),
    ],
)
def test_known_outputs_and_foreign_attributes_ignored(header: str | None, kind: OutputKind) -> None:
    assert parse(header) is kind


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("output=shap", "unknown output 'shap'"),
        ("trace_id=abc, output=", "unknown output ''"),
        ("output=leaf;output=margin", "'output' is given twice"),
    ],
)
def test_bad_headers_are_400_naming_the_problem(header: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse(header)
