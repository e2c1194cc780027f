"""Serving contracts of the official SageMaker XGBoost algorithm that boostbox matches.

Every booster type serves; official 1.x legacy models are refused with the way out; fold
models (k-fold) serve as one averaged or voting ensemble; Parquet columns go by name;
gzip bodies; libsvm 1-based requests under BOOSTBOX_LIBSVM_ONE_BASED.
"""

from __future__ import annotations

import gzip
import io
import logging
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from boostbox import artifact
from boostbox.artifact import MODEL_FILE
from boostbox.config import ServingConfig
from boostbox.errors import BadRequest, ModelLoadError
from boostbox.paths import OptMl
from boostbox.serving.app import create_app
from boostbox.serving.ensemble import Ensemble, load_predictor, vote
from boostbox.serving.predictor import OutputKind, Predictor
from tests.unit.serving.conftest import NUM_FEATURE, features, labels_for, save, serve_main, train

ROW = "0.5,-1,2,0.25"

pytestmark = pytest.mark.filterwarnings(
    # XGBoost 3.4 deprecates both boosters but trains and predicts with them; models from
    # the official images (XGBoost 3.0) may use them, so serving must.
    "ignore:.*booster=(dart|gblinear). is deprecated:UserWarning",
    "ignore:.*Text file input has been deprecated:UserWarning",
    "ignore:(?s).*max_depth.*are not used:UserWarning",
)


def _client(model_dir: Path, **config: Any) -> Any:
    settings = ServingConfig(paths=OptMl(model_dir.parent), **config)
    return create_app(load_predictor(model_dir, settings), settings).test_client()


def _values(data: bytes) -> np.ndarray:
    return np.asarray([float(v) for v in data.decode().split()], dtype=np.float32)


# --- every booster type serves -------------------------------------------------------------


@pytest.mark.parametrize("booster", ["gbtree", "dart", "gblinear"])
@pytest.mark.parametrize("rows", [1, 40])
def test_every_booster_type_serves(tmp_path: Path, booster: str, rows: int) -> None:
    params: dict[str, Any] = {"booster": booster}
    if booster == "dart":
        params["rate_drop"] = 0.2
    model = train("binary:logistic", **params)
    client = _client(save(model, tmp_path / "model"))
    x = features(rows=rows, seed=3)
    body = "\n".join(",".join("" if np.isnan(v) else str(v) for v in row) for row in x)
    response = client.post("/invocations", data=body, content_type="text/csv")
    assert response.status_code == 200, response.data
    expected = model.predict(xgb.DMatrix(x, missing=np.nan))
    np.testing.assert_allclose(_values(response.data), expected, rtol=1e-5, atol=1e-6)


def test_gblinear_margin_and_contributions_serve_but_leaf_is_400_naming_it(
    tmp_path: Path,
) -> None:
    model = train("binary:logistic", booster="gblinear")
    predictor = Predictor(artifact.load(save(model, tmp_path / "model")))
    x = features(rows=5, seed=4)
    np.testing.assert_allclose(
        predictor.predict(x, OutputKind.MARGIN),
        model.predict(xgb.DMatrix(x), output_margin=True),
        rtol=1e-6,
    )
    assert predictor.predict(x, OutputKind.CONTRIBUTIONS).shape == (5, NUM_FEATURE + 1)
    with pytest.raises(BadRequest, match="output=leaf is not available for a gblinear model"):
        predictor.predict(x, OutputKind.LEAF)


# --- models from the official 1.x images ---------------------------------------------------


def legacy_model_bytes(objective: bytes = b"multi:softprob", major: int = 1) -> bytes:
    """The head of XGBoost < 2's binary format, as official images 1.3-1 to 1.7-1 wrote it."""
    params = struct.pack("<fIiiiII", 0.5, 4, 3, 1, 0, major, 0).ljust(136, b"\0")
    return (
        params
        + struct.pack("<Q", len(objective))
        + objective
        + struct.pack("<Q", 6)
        + b"gbtree"
        + b"\0" * 64
    )


