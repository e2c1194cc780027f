"""config.py: every environment variable boostbox reads, from an injected mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostbox.config import MB, ServingConfig, TrainingConfig, cpu_count
from boostbox.errors import ConfigError


def test_serving_defaults_fit_the_machine() -> None:
    config = ServingConfig.from_environ({})
    assert config.port == 8080
    assert config.workers == cpu_count()
    assert config.worker_threads == 4
    assert config.timeout == 60
    assert config.max_payload_bytes == 6 * MB
    assert config.default_accept == "text/csv"
    assert config.inference_output == ()
    assert not (config.batch or config.multi_model or config.allow_pickle)
    assert config.paths.model_dir == Path("/opt/ml/model")


@pytest.mark.parametrize(
    ("environ", "field", "expected"),
    [
        ({"SAGEMAKER_BIND_TO_PORT": "9090"}, "port", 9090),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "3"}, "workers", 3),
        ({"MODEL_SERVER_WORKERS": "5"}, "workers", 5),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "3", "MODEL_SERVER_WORKERS": "5"}, "workers", 3),
        ({"MODEL_SERVER_TIMEOUT": "120"}, "timeout", 120),
        ({"SAGEMAKER_MODEL_SERVER_TIMEOUT": "30"}, "timeout", 30),
        ({"BOOSTBOX_WORKER_THREADS": "8"}, "worker_threads", 8),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "20"}, "max_payload_bytes", 20 * MB),
        ({"MAX_CONTENT_LENGTH": "1000"}, "max_payload_bytes", 1000),
        ({"SAGEMAKER_BATCH": "true"}, "batch", True),
        ({"SAGEMAKER_BATCH": "False"}, "batch", False),
        ({"SAGEMAKER_BATCH_STRATEGY": "single_record"}, "batch_strategy", "SINGLE_RECORD"),
        ({"SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "4"}, "max_concurrent_transforms", 4),
        (
            {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"},
            "default_accept",
            "application/json",
        ),
        (
            {"SAGEMAKER_INFERENCE_OUTPUT": " Predicted_Label , probabilities"},
            "inference_output",
            ("predicted_label", "probabilities"),
        ),
        ({"SAGEMAKER_MULTI_MODEL": "true"}, "multi_model", True),
        ({"BOOSTBOX_ALLOW_PICKLE": "1"}, "allow_pickle", True),
        ({"OMP_NUM_THREADS": "2"}, "predict_threads", 2),
        ({"BOOSTBOX_WORKER_USER": "root"}, "worker_user", "root"),
        ({}, "worker_user", "boostbox"),
        ({"SAGEMAKER_BASE_DIR": "/tmp/x"}, "paths", None),
    ],
)
def test_serving_variables(environ: dict[str, str], field: str, expected: object) -> None:
    value = getattr(ServingConfig.from_environ(environ), field)
    if field == "paths":
        assert value.model_dir == Path("/tmp/x/model")
    else:
        assert value == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SAGEMAKER_BIND_TO_PORT", "http"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0"),
        ("BOOSTBOX_WORKER_THREADS", "-1"),
        ("SAGEMAKER_BATCH", "maybe"),
        ("SAGEMAKER_BATCH_STRATEGY", "SOMETIMES"),
        ("SAGEMAKER_INFERENCE_OUTPUT", "predicted_label,confidence"),
        ("BOOSTBOX_LOG_LEVEL", "VERBOSE"),
        ("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/html"),
    ],
)
def test_bad_serving_values_name_key_and_value(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        ServingConfig.from_environ({key: value})
    assert key in str(info.value)
    assert value.upper() in str(info.value).upper()


def test_training_config_reads_the_opt_ml_files(tmp_path: Path) -> None:
    config_dir = tmp_path / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps({"num_round": "10", "eta": 0.1}))
    (config_dir / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv; charset=utf-8"}, "validation": {}})
    )
    (config_dir / "resourceConfig.json").write_text(
        json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]})
    )
    (config_dir / "checkpointconfig.json").write_text(json.dumps({"LocalPath": "/ckpt"}))
    config = TrainingConfig.from_environ(
        {"SAGEMAKER_BASE_DIR": str(tmp_path), "TRAINING_JOB_NAME": "job-1", "SM_NUM_CPUS": "3"}
    )
    assert config.hyperparameters == {"num_round": "10", "eta": "0.1"}
    assert config.channels["train"].content_type == "text/csv; charset=utf-8"
    assert config.channels["validation"].content_type == "text/libsvm"  # the algorithm's default
    assert (config.current_host, config.hosts) == ("algo-2", ("algo-1", "algo-2"))
    assert config.checkpoint_dir == Path("/ckpt")
    assert (config.job_name, config.num_cpus) == ("job-1", 3)


def test_training_without_inputdataconfig_uses_the_channel_folders(tmp_path: Path) -> None:
    for name in ("validation", "train"):
        (tmp_path / "input" / "data" / name).mkdir(parents=True)
    config = TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert sorted(config.channels) == ["train", "validation"]
    assert config.checkpoint_dir is None


def test_broken_config_json_names_the_file(tmp_path: Path) -> None:
    config_dir = tmp_path / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "hyperparameters.json").write_text("{not json")
    with pytest.raises(ConfigError, match="hyperparameters.json is not valid JSON"):
        TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})


def test_log_levels_accept_any_case_and_warn() -> None:
    assert ServingConfig.from_environ({"BOOSTBOX_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    assert TrainingConfig.from_environ({"SM_LOG_LEVEL_NAME": "warn"}).log_level == "WARNING"


def test_bad_training_log_level_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'SM_LOG_LEVEL_NAME' has value 'LOUD'"):
        TrainingConfig.from_environ(
            {"SAGEMAKER_BASE_DIR": str(tmp_path), "SM_LOG_LEVEL_NAME": "LOUD"}
        )


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("inputdataconfig.json", {"train": "text/csv"}, "channel 'train' has value \"text/csv\""),
        ("inputdataconfig.json", ["train"], "must hold a JSON object"),
        ("resourceconfig.json", ["algo-1"], "must hold a JSON object"),
        ("hyperparameters.json", ["num_round"], "must hold a JSON object"),
    ],
)
def test_malformed_config_files_name_the_file(
    tmp_path: Path, file: str, content: object, expected: str
) -> None:
    config_dir = tmp_path / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / file).write_text(json.dumps(content))
    with pytest.raises(ConfigError) as info:
        TrainingConfig.from_environ({"SAGEMAKER_BASE_DIR": str(tmp_path)})
    assert file in str(info.value) and expected in str(info.value)
