"""The /opt/ml filesystem contract, from a root argument (SageMaker's or a local folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OptMl:
    """Every path SageMaker's training and hosting contracts name, under one root."""

    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def hyperparameters(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config(self) -> Path:
        """SageMaker writes resourceconfig.json; the BYOC sample ships resourceConfig.json."""
        lower = self.config_dir / "resourceconfig.json"
        camel = self.config_dir / "resourceConfig.json"
        return camel if camel.exists() and not lower.exists() else lower

    @property
    def checkpoint_config(self) -> Path:
        return self.config_dir / "checkpointconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.root / "input" / "data"

    def channel(self, name: str) -> Path:
        return self.data_dir / name

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def models_dir(self) -> Path:
        """Multi-model endpoints mount models under /opt/ml/models/<name>/model."""
        return self.root / "models"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def success_file(self) -> Path:
        return self.output_dir / "success"

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"
