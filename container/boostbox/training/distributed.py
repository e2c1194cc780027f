"""Several hosts, one model: XGBoost's own collective (tracker + communicator), nothing home-made.

The first of the sorted hosts runs `RabitTracker` on its routable IPv4 address; every host joins
with `CommunicatorContext` using its index in the sorted list as task id, so ranks are stable.
Every (Quantile)DMatrix must be built INSIDE `communicator(...)`: built before it, each host
sketches its own histogram cuts and training silently yields different trees per host.

A side channel (the "beacon", one TCP listener per host) lets a survivor name the host it lost:
XGBoost's socket errors name no peer. A watchdog probes the beacons during training, so a host
that vanishes without closing its sockets still ends the job within `peer_timeout` seconds
instead of the collective timeout.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker

from boostbox.errors import AlgorithmError, UserError
from boostbox.training.peers import Beacon, Watchdog, unreachable

logger = logging.getLogger(__name__)

type Resolver = Callable[[str], str]


class PeerLost(AlgorithmError):
    """Another host stopped answering during distributed training."""

    def __init__(self, message: str, lost: Sequence[str]) -> None:
        super().__init__(message)
        self.lost = tuple(lost)


@dataclass(frozen=True)
class Cluster:
    """The hosts of one training job, sorted as SageMaker lists them, and this host."""

    hosts: tuple[str, ...]
    current_host: str

    def __post_init__(self) -> None:
        ordered = tuple(sorted(set(self.hosts)))
        object.__setattr__(self, "hosts", ordered)
        if self.current_host not in ordered:
            raise UserError(
                f"resourceconfig.json: current_host '{self.current_host}' is not one of "
                f"hosts {list(ordered)}."
            )

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)

    @property
    def leader(self) -> str:
        return self.hosts[0]

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    @property
    def peers(self) -> tuple[str, ...]:
        return tuple(h for h in self.hosts if h != self.current_host)


@dataclass(frozen=True)
class Settings:
    """Ports and time limits of the collective (config.py fills them from the environment)."""

    tracker_port: int = 9099
    beacon_port: int = 9098
    timeout: int = 1800
    """dmlc_timeout: XGBoost applies it to EVERY collective operation, so keep it generous."""
    connect_deadline: float = 900.0
    """Seconds to keep retrying DNS and the first connection while hosts come up."""
    peer_timeout: float = 60.0
    """A peer whose beacon stays unreachable this long ends the job (watchdog)."""
    probe_interval: float = 5.0
    resolver: Resolver = field(default=socket.gethostbyname)

    def beacon_address(self, host: str) -> tuple[str, int]:
        """Each host's beacon listens on its own resolved address (one port for all)."""
        return self.resolver(host), self.beacon_port


