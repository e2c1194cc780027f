"""Multi-model churn: several clients load, invoke and unload their own models in loops."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.support import booted_worker_pids, serving_container, worker_pids
from tests.unit.serving.conftest import save, train

pytestmark = pytest.mark.container

CLIENTS, CYCLES = 3, 8


def record(
    lock: threading.Lock, outcomes: Counter[str], step: str, answer: requests.Response
) -> None:
    with lock:
        outcomes[f"{step} {answer.status_code}"] += 1


def test_load_invoke_unload_churn(image: str, tmp_path: Path) -> None:
    model = save(train("binary:logistic"), tmp_path / "model")
    model.chmod(0o755)
    env = {"MODEL_SERVER_WORKERS": "2", "SAGEMAKER_MULTI_MODEL": "true"}
    args = ["-v", f"{model}:/opt/ml/models/m/model:ro"]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    with serving_container(None, env=env, extra_args=args) as (url, container):
        before = booted_worker_pids(container, 2)

        def churn(n: int) -> None:
            session = requests.Session()
            for cycle in range(CYCLES):
                name = f"c{n}-{cycle}"
                body = {"model_name": name, "url": "/opt/ml/models/m/model"}
                record(lock, outcomes, "load", session.post(f"{url}/models", json=body, timeout=60))
                for _ in range(5):
                    answer = session.post(
                        f"{url}/models/{name}/invoke", data=b"1,2,3,4\n",
                        headers={"Content-Type": "text/csv"}, timeout=60,
                    )  # fmt: skip
                    record(lock, outcomes, "invoke", answer)
                record(lock, outcomes, "unload", session.delete(f"{url}/models/{name}", timeout=60))

        threads = [threading.Thread(target=churn, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert worker_pids(container) == before
        assert requests.get(f"{url}/models", timeout=10).json() == {"models": []}
    print(f"\nMME churn: {dict(outcomes)}")
    assert set(outcomes) == {"load 200", "invoke 200", "unload 200"}, outcomes
    assert sum(outcomes.values()) == CLIENTS * CYCLES * 7
