"""The seed workflow's fixed choices, shared by demo.py, local_mode.py and make_test_data.py.

Standard library only: local_mode.py imports it from the SDK virtualenv (.venv-sdk).
"""

from __future__ import annotations

HYPERPARAMETERS: dict[str, str] = {
    "max_depth": "5",
    "eta": "0.2",
    "gamma": "4",
    "min_child_weight": "6",
    "subsample": "0.8",
    "objective": "reg:linear",
    "early_stopping_rounds": "10",
    "num_round": "200",
}
"""The seed notebook's hyperparameters, as strings: SageMaker writes every value as a string."""

CLASSIFICATION_OBJECTIVE = "binary:logistic"
"""The only hyperparameter the classification variant changes."""

RANDOM_STATE = 42
"""train_test_split's seed for both splits."""

TEST_FRACTION = 0.2
"""First split: 80 % train+validation, 20 % test."""

VALIDATION_FRACTION = 0.33
"""Second split of the 80 %: 67 % train, 33 % validation."""

CHANNEL_CONTENT_TYPE = "text/csv"


def hyperparameters(*, classification: bool = False) -> dict[str, str]:
    """A fresh copy of the seed's hyperparameters, with the classifier's objective if asked."""
    hps = dict(HYPERPARAMETERS)
    if classification:
        hps["objective"] = CLASSIFICATION_OBJECTIVE
    return hps


def input_data_config(channels: tuple[str, ...] = ("train", "validation")) -> dict[str, object]:
    """inputdataconfig.json as SageMaker writes it for File-mode CSV channels."""
    return {
        name: {
            "ContentType": CHANNEL_CONTENT_TYPE,
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
        for name in channels
    }


RESOURCE_CONFIG: dict[str, object] = {
    "current_host": "algo-1",
    "hosts": ["algo-1"],
    "network_interface_name": "eth0",
}
"""resourceconfig.json for a single local host."""


def json_request(rows: list[list[float]]) -> dict[str, object]:
    """The application/json request body for feature rows (boostbox's JSON input shape)."""
    return {"instances": [{"features": row} for row in rows]}