def resolve(host: str, settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> str:
    """The IPv4 address of `host`, retrying while DNS catches up (names appear late)."""
    deadline = time.monotonic() + settings.connect_deadline
    delay = 0.5
    while True:
        try:
            return settings.resolver(host)
        except OSError as e:
            if time.monotonic() + delay > deadline:
                raise AlgorithmError(
                    f"Host '{host}' did not resolve within {settings.connect_deadline:g}s: {e}"
                ) from e
            logger.info("Waiting for host '%s' to resolve (%s).", host, e)
        sleep(delay)
        delay = min(delay * 2, 30.0)


def replicated_share(rows: int, cluster: Cluster) -> np.ndarray:
    """Row indices this host trains on when every host holds the same (FullyReplicated) data.

    Every `size`-th row from `rank`: deterministic, disjoint, and together exactly the data set
    once, so rows are not counted `size` times (which would also change the meaning of
    min_child_weight and lambda). Striding, not blocks, keeps sorted files balanced.
    """
    return np.arange(cluster.rank, rows, cluster.size, dtype=np.int64)


def check_params(params: Mapping[str, Any], cluster: Cluster) -> None:
    """Parameters XGBoost refuses only deep inside distributed training."""
    if cluster.size > 1 and params.get("tree_method") == "exact":
        raise UserError(
            f"Hyperparameter 'tree_method' has value 'exact', which XGBoost cannot train on "
            f"{cluster.size} hosts; use 'hist' (the default) or 'approx'."
        )


# --- the communicator ------------------------------------------------------------------


type Connector = Callable[[tuple[str, int], float], socket.socket]


def wait_for_leader(
    cluster: Cluster,
    settings: Settings,
    *,
    connect: Connector = socket.create_connection,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the first host's beacon accepts connections (polled every 50 ms).

    The first host opens its beacon only after its tracker listens. Without this wait a host
    that started a moment before the tracker fell into XGBoost's own connect retry, which
    backs off 2 s, then 4 s: about 6 s lost at every job start.
    """
    address = settings.beacon_address(cluster.leader)
    deadline = time.monotonic() + settings.connect_deadline
    while True:
        try:
            connect(address, 1.0).close()
            return
        except OSError as e:
            if time.monotonic() > deadline:
                raise AlgorithmError(
                    f"The first host {cluster.leader} ({address[0]}:{address[1]}) did not start "
                    f"the training group within {settings.connect_deadline:g}s: {e}"
                ) from e
        sleep(0.05)


def _enter(args: Mapping[str, Any], settings: Settings) -> collective.CommunicatorContext:
    """Join the group; a new context per attempt (init does not retry a refused tracker)."""
    deadline = time.monotonic() + settings.connect_deadline
    attempt = 0
    while True:
        attempt += 1
        context = collective.CommunicatorContext(**args)
        try:
            context.__enter__()
        except xgb.core.XGBoostError as e:
            if time.monotonic() > deadline:
                raise AlgorithmError(
                    f"Could not join the training group at {args['dmlc_tracker_uri']}:"
                    f"{args['dmlc_tracker_port']} within {settings.connect_deadline:g}s: "
                    f"{first_line(e)}"
                ) from e
            logger.info("Joining the training group failed (attempt %d); retrying.", attempt)
            time.sleep(min(5.0, 0.5 * attempt))
            continue
        return context


def first_line(error: BaseException) -> str:
    """The innermost reasons in XGBoost's multi-line collective errors (cause chain followed)."""
    seen: BaseException | None = error
    while seen is not None and not isinstance(seen, xgb.core.XGBoostError):
        seen = seen.__cause__
    chosen = seen if seen is not None else error
    reasons = []
    for line in str(chosen).splitlines():
        text = re.sub(r"^[-\s]*\[[^\]]*\]:?\s*", "", line.strip()).strip()
        if text and not line.strip().startswith("[bt]") and "Stack trace" not in text:
            reasons.append(text)
    return "; ".join(reasons[-3:]) if reasons else type(chosen).__name__


def _xgboost_cause(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, xgb.core.XGBoostError):
            return True
        seen = seen.__cause__
    return False


def lost_peers(cluster: Cluster, settings: Settings, error: BaseException) -> list[str]:
    """After a failure in the body: the peers that are gone (polled a few times for XGBoost's
    errors, since a killed host's name and port take a moment to disappear)."""
    tries = 4 if _xgboost_cause(error) else 1
    for attempt in range(tries):
        lost = unreachable(cluster.peers, settings.beacon_address)
        if lost:
            return lost
        if attempt + 1 < tries:
            time.sleep(1.0)
    return []


def peer_lost(cluster: Cluster, lost: Sequence[str], cause: BaseException | str) -> PeerLost:
    """The error a survivor reports, naming the hosts it lost."""
    why = cause if isinstance(cause, str) else first_line(cause)
    return PeerLost(
        f"Distributed training on {cluster.size} hosts failed on {cluster.current_host}: "
        f"lost contact with host(s) {', '.join(lost)} ({why}).",
        lost,
    )


@contextlib.contextmanager
def communicator(
    cluster: Cluster,
    settings: Settings,
    on_lost: Callable[[PeerLost], None] | None = None,
) -> Iterator[None]:
    """Join the cluster's collective for the body; one host: nothing to do.

    A failure inside the body while a peer is gone becomes PeerLost naming it. `on_lost` runs
    on the watchdog's thread when a peer stays silent for `peer_timeout` seconds; it must end
    the process (XGBoost may be blocked in a socket poll that nothing else interrupts).
    """
    if cluster.size == 1:
        yield
        return
    leader_ip = resolve(cluster.leader, settings)
    beacon = None
    tracker = None
    watchdog = None
    try:
        if cluster.is_leader:
            tracker = RabitTracker(
                n_workers=cluster.size,
                host_ip=leader_ip,
                port=settings.tracker_port,
                sortby="task",
                timeout=int(settings.connect_deadline),
            )
            tracker.start()
            logger.info(
                "Tracker for %d hosts on %s:%d.", cluster.size, leader_ip, settings.tracker_port
            )
        beacon = Beacon(settings.beacon_address(cluster.current_host))
        if not cluster.is_leader:
            wait_for_leader(cluster, settings)
        args = {
            "dmlc_communicator": "rabit",
            "dmlc_tracker_uri": leader_ip,
            "dmlc_tracker_port": settings.tracker_port,
            "dmlc_task_id": str(cluster.rank),
            "dmlc_timeout": settings.timeout,
        }
        context = _enter(args, settings)
        logger.info(
            "Joined the training group as rank %d of %d (%s).",
            collective.get_rank(),
            collective.get_world_size(),
            cluster.current_host,
        )
        if on_lost is not None:
            watchdog = Watchdog(
                cluster.peers,
                settings.beacon_address,
                lambda hosts: on_lost(peer_lost(cluster, hosts, "no answer from its beacon")),
                peer_timeout=settings.peer_timeout,
                interval=settings.probe_interval,
            ).start()
        try:
            yield
        except Exception as e:
            lost = lost_peers(cluster, settings, e)
            if lost:
                raise peer_lost(cluster, lost, e) from e
            raise
        finally:
            if watchdog is not None:
                watchdog.stop()
        context.__exit__(None, None, None)
        if tracker is not None:
            tracker.wait_for(timeout=int(settings.connect_deadline))
            tracker.free()
    finally:
        if beacon is not None:
            beacon.close()