@pytest.mark.parametrize("tag", [b"", b"binf"])
def test_legacy_binary_models_are_refused_saying_what_to_do(tmp_path: Path, tag: bytes) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / MODEL_FILE).write_bytes(tag + legacy_model_bytes())
    assert artifact.legacy_binary(tag + legacy_model_bytes()) == ("multi:softprob", "1.0")
    for call in (
        lambda: artifact.load(model_dir),
        lambda: artifact.check_format(model_dir / MODEL_FILE),
    ):
        with pytest.raises(ModelLoadError) as raised:
            call()
        message = str(raised.value)
        assert "legacy binary format" in message and "XGBoost 1.0" in message
        assert "xgboost<3.1" in message and "save_model('model.json')" in message


def test_native_models_are_not_taken_for_legacy(model_dirs: dict[str, Path]) -> None:
    for path in model_dirs.values():
        assert artifact.legacy_binary((path / MODEL_FILE).read_bytes()) is None
    assert artifact.legacy_binary(b"\x80\x04" + b"\0" * 300) is None


def test_serve_stops_at_once_on_a_legacy_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / MODEL_FILE).write_bytes(legacy_model_bytes(b"reg:linear"))
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    assert serve_main() == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "legacy binary format" in errors[0]


# --- k-fold model folders ------------------------------------------------------------------


def fold_dir(tmp_path: Path, objective: str, folds: int = 3, **params: Any) -> Path:
    model_dir = tmp_path / "model"
    for fold in range(folds):
        booster = train(objective, rounds=4 + fold, seed=fold, subsample=0.7, **params)
        save(booster, tmp_path / f"fold{fold}")
        (tmp_path / f"fold{fold}" / MODEL_FILE).rename(
            tmp_path / f"fold{fold}" / f"{MODEL_FILE}-{fold}"
        )
        model_dir.mkdir(exist_ok=True)
        (tmp_path / f"fold{fold}" / f"{MODEL_FILE}-{fold}").rename(
            model_dir / f"{MODEL_FILE}-{fold}"
        )
    return model_dir


def _fold_boosters(model_dir: Path) -> list[xgb.Booster]:
    return [artifact.load_booster(p) for p in artifact.fold_model_files(model_dir)]


@pytest.mark.parametrize("objective", ["binary:logistic", "multi:softprob", "reg:squarederror"])
def test_fold_models_serve_their_mean(tmp_path: Path, objective: str) -> None:
    model_dir = fold_dir(tmp_path, objective)
    scorer = load_predictor(model_dir, ServingConfig())
    assert isinstance(scorer, Ensemble) and len(scorer.members) == 3
    x = features(rows=30, seed=9)
    expected = np.mean([b.inplace_predict(x) for b in _fold_boosters(model_dir)], axis=0)
    np.testing.assert_allclose(scorer.predict(x), expected, rtol=1e-5, atol=1e-6)
    assert scorer.predict(x, OutputKind.LEAF).shape[1] == sum(
        b.num_boosted_rounds() * max(1, scorer.num_class) for b in _fold_boosters(model_dir)
    )


@pytest.mark.parametrize("objective", ["multi:softmax", "binary:hinge"])
def test_label_objectives_vote_per_row(tmp_path: Path, objective: str) -> None:
    model_dir = fold_dir(tmp_path, objective)
    scorer = load_predictor(model_dir, ServingConfig())
    x = features(rows=200, seed=11)
    per_model = np.stack([b.inplace_predict(x) for b in _fold_boosters(model_dir)])
    got = scorer.predict(x)
    for row in range(x.shape[0]):
        values, counts = np.unique(per_model[:, row], return_counts=True)
        assert got[row] == values[np.argmax(counts)]
    assert len(np.unique(got)) > 1  # not the first row's vote for every row


