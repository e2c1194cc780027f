"""Multi-model endpoints via the Flask test client; two apps on one registry act as two workers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from boostbox.artifact import MODEL_FILE
from boostbox.config import MB, ServingConfig
from boostbox.paths import OptMl
from boostbox.serving import server
from boostbox.serving.multimodel.app import create_multi_model_app
from boostbox.serving.multimodel.cache import (
    MemoryProbe,
    ModelCache,
    available_memory,
    required_memory,
)
from boostbox.serving.multimodel.registry import ModelRegistry
from tests.unit.serving.conftest import serve_main

ROW = "0.5,-1,2,0.25"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ModelRegistry]:
    created = ModelRegistry.create(tmp_path)
    yield created
    created.destroy()


def make_app(registry: ModelRegistry, memory: MemoryProbe = lambda: None, **config: Any) -> Flask:
    return create_multi_model_app(registry, ServingConfig(**config), memory=memory)


@pytest.fixture
def worker(registry: ModelRegistry) -> FlaskClient:
    return make_app(registry).test_client()


def load(client: FlaskClient, name: str, url: Path | str) -> Any:
    return client.post("/models", json={"model_name": name, "url": str(url)})


def predict(client: FlaskClient, name: str, body: str = ROW, **headers: str) -> Any:
    return client.post(
        f"/models/{name}/invoke", data=body, headers={"Content-Type": "text/csv", **headers}
    )


def test_ping_is_200_without_any_model(worker: FlaskClient) -> None:
    assert worker.get("/ping").status_code == 200
    assert worker.get("/models").get_json() == {"models": []}


def test_load_get_invoke_unload(worker: FlaskClient, model_dirs: dict[str, Path]) -> None:
    loaded = load(worker, "reg", model_dirs["regression"])
    assert loaded.status_code == 200
    assert loaded.get_json() == {"status": "Workers scaled"}
    described = worker.get("/models/reg")
    assert described.get_json() == {"modelName": "reg", "modelUrl": str(model_dirs["regression"])}
    answer = predict(worker, "reg", **{"X-Amzn-SageMaker-Target-Model": "a/reg.tar.gz"})
    assert answer.status_code == 200
    float(answer.data.decode())
    unloaded = worker.delete("/models/reg")
    assert unloaded.status_code == 200
    assert unloaded.get_json() == {"status": 'Model "reg" unregistered'}
    gone = predict(worker, "reg")
    assert gone.status_code == 404
    assert gone.get_json() == {"error": "Model not found: reg"}
    assert worker.get("/models/reg").status_code == 404
    assert worker.delete("/models/reg").status_code == 404


def test_loading_twice_is_409(worker: FlaskClient, model_dirs: dict[str, Path]) -> None:
    assert load(worker, "m", model_dirs["binary"]).status_code == 200
    again = load(worker, "m", model_dirs["regression"])
    assert again.status_code == 409
    assert again.get_json() == {"error": "Model m is already registered."}
    assert worker.get("/models/m").get_json()["modelUrl"] == str(model_dirs["binary"])


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"model_name": "m", "url": "/nowhere/m/model"}, 404, "does not exist"),
        ({"model_name": "m"}, 400, '"url"'),
        ({"model_name": "", "url": "/x"}, 400, '"model_name"'),
        (["m", "/x"], 400, "JSON object"),
    ],
)
def test_bad_load_requests(worker: FlaskClient, body: Any, status: int, words: str) -> None:
    answer = worker.post("/models", json=body)
    assert answer.status_code == status
    assert words in answer.get_json()["error"]
    assert worker.get("/models").get_json() == {"models": []}


def test_a_url_without_a_loadable_model_is_400_and_not_registered(
    worker: FlaskClient, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    answer = load(worker, "m", empty)
    assert answer.status_code == 400
    assert MODEL_FILE in answer.get_json()["error"]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / MODEL_FILE).write_bytes(b"\x80\x04not a model")
    answer = load(worker, "m", broken)
    assert answer.status_code == 400
    assert "BOOSTBOX_ALLOW_PICKLE" in answer.get_json()["error"]
    assert worker.get("/models/m").status_code == 404


def test_not_enough_memory_is_507(registry: ModelRegistry, model_dirs: dict[str, Path]) -> None:
    size = (model_dirs["binary"] / MODEL_FILE).stat().st_size
    needed = required_memory(size, workers=2)
    short = make_app(registry, memory=lambda: needed - 1, workers=2).test_client()
    answer = load(short, "m", model_dirs["binary"])
    assert answer.status_code == 507
    assert "Not enough memory to load model m" in answer.get_json()["error"]
    assert short.get("/models").get_json() == {"models": []}
    enough = make_app(registry, memory=lambda: needed, workers=2).test_client()
    assert load(enough, "m", model_dirs["binary"]).status_code == 200


def test_available_memory_is_the_smaller_of_machine_and_cgroup(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000 kB\nMemAvailable:   2048 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert available_memory(meminfo, cgroup) == 2048 * 1024  # no cgroup files: machine only
    (cgroup / "memory.max").write_text("max\n")
    assert available_memory(meminfo, cgroup) == 2048 * 1024  # no limit
    (cgroup / "memory.max").write_text(f"{MB}\n")
    (cgroup / "memory.current").write_text("700000\n")
    (cgroup / "memory.stat").write_text("anon 1\ninactive_file 200000\n")
    assert available_memory(meminfo, cgroup) == MB - 500000
    assert available_memory(tmp_path / "missing", tmp_path / "missing") is None
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{MB}\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text("600000\n")
    (v1 / "memory" / "memory.stat").write_text("inactive_file 9\ntotal_inactive_file 100000\n")
    assert available_memory(meminfo, v1) == MB - 500000
    assert required_memory(MB, workers=1) > 4 * MB


def test_listing_is_sorted_and_paginated(worker: FlaskClient, model_dirs: dict[str, Path]) -> None:
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    for name in names:
        assert load(worker, name, model_dirs["regression"]).status_code == 200
    seen: list[str] = []
    token = None
    for _ in range(len(names)):
        query = {"max_results": "2", **({"next_page_token": token} if token else {})}
        page = worker.get("/models", query_string=query).get_json()
        assert len(page["models"]) <= 2
        seen += [m["modelName"] for m in page["models"]]
        token = page.get("nextPageToken")
        if token is None:
            break
    assert seen == sorted(names)
    everything = worker.get("/models").get_json()
    assert [m["modelName"] for m in everything["models"]] == sorted(names)
    assert "nextPageToken" not in everything


@pytest.mark.parametrize("query", [{"max_results": "0"}, {"next_page_token": "%%%"}])
def test_bad_listing_parameters_are_400(worker: FlaskClient, query: dict[str, str]) -> None:
    assert worker.get("/models", query_string=query).status_code == 400


def test_two_workers_share_the_registry(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    first, second = make_app(registry).test_client(), make_app(registry).test_client()
    assert load(first, "bin", model_dirs["binary"]).status_code == 200
    assert load(second, "reg", model_dirs["regression"]).status_code == 200
    assert load(second, "bin", model_dirs["binary"]).status_code == 409
    for client in (first, second):
        for name in ("bin", "reg"):
            assert predict(client, name).status_code == 200
        listed = client.get("/models").get_json()["models"]
        assert [m["modelName"] for m in listed] == ["bin", "reg"]
    assert second.delete("/models/bin").status_code == 200
    for client in (first, second):
        assert predict(client, "bin").status_code == 404
        assert predict(client, "reg").status_code == 200
    assert first.delete("/models/bin").status_code == 404


def test_a_model_loaded_anew_replaces_every_workers_copy(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    first, second = make_app(registry).test_client(), make_app(registry).test_client()
    assert load(first, "m", model_dirs["regression"]).status_code == 200
    regression = predict(second, "m").data
    assert second.delete("/models/m").status_code == 200
    assert load(second, "m", model_dirs["binary"]).status_code == 200
    binary = predict(first, "m").data
    assert binary != regression
    assert 0 <= float(binary) <= 1


def test_an_unload_releases_every_workers_copy(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    apps = [make_app(registry), make_app(registry)]
    first, second = (app.test_client() for app in apps)
    assert load(first, "m", model_dirs["binary"]).status_code == 200
    assert predict(second, "m").status_code == 200
    caches: list[ModelCache] = [app.extensions["boostbox.model_cache"] for app in apps]
    assert [len(c) for c in caches] == [1, 1]
    assert first.delete("/models/m").status_code == 200
    assert second.get("/ping").status_code == 200  # any request: the worker looks first
    assert [len(c) for c in caches] == [0, 0]


def test_each_worker_keeps_at_most_its_cache_size(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    app = make_app(registry, max_models_per_worker=2)
    client = app.test_client()
    for name in ("a", "b", "c"):
        assert load(client, name, model_dirs["regression"]).status_code == 200
    cache: ModelCache = app.extensions["boostbox.model_cache"]
    assert len(cache) == 2
    assert predict(client, "a").status_code == 200  # evicted, loaded again on demand
    assert len(cache) == 2


def test_invoke_runs_the_whole_invocation_pipeline(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    client = make_app(
        registry, inference_output=("predicted_label", "probability"), batch=True
    ).test_client()
    assert load(client, "bin", model_dirs["binary"]).status_code == 200
    answer = predict(client, "bin", f"{ROW}\n{ROW}\n", Accept="application/jsonlines")
    assert answer.status_code == 200
    lines = answer.data.decode().splitlines()
    assert len(lines) == 2
    assert set(json.loads(lines[0])) == {"predicted_label", "probability"}
    leaf = predict(client, "bin", **{"X-Amzn-SageMaker-Custom-Attributes": "output=leaf"})
    assert leaf.status_code == 200
    assert predict(client, "bin", "1,2").status_code == 400
    assert predict(client, "bin", Accept="image/png").status_code == 406
    assert predict(client, "bin", ROW, **{"Content-Type": "image/png"}).status_code == 415
    assert predict(client, "bin", "").status_code == 204
    assert predict(client, "missing", "").status_code == 404


def test_invoke_honours_the_payload_limit(
    registry: ModelRegistry, model_dirs: dict[str, Path]
) -> None:
    client = make_app(registry, max_payload_bytes=MB).test_client()
    assert load(client, "bin", model_dirs["binary"]).status_code == 200
    assert predict(client, "bin", "1" * (MB + 1)).status_code == 413


def test_server_creates_and_removes_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Path] = []

    def run(self: server.Server) -> None:
        assert self.registry is not None and self.registry.root.is_dir()
        assert self.load().test_client().get("/ping").status_code == 200
        seen.append(self.registry.root)

    monkeypatch.setattr(server.Server, "run", run)
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "SAGEMAKER_MULTI_MODEL": "true"}
    assert serve_main(environ) == 0  # no /opt/ml/model at all
    assert len(seen) == 1 and not seen[0].exists()
    assert "multi-model" in caplog.text


def test_only_the_creating_process_removes_the_registry(registry: ModelRegistry) -> None:
    forked = ModelRegistry(registry.root, owner_pid=os.getppid())  # created by another process
    forked.destroy()
    assert registry.root.is_dir()


def test_max_models_per_worker_from_the_environment() -> None:
    config = ServingConfig.from_environ({"BOOSTBOX_MME_MAX_MODELS": "3"})
    assert config.max_models_per_worker == 3
    assert ServingConfig(paths=OptMl(Path("/x"))).max_models_per_worker == 16
