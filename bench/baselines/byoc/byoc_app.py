"""BYOC-sample-style predictor: pandas.read_csv -> DMatrix -> predict -> pandas to_csv.

Mirrors amazon-sagemaker-examples' scikit_bring_your_own predictor.py on purpose (including
its class-level model cache) so the benchmark compares boostbox against what users copy.
"""

from __future__ import annotations

import io
import os

import flask
import pandas as pd
import xgboost as xgb

MODEL_PATH = os.path.join("/opt/ml/model", "xgboost-model")


class ScoringService:
    model: xgb.Booster | None = None

    @classmethod
    def get_model(cls) -> xgb.Booster:
        if cls.model is None:
            booster = xgb.Booster()
            booster.load_model(MODEL_PATH)
            cls.model = booster
        return cls.model

    @classmethod
    def predict(cls, data: pd.DataFrame) -> list[float]:
        result = cls.get_model().predict(xgb.DMatrix(data))
        return [float(v) for v in result]


app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    health = ScoringService.get_model() is not None
    status = 200 if health else 404
    return flask.Response(response="\n", status=status, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def transformation() -> flask.Response:
    if flask.request.content_type != "text/csv":
        return flask.Response(
            response="This predictor only supports CSV data", status=415, mimetype="text/plain"
        )
    data = pd.read_csv(io.StringIO(flask.request.data.decode("utf-8")), header=None)
    predictions = ScoringService.predict(data)
    out = io.StringIO()
    pd.DataFrame({"results": predictions}).to_csv(out, header=False, index=False)
    return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