def test_vote_is_per_row_and_ties_go_to_the_smaller_label() -> None:
    labels = np.asarray([[0, 2, 1, 1], [2, 2, 0, 1], [2, 1, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(vote(labels), [2, 2, 0, 1])


def test_ensemble_false_serves_only_xgboost_model(tmp_path: Path) -> None:
    model_dir = fold_dir(tmp_path, "binary:logistic")
    single = train("binary:logistic", rounds=2)
    save(single, model_dir)
    x = features(rows=5, seed=2)
    only = load_predictor(model_dir, ServingConfig(inference_ensemble=False))
    assert isinstance(only, Predictor)
    np.testing.assert_allclose(only.predict(x), single.inplace_predict(x), rtol=1e-6)
    both = load_predictor(model_dir, ServingConfig())
    assert isinstance(both, Ensemble) and len(both.members) == 4


def test_ensemble_false_without_xgboost_model_serves_the_first_fold(tmp_path: Path) -> None:
    model_dir = fold_dir(tmp_path, "reg:squarederror")
    only = load_predictor(model_dir, ServingConfig(inference_ensemble=False))
    assert isinstance(only, Predictor)
    x = features(rows=5, seed=2)
    np.testing.assert_allclose(only.predict(x), _fold_boosters(model_dir)[0].inplace_predict(x))


def test_ensemble_env_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServingConfig.from_environ({}).inference_ensemble is True
    assert (
        ServingConfig.from_environ({"SAGEMAKER_INFERENCE_ENSEMBLE": "False"}).inference_ensemble
        is False
    )


# --- Parquet columns by name -----------------------------------------------------------------


NAMES = ["age", "height", "weight", "score"]


def named_model_dir(tmp_path: Path) -> tuple[Path, xgb.Booster]:
    x = features()
    dtrain = xgb.DMatrix(x, labels_for("binary:logistic", x), feature_names=NAMES)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, dtrain, 5)
    return save(booster, tmp_path / "model"), booster


def parquet(frame: pd.DataFrame, index: bool | None = None) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=index)
    return buffer.getvalue()


def test_parquet_columns_are_matched_by_name(tmp_path: Path) -> None:
    model_dir, booster = named_model_dir(tmp_path)
    client = _client(model_dir)
    x = features(rows=6, seed=5)
    frame = pd.DataFrame(x, columns=NAMES)
    expected = booster.inplace_predict(x)
    shuffled = frame[["score", "age", "weight", "height"]]
    shuffled.index = pd.RangeIndex(10, 16)  # a non-default index: __index_level_0__ written
    for body in (parquet(frame), parquet(shuffled, index=True)):
        response = client.post("/invocations", data=body, content_type="application/x-parquet")
        assert response.status_code == 200, response.data
        np.testing.assert_allclose(_values(response.data), expected, rtol=1e-6)


def test_parquet_name_mismatch_is_400_naming_it(tmp_path: Path) -> None:
    model_dir, _ = named_model_dir(tmp_path)
    frame = pd.DataFrame(features(rows=2), columns=["age", "height", "weight", "bmi"])
    response = _client(model_dir).post(
        "/invocations", data=parquet(frame), content_type="application/x-parquet"
    )
    assert response.status_code == 400
    message = response.get_json()["error"]
    assert "missing 'score'" in message and "unexpected 'bmi'" in message


def test_parquet_index_column_is_not_a_feature_for_unnamed_models(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    frame = pd.DataFrame(features(rows=3), columns=list("abcd"), index=[7, 8, 9])
    frame.index.name = "row_id"
    response = _client(model_dirs["binary"]).post(
        "/invocations", data=parquet(frame, index=True), content_type="application/x-parquet"
    )
    assert response.status_code == 200, response.data
    assert len(_values(response.data)) == 3


# --- Content-Encoding ------------------------------------------------------------------------


def test_gzip_limit_counts_the_decompressed_size(model_dirs: dict[str, Path]) -> None:
    body = ((ROW + "\n") * 200).encode()
    squeezed = gzip.compress(body)
    assert len(squeezed) < 1024 < len(body)
    client = _client(model_dirs["binary"], max_payload_bytes=1024)
    response = client.post(
        "/invocations", data=squeezed, content_type="text/csv", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    assert "decompression" in response.get_json()["error"]
    fits = _client(model_dirs["binary"], max_payload_bytes=len(body))
    response = fits.post(
        "/invocations", data=squeezed, content_type="text/csv", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 200 and len(_values(response.data)) == 200


def test_broken_gzip_is_400(model_dirs: dict[str, Path]) -> None:
    response = _client(model_dirs["binary"]).post(
        "/invocations",
        data=b"not gzip",
        content_type="text/csv",
        headers={"Content-Encoding": "gzip"},
    )
    assert response.status_code == 400 and "gzip" in response.get_json()["error"]


# --- libsvm indexing -------------------------------------------------------------------------

ONE_BASED = (
    "3 1:2 2:0.61 3:0.47 4:0.165\n9 1:1 2:0.595 3:0.475 4:0.14\n12 1:3 2:0.78 3:0.6 4:0.21\n"
)


def test_model_trained_by_official_algorithm_on_one_based_libsvm(tmp_path: Path) -> None:
    """Official training reads libsvm with XGBoost's parser (index i = column i, so column 0
    stays empty); the same 1-based lines sent to boostbox predict exactly as in training."""
    path = tmp_path / "train.libsvm"
    path.write_text(ONE_BASED * 20)
    dtrain = xgb.DMatrix(f"{path}?format=libsvm")
    assert dtrain.num_col() == 5
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 2}, dtrain, 5)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    # the official train calls save_model('xgboost-model'): UBJSON for a name without extension
    (model_dir / MODEL_FILE).write_bytes(booster.save_raw(raw_format="ubj"))
    response = _client(model_dir).post("/invocations", data=ONE_BASED, content_type="text/libsvm")
    assert response.status_code == 200, response.data
    expected = booster.predict(xgb.DMatrix(f"{path}?format=libsvm"))[:3]
    np.testing.assert_allclose(_values(response.data), expected, rtol=1e-6)


def test_one_based_switch_shifts_every_request_index(tmp_path: Path) -> None:
    """A model trained on dense columns, a client writing 1-based libsvm: the switch maps
    index i to column i - 1 for every request (no per-request guessing)."""
    x = np.asarray([[2, 0.61, 0.47, 0.165], [1, 0.595, 0.475, 0.14], [3, 0.78, 0.6, 0.21]])
    booster = xgb.train(
        {"objective": "reg:squarederror", "max_depth": 2},
        xgb.DMatrix(np.tile(x, (20, 1)), np.tile([3.0, 9.0, 12.0], 20)),
        5,
    )
    model_dir = save(booster, tmp_path / "model")
    client = _client(model_dir, libsvm_one_based=True)
    response = client.post("/invocations", data=ONE_BASED, content_type="text/libsvm")
    assert response.status_code == 200, response.data
    np.testing.assert_allclose(_values(response.data), booster.inplace_predict(x), rtol=1e-6)
    plain = _client(model_dir).post("/invocations", data=ONE_BASED, content_type="text/libsvm")
    assert plain.status_code == 400 and "BOOSTBOX_LIBSVM_ONE_BASED" in plain.get_json()["error"]
    zero = client.post("/invocations", data="0:1 1:2\n", content_type="text/libsvm")
    assert zero.status_code == 400 and "index 0" in zero.get_json()["error"]
    assert ServingConfig.from_environ({"BOOSTBOX_LIBSVM_ONE_BASED": "true"}).libsvm_one_based


def test_trailing_comma_on_every_row_is_not_a_feature(make_client: Any) -> None:
    client = make_client()
    plain = client.post("/invocations", data=f"{ROW}\n{ROW}\n", content_type="text/csv")
    trailing = client.post("/invocations", data=f"{ROW},\n{ROW},\n", content_type="text/csv")
    assert trailing.status_code == 200 and trailing.data == plain.data
    extra = client.post("/invocations", data=f"{ROW},1\n{ROW},\n", content_type="text/csv")
    assert extra.status_code == 400
