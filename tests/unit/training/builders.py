"""Tiny training jobs laid out like /opt/ml, shared by the unit and container suites.

`write_job` builds a whole tree; BAD_CASES are broken jobs, each with the words its
failure line must contain.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import seed

SEED_HPS = seed.HYPERPARAMETERS
"""The seed notebook's call, as SageMaker writes it: every value a string."""

FAST_HPS = {"num_round": "5", "max_depth": "2", "nthread": "1"}


def regression(rows: int = 60, features: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """y depends on the first two features, so a few rounds already learn something."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, features))
    y = 3 * x[:, 0] + x[:, 1] + rng.normal(0, 0.05, rows)
    return x, y


def csv_text(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> str:
    cols = [y] + ([weights] if weights is not None else []) + [x[:, i] for i in range(x.shape[1])]
    table = np.column_stack(cols)
    return "\n".join(",".join(f"{v:.5g}" for v in row) for row in table) + "\n"


def libsvm_text(x: np.ndarray, y: np.ndarray, *, one_based: bool = False) -> str:
    shift = 1 if one_based else 0
    lines = [
        f"{label:.5g} " + " ".join(f"{i + shift}:{v:.5g}" for i, v in enumerate(row))
        for label, row in zip(y, x, strict=True)
    ]
    return "\n".join(lines) + "\n"


def parquet_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    frame = pd.DataFrame({"label": y, **{f"f{i}": x[:, i] for i in range(x.shape[1])}})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


@dataclass(frozen=True)
class Channel:
    """One channel's ContentType (None: leave it out of inputdataconfig) and files."""

    content_type: str | None
    files: Mapping[str, str | bytes]


def write_job(
    root: Path,
    hps: Mapping[str, str],
    channels: Mapping[str, Channel],
    *,
    resources: Mapping[str, object] | None = None,
    checkpoint_dir: str | None = None,
    distribution: str = "FullyReplicated",
) -> Path:
    """Lay out input/config/*.json and input/data/<channel>/... under `root`."""
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(dict(hps)))
    data_config = {
        name: ({"ContentType": ch.content_type} if ch.content_type else {})
        | {"TrainingInputMode": "File", "S3DistributionType": distribution}
        for name, ch in channels.items()
    }
    (config / "inputdataconfig.json").write_text(json.dumps(data_config))
    (config / "resourceconfig.json").write_text(
        json.dumps(resources or {"current_host": "algo-1", "hosts": ["algo-1"]})
    )
    if checkpoint_dir is not None:
        (config / "checkpointconfig.json").write_text(json.dumps({"LocalPath": checkpoint_dir}))
    for name, channel in channels.items():
        folder = root / "input" / "data" / name
        folder.mkdir(parents=True, exist_ok=True)
        for relative, content in channel.files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
    return root


def good_csv() -> str:
    return csv_text(*regression())


def _csv_job(
    root: Path, text: str, hps: Mapping[str, str] = FAST_HPS, ct: str = "text/csv"
) -> None:
    write_job(root, hps, {"train": Channel(ct, {"part.csv": text})})


def _lines(*extra: str) -> str:
    return good_csv() + "".join(line + "\n" for line in extra)


@dataclass(frozen=True)
class BadCase:
    """A broken job and the words its one-line failure must contain."""

    name: str
    build: Callable[[Path], object]
    expected: tuple[str, ...]


BAD_CASES = [
    BadCase(
        "bad_hp_value",
        lambda r: _csv_job(r, good_csv(), {**FAST_HPS, "eta": "abc"}),
        ("Hyperparameter 'eta' has value 'abc'", "[0, 1]"),
    ),
    BadCase(
        "unknown_hp",
        lambda r: _csv_job(r, good_csv(), {**FAST_HPS, "max_dpeth": "3"}),
        ("'max_dpeth' is not known", "max_depth"),
    ),
    BadCase(
        "missing_num_round",
        lambda r: _csv_job(r, good_csv(), {"max_depth": "3"}),
        ("'num_round' is required",),
    ),
    BadCase(
        "missing_train_channel",
        lambda r: write_job(
            r, FAST_HPS, {"validation": Channel("text/csv", {"v.csv": good_csv()})}
        ),
        ("required channel 'train' is missing", "validation"),
    ),
    BadCase(
        "header_row",
        lambda r: _csv_job(r, "label,f0,f1,f2\n" + good_csv()),
        ("part.csv", "line 1", "header"),
    ),
    BadCase(
        "ragged_rows",
        lambda r: _csv_job(r, "1,2,3,4\n1,2,3,4\n1,2,3\n"),
        ("part.csv", "line 3", "3 columns, expected 4"),
    ),
    BadCase(
        "text_in_cell",
        lambda r: _csv_job(r, "1,2,3,4\n1,2,abc,4\n"),
        ("part.csv", "line 2, column 3", "'abc' is not a number"),
    ),
    BadCase(
        "empty_channel",
        lambda r: _csv_job(r, ""),
        ("Channel 'train' is empty",),
    ),
    BadCase(
        "multi_without_num_class",
        lambda r: _csv_job(r, good_csv(), {**FAST_HPS, "objective": "multi:softmax"}),
        ("'num_class' is required", "multi:softmax"),
    ),
    BadCase(
        "unsupported_content_type",
        lambda r: _csv_job(r, good_csv(), ct="application/json"),
        ("Channel 'train'", "application/json", "text/csv", "text/libsvm"),
    ),
    BadCase(
        "label_nan",
        lambda r: _csv_job(r, "1,2,3,4\n1,2,3,4\n1,2,3,4\n,2,3,4\n"),
        ("part.csv", "line 4", "label is empty or NaN"),
    ),
    BadCase(
        "label_size_zero",
        lambda r: _csv_job(r, good_csv(), ct="text/csv;label_size=0"),
        ("label_size=0",),
    ),
    BadCase(
        "interaction_constraints_out_of_range",
        lambda r: _csv_job(r, good_csv(), {**FAST_HPS, "interaction_constraints": "[[0, 7]]"}),
        ("interaction_constraints", "feature index 7", "3 features"),
    ),
    BadCase(
        "binary_label_out_of_range",
        lambda r: _csv_job(r, good_csv(), {**FAST_HPS, "objective": "binary:logistic"}),
        ("objective 'binary:logistic' needs labels in [0, 1]",),
    ),
    BadCase(
        "too_deep",
        lambda r: write_job(
            r, FAST_HPS, {"train": Channel("text/csv", {"a/b/c/d/x.csv": good_csv()})}
        ),
        ("nested more than 3 levels",),
    ),
]
