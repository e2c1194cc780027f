"""Script mode for serving: the user's inference module and its hooks (SAGEMAKER_PROGRAM).

The module may define any of `model_fn(model_dir)`, `input_fn(body, content_type)`,
`predict_fn(data, model)`, `output_fn(prediction, accept)`, or `transform_fn(model, body,
content_type, accept)` instead of the middle three. Each hook left out is boostbox's own
stage: model_fn loads `xgboost-model` into the fast predictor, input_fn decodes with the
codecs, predict_fn predicts with whatever model_fn returned (predictor, Booster, or anything
with .predict), output_fn encodes with the encoders (and SAGEMAKER_INFERENCE_OUTPUT when the
model is boostbox's). output_fn and transform_fn may return bytes or str (sent as the
negotiated Accept type), a (body, content_type) pair, or a Flask Response.

Where the module is: single model, `SAGEMAKER_SUBMIT_DIRECTORY` (a folder, a tar file, an
s3:// tarball or a file:// URL: boostbox.sourcedir, fetched once by the master) or else
`<model dir>/code`; multi-model, each model's own `code/` folder
(`inference.py` unless SAGEMAKER_PROGRAM names another). A hook that raises answers 500
with one line naming the hook and the error (or the status of a boostbox ServingError it
raised); the traceback goes to the log and the worker serves on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import xgboost as xgb
from flask import Response

from boostbox import sourcedir
from boostbox.config import ServingConfig
from boostbox.errors import ConfigError, ModelLoadError, ServingError
from boostbox.serving.codecs import ENCODERS, negotiate
from boostbox.serving.ensemble import Ensemble, load_predictor
from boostbox.serving.invocation import Answer, Call, Handler, Served, decode, output_for
from boostbox.serving.outputs import Selection
from boostbox.serving.predictor import OutputKind, Predictor

logger = logging.getLogger(__name__)

HOOKS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
REPLACED_BY_TRANSFORM = ("input_fn", "predict_fn", "output_fn")
MULTI_MODEL_PROGRAM = "inference.py"
"""The inference toolkit's default module name under each model's code/ folder."""

type Hook = Callable[..., Any]


class HookError(ServingError):
    """A user hook raised (500); the message names the hook and the error's first line."""

    status = 500


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


@dataclass(frozen=True)
class UserModule:
    """The user's module, imported, with the hooks it defines."""

    path: Path
    hooks: Mapping[str, Hook]

    def call(self, name: str, *args: Any) -> Any:
        """Run hook `name`; any error but a boostbox ServingError becomes a HookError."""
        try:
            return self.hooks[name](*args)
        except ServingError:
            raise
        except Exception as e:
            raise HookError(f"{self.path.name}: {name} raised {_first_line(e)}") from e


def load_module(path: Path) -> UserModule:
    """Import the module at `path` (its folder on sys.path) and check its hooks."""
    if not path.is_file():
        raise ConfigError(f"Config 'SAGEMAKER_PROGRAM': inference module {path} does not exist.")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"boostbox_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"Config 'SAGEMAKER_PROGRAM': {path} is not a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise ConfigError(f"Inference module {path} cannot be imported: {_first_line(e)}") from e
    hooks = {hook: getattr(module, hook) for hook in HOOKS if callable(getattr(module, hook, None))}
    clash = [hook for hook in REPLACED_BY_TRANSFORM if hook in hooks]
    if "transform_fn" in hooks and clash:
        raise ConfigError(
            f"The inference module {path} defines transform_fn and {', '.join(clash)}: "
            "transform_fn replaces input_fn, predict_fn and output_fn; define one or the others."
        )
    logger.info("Inference module %s: hooks %s.", path, ", ".join(hooks) or "none")
    return UserModule(path, MappingProxyType(hooks))


def _program_file(program: str) -> str:
    return program if program.endswith(".py") else program + ".py"


def code_dir(config: ServingConfig) -> Path:
    """Where the single-model inference module lives (see the module docstring)."""
    if config.submit_directory is None:
        return config.paths.model_dir / "code"
    return sourcedir.cached(config.submit_directory)


