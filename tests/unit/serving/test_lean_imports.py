"""A serving worker never imports scikit-learn nor scipy.special, and pandas/pyarrow only for a
request needing them.

Each check runs in a fresh interpreter (sys.modules of the test process already holds
everything). The worker path is the `serve` entry's: keep_out(), then the app factory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.serving.conftest import save, train

HEAVY = ("sklearn", "pandas", "pyarrow", "scipy.linalg")
"""scipy.linalg stands for the real scipy.special, which imports it."""

WORKER = """
import json, sys
from pathlib import Path
from boostbox.imports import keep_out
keep_out()
from boostbox.config import ServingConfig
from boostbox.paths import OptMl
from boostbox.serving.server import build_app
client = build_app(ServingConfig(paths=OptMl(Path(sys.argv[1])))).test_client()
seen = {}
for body, media in json.loads(sys.argv[2]):
    response = client.post("/invocations", data=body.encode(), content_type=media)
    assert response.status_code == 200, response.data
seen = [name for name in sys.argv[3].split(",") if sys.modules.get(name) is not None]
print(json.dumps(seen))
"""


def _imported(root: Path, requests: list[tuple[str, str]]) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, str(root), json.dumps(requests), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def opt_ml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("opt_ml")
    save(train("binary:logistic"), root / "model")
    return root


def test_loading_a_model_and_small_requests_import_none_of_them(opt_ml: Path) -> None:
    one_row = ("0.1,0.2,0.3,0.4", "text/csv")
    json_rows = ('{"instances": [[0.1, 0.2, 0.3, 0.4]]}', "application/json")
    assert _imported(opt_ml, [one_row, json_rows]) == []


def test_a_large_csv_body_may_import_pandas_but_never_sklearn(opt_ml: Path) -> None:
    rows = "\n".join("0.1,0.2,0.3,0.4" for _ in range(2000))
    seen = _imported(opt_ml, [(rows, "text/csv")])
    assert "sklearn" not in seen
    assert "pandas" in seen  # the check can fail: pandas really is imported on demand


def test_without_keep_out_xgboost_would_import_sklearn() -> None:
    """The premise: if this fails, xgboost stopped importing scikit-learn and keep_out can go."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, xgboost; print('sklearn' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert proc.stdout.strip() == "True"


def test_a_deferred_function_loads_the_real_module() -> None:
    code = (
        "from boostbox.imports import keep_out; keep_out()\n"
        "import sys, numpy, xgboost.sklearn as s\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "print(round(float(s.softmax(numpy.array([0.0, 0.0]))[0]), 3))\n"
        "import scipy.special\n"
        "print(scipy.special.expit(0.0), 'sklearn' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.split() == ["0.5", "0.5", "False"]
