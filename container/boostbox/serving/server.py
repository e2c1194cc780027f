"""`serve`: gunicorn (gthread workers, keep-alive) running the Flask app, one model per worker.

The workers are serving.worker.BoundedThreadWorker: gthread with every client read and write
bounded in time (a stalled client frees its request thread).

Each worker loads the model in the app factory before it accepts its first request. The
model is NOT loaded in the master and shared by fork (preload): measured here, loading a
model with XGBoost starts an OpenMP thread pool, and a forked worker that then predicts
with nthread > 1 deadlocks (libgomp is not fork-safe). The master only checks that the
model file exists, so a missing model ends the container at once with one clear log line;
a model that exists but does not load makes the first worker log one clear line and exit
with gunicorn's boot-error status, which stops the master (exit code 3).

Multi-model mode (SAGEMAKER_MULTI_MODEL=true) needs no /opt/ml/model: the master creates the
registry directory the workers share (serving.multimodel.registry) before forking them and
removes it when gunicorn stops; models arrive through POST /models.

SIGTERM: gunicorn's graceful stop: listeners close, in-flight requests complete, workers
get GRACEFUL_TIMEOUT seconds (less than the 30 s SageMaker waits before SIGKILL).

Started as root (SageMaker), the master stays root and the workers switch to the image's
unprivileged `boostbox` account (serving.identity). Nothing is written outside /dev/shm
(worker heartbeats, the multi-model registry), so `docker run --read-only` serves.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.errors import HaltServer

from boostbox import artifact, sourcedir
from boostbox.config import ServingConfig
from boostbox.errors import ConfigError, ModelLoadError
from boostbox.monitoring.service import create_shared_store, open_monitor
from boostbox.monitoring.store import SharedStore
from boostbox.process import exit_status, finish
from boostbox.serving import hooks
from boostbox.serving.app import create_app
from boostbox.serving.ensemble import load_predictor
from boostbox.serving.identity import Identity, drop_groups, hand_over, worker_identity
from boostbox.serving.multimodel.app import create_multi_model_app
from boostbox.serving.multimodel.registry import ModelRegistry
from boostbox.serving.worker import BoundedThreadWorker

logger = logging.getLogger(__name__)

GRACEFUL_TIMEOUT = 20
"""Seconds a stopping worker may spend on in-flight requests (SageMaker SIGKILLs at 30)."""
KEEPALIVE = 5
"""Seconds an idle connection stays open: sync workers close every connection, and a new
connection per request cost half the throughput of 1-row requests (bench/, py-spy)."""
WORKER_BOOT_ERROR = 3
"""gunicorn's exit status for a worker that failed to boot; the master then stops too."""


def build_app(config: ServingConfig, monitoring: SharedStore | None = None) -> Flask:
    """Load the model (through the user's model_fn in script mode) into the app, per worker."""
    model_dir = config.paths.model_dir
    program = hooks.program_path(config)
    if program is not None:
        return create_app(hooks.load_handler(model_dir, config, program), config)
    monitor = open_monitor(model_dir, config.monitoring, config.monitoring_window, monitoring)
    return create_app(load_predictor(model_dir, config), config, monitor)