def program_path(config: ServingConfig) -> Path | None:
    """The single-model inference module, None when SAGEMAKER_PROGRAM is not set."""
    if config.program is None:
        return None
    return code_dir(config) / _program_file(config.program)


def model_program_path(model_dir: Path, config: ServingConfig) -> Path | None:
    """A multi-model model's own inference module, None when it has none."""
    path = model_dir / "code" / _program_file(config.program or MULTI_MODEL_PROGRAM)
    return path if path.is_file() else None


def builtin_predict(data: Any, model: Any, kind: OutputKind) -> Any:
    """predict_fn's fallback for the models a model_fn is likely to return."""
    if isinstance(model, Predictor | Ensemble):
        return model.predict(data, kind)
    if isinstance(model, xgb.Booster):
        if isinstance(data, xgb.DMatrix):
            return model.predict(data, validate_features=False)
        return model.inplace_predict(data)
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise HookError(
            f"model_fn returned a {type(model).__name__}, which has no predict(); "
            "define predict_fn."
        )
    return predict(data)


class Scripted:
    """A model served through the user's hooks, each falling back to the built-in stage."""

    def __init__(self, module: UserModule, model: Any, selection: Selection | None):
        self.module = module
        self.model = model
        self.selection = selection

    def _has(self, hook: str) -> bool:
        return hook in self.module.hooks

    def respond(self, call: Call, config: ServingConfig) -> Answer:
        accept = call.accept or config.default_accept
        if accept.strip() in ("", "*/*"):
            accept = config.default_accept
        if self._has("transform_fn"):
            result = self.module.call(
                "transform_fn", self.model, call.body, call.content_type, accept
            )
            return _response(result, accept, "transform_fn")
        if not self._has("output_fn"):
            accept = negotiate(accept, config.default_accept)  # 406 before any work
        if self._has("input_fn"):
            data = self.module.call("input_fn", call.body, call.content_type)
        else:
            data = decode(call.body, call.content_type, libsvm_one_based=config.libsvm_one_based)
        if self._has("predict_fn"):
            prediction = self.module.call("predict_fn", data, self.model)
        else:
            prediction = self._builtin_predict(data, call.kind)
        if self._has("output_fn"):
            return _response(self.module.call("output_fn", prediction, accept), accept, "output_fn")
        output = output_for(prediction, call.kind, self.selection)
        return 200, accept, ENCODERS[accept](output, config.batch)

    def _builtin_predict(self, data: Any, kind: OutputKind) -> Any:
        try:
            return builtin_predict(data, self.model, kind)
        except ServingError:
            raise
        except Exception as e:
            raise HookError(f"The built-in predict_fn failed: {_first_line(e)}") from e


def _response(result: Any, accept: str, hook: str) -> Answer:
    """What output_fn/transform_fn returned, as an answer (see the module docstring)."""
    if isinstance(result, Response):
        return result.status_code, result.mimetype or accept, result.get_data()
    body, mimetype = result if isinstance(result, tuple) and len(result) == 2 else (result, accept)
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray) or not isinstance(mimetype, str):
        raise HookError(
            f"{hook} returned a {type(result).__name__}; return bytes, str, "
            "a (body, content_type) pair or a flask.Response."
        )
    return 200, mimetype, bytes(body)


def load_handler(model_dir: Path, config: ServingConfig, program: Path | None) -> Handler:
    """The model in `model_dir`, served built-in, or through the module at `program`."""
    if program is None:
        return Served.build(load_predictor(model_dir, config), config)
    module = load_module(program)
    if "model_fn" in module.hooks:
        try:
            model = module.call("model_fn", str(model_dir))
        except HookError as e:
            raise ModelLoadError(str(e)) from e
    else:
        model = load_predictor(model_dir, config)
    selection = None
    if isinstance(model, Predictor | Ensemble) and config.inference_output:
        selection = Selection(config.inference_output, model.objective, model.num_class)
    return Scripted(module, model, selection)
