"""A PNG of baseline vs live distributions for the most drifted columns (needs matplotlib).

matplotlib is not in the image (about 40 MB with its dependencies for one picture): the
offline report runs where it is installed (`pip install boostbox[plot]`, the host venv) and
without it writes the JSON files and says the plot was skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from boostbox.monitoring.baseline import ColumnReference, Reference
from boostbox.monitoring.recorder import Layout


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def most_drifted(report: dict[str, Any], top: int) -> list[str]:
    """Names of the `top` columns with the largest L-infinity distance (alarms first)."""
    drift = report["drift"]
    columns = [c for c in drift["features"] + drift["predictions"] if c["linf_simple"] is not None]
    columns.sort(key=lambda c: (not c["drift"], -c["linf_simple"]))
    return [c["name"] for c in columns[:top]]


def _bin_bounds(column: ColumnReference) -> np.ndarray:
    """Drawable bin bounds: the open outer bins get their neighbour's width (or 1)."""
    edges = column.edges
    if len(edges) == 0:
        return np.array([-0.5, 0.5])
    pad = float(edges[1] - edges[0]) if len(edges) > 1 else 1.0
    last = float(edges[-1] - edges[-2]) if len(edges) > 1 else 1.0
    return np.concatenate(([edges[0] - pad], edges, [edges[-1] + last]))


def save(
    reference: Reference, total: np.ndarray, report: dict[str, Any], path: Path, top: int = 6
) -> Path:
    """Step plots of bin densities, baseline vs live, for the most drifted columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layout = Layout.of(reference)
    names = most_drifted(report, top)
    entries = {c["name"]: c for c in report["drift"]["features"] + report["drift"]["predictions"]}
    index = {c.name: i for i, c in enumerate(reference.columns)}
    cols = min(3, max(1, len(names)))
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        column = reference.columns[index[name]]
        bounds = _bin_bounds(column)
        widths = np.diff(bounds)
        live = layout.column_counts(total, index[name], column)
        for counts, label in ((column.counts, "baseline"), (live, "live")):
            share = counts / max(1, counts.sum())
            ax.stairs(share / widths, bounds, label=label, fill=label == "baseline", alpha=0.6)
        entry = entries[name]
        flag = "  DRIFT" if entry["drift"] else ""
        ax.set_title(
            f"{name}: L-inf {entry['linf_simple']:.3f}, PSI {entry['psi']:.2f}{flag}", fontsize=9
        )
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.suptitle(
        f"Baseline vs live, {report['drift']['rows']} rows "
        f"(threshold {report['drift']['threshold']:g}, {report['drift']['method']})",
        fontsize=10,
    )
    fig.text(
        0.5,
        0.005,
        "Bars: share per baseline bin / bin width (20 quantile bins of the training data); "
        "the two outer bins are open-ended, drawn one bin wide.",
        ha="center",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