def worker_exit(arbiter: object, worker: object) -> None:
    """gunicorn's last hook in a worker (inside its `finally`): leave with the status its
    SystemExit carries, flushed, without interpreter finalization (see boostbox.process)."""
    del arbiter, worker
    pending = sys.exception()
    if isinstance(pending, SystemExit):
        finish(exit_status(pending))


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from ServingConfig; `load` runs in every worker (no preload)."""

    def __init__(
        self,
        config: ServingConfig,
        registry: ModelRegistry | None = None,
        monitoring: SharedStore | None = None,
        identity: Identity | None = None,
    ):
        self.config = config
        self.registry = registry
        """The multi-model registry (created in the master), None when serving one model."""
        self.monitoring = monitoring
        """Drift counters shared by the workers (created in the master), None when off."""
        self.identity = identity
        """The unprivileged account workers switch to; None keeps the master's user."""
        super().__init__()

    def load_config(self) -> None:
        config = self.config
        options: dict[str, Any] = {
            "bind": f"0.0.0.0:{config.port}",
            "workers": config.workers,
            "worker_class": BoundedThreadWorker,  # gthread, stalled clients bounded
            "threads": config.worker_threads,
            "keepalive": KEEPALIVE,
            "timeout": config.timeout,
            "graceful_timeout": min(GRACEFUL_TIMEOUT, config.timeout),
            "preload_app": False,
            "errorlog": "-",
            "loglevel": config.log_level.lower(),
            "proc_name": "boostbox-serve",
            "worker_exit": worker_exit,
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 24: no ~/.gunicorn socket
            options["control_socket_disable"] = True
        if self.identity is not None:  # set in each worker before it loads the app
            options["user"] = self.identity.uid
            options["group"] = self.identity.gid
            options["post_fork"] = drop_groups(self.identity)
        if os.path.isdir("/dev/shm"):
            options["worker_tmp_dir"] = "/dev/shm"  # heartbeat file off the overlay filesystem
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        try:
            if self.registry is not None:
                app = create_multi_model_app(self.registry, self.config)
            else:
                app = build_app(self.config, self.monitoring)
        except (ModelLoadError, ConfigError) as e:
            logger.error("boostbox serve: cannot load the model: %s", e)
            sys.exit(WORKER_BOOT_ERROR)
        # A loaded worker holds ~144k objects the cyclic GC tracks (numpy, xgboost, flask, the
        # model's arrays): one full collection of them took 77 ms CPU here, while every request
        # thread of the worker waits. Freezing them leaves the collector only what requests
        # create (full collection after it: < 0.1 ms); they live as long as the worker anyway.
        gc.freeze()
        return app


def main(environ: Mapping[str, str] = os.environ) -> int:
    """Entry point of `serve`; returns the exit status (non-zero: nothing was served)."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = ServingConfig.from_environ(environ)
    except ConfigError as e:
        logger.error("boostbox serve: %s", e)
        return 2
    logging.getLogger().setLevel(config.log_level)
    if config.multi_model:
        return serve_multi_model(config)
    try:
        module = check_program(config)
    except ConfigError as e:
        logger.error("boostbox serve: %s", e)
        return 2
    store = None
    try:
        if module is not None and "model_fn" in module.hooks:
            model_file = module.path
        else:
            model_file = artifact.find_model_file(config.paths.model_dir)
            artifact.check_format(model_file, allow_pickle=config.allow_pickle)
        if module is None:
            store = create_shared_store(config.paths.model_dir, config.monitoring, config.workers)
    except ModelLoadError as e:
        logger.error("boostbox serve: cannot start: %s", e)
        return 1
    logger.info(
        "Serving %s on port %d: %d workers x %d request threads, %d XGBoost thread(s), "
        "timeout %d s, payload limit %d B.",
        model_file,
        config.port,
        config.workers,
        config.worker_threads,
        config.predict_threads,
        config.timeout,
        config.max_payload_bytes,
    )
    identity = worker_identity(config.worker_user, model_file)
    if identity is not None:
        logger.info("Workers run as user %s (uid %d).", identity.name, identity.uid)
    if store is not None:
        hand_over(store.root, identity)
        logger.info("Drift monitoring on: GET /monitoring; counters in %s.", store.root)
    try:
        return run_gunicorn(Server(config, monitoring=store, identity=identity))
    finally:
        if store is not None:
            store.destroy()


def check_program(config: ServingConfig) -> hooks.UserModule | None:
    """Script mode: install the code's requirements.txt and import the inference module once
    in the master, so a failed install, a missing module, an import error or a hook conflict
    stops the container before any worker starts."""
    program = hooks.program_path(config)
    if program is None:
        return None
    sourcedir.install_requirements(program.parent)
    return hooks.load_module(program)


def run_gunicorn(server: Server) -> int:
    """Run the arbiter; its halt (e.g. every worker failed to boot) becomes the exit status.

    gunicorn can raise HaltServer a second time while stopping (two workers failing to boot
    at once are reaped inside its own halt), which would end in a traceback and exit 1.
    """
    try:
        server.run()
    except HaltServer as e:
        logger.error("boostbox serve: stopped: %s", e.reason)
        return int(e.exit_status)
    return 0


def serve_multi_model(config: ServingConfig) -> int:
    """Run gunicorn over a fresh registry; remove it when the master stops (not in workers)."""
    registry = ModelRegistry.create()
    identity = worker_identity(config.worker_user)
    hand_over(registry.root, identity)
    logger.info(
        "Serving a multi-model endpoint on port %d: %d workers, up to %d models each, registry %s.",
        config.port,
        config.workers,
        config.max_models_per_worker,
        registry.root,
    )
    try:
        return run_gunicorn(Server(config, registry, identity=identity))
    finally:
        registry.destroy()
