"""A bring-your-own training script for the boostbox image (script mode), in 20 lines of code.

boostbox's readers give it csv/libsvm/parquet/recordio/gzip channels (each channel's
ContentType picks the reader); artifact.save writes `xgboost-model` for boostbox's `serve`.
"""

import argparse
import json
import os
from pathlib import Path

import xgboost as xgb

from boostbox import artifact
from boostbox.config import ChannelConfig
from boostbox.training.channels import Dataset, load_channel

parser = argparse.ArgumentParser()
parser.add_argument("--n_estimators", type=int, default=50)
parser.add_argument("--max_depth", type=int, default=4)
args, _ = parser.parse_known_args()  # SDK v3 may pass more than we use
channels = json.loads(os.environ["SM_INPUT_DATA_CONFIG"])


def read(name: str) -> Dataset:  # features, labels, weights, feature_names
    content_type = channels.get(name, {}).get("ContentType") or "text/csv"
    folder = Path(os.environ[f"SM_CHANNEL_{name.upper()}"])
    return load_channel(folder, ChannelConfig(name, content_type))


train = read("train")
evals = [(v.features, v.labels) for v in [read("validation")] if "validation" in channels]
model = xgb.XGBRegressor(n_estimators=args.n_estimators, max_depth=args.max_depth)
model.fit(train.features, train.labels, eval_set=evals or None, verbose=True)
booster = model.get_booster()
artifact.save(
    booster, Path(os.environ["SM_MODEL_DIR"]), artifact.ModelMetadata.from_booster(booster)
)
