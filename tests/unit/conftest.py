"""Fixtures the unit suites share."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from boostbox.formats import libsvmnative
from boostbox.serving import treewalknative

C_FLAGS = ["-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror"]
"""As the Makefile and the Dockerfile build it, plus -Werror: a warning fails the test."""
TREE_WALK_FLAGS = [*C_FLAGS, "-ffp-contract=off"]


def compile_library(
    tmp_path_factory: pytest.TempPathFactory,
    source: Path,
    installed: Path,
    loader: Callable[[Path], ctypes.CDLL | None],
    flags: Sequence[str] = C_FLAGS,
) -> ctypes.CDLL:
    """The library built from the current source (so a stale build in the tree cannot hide a
    change), loaded by the module's own `load`; the installed one when there is no compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        if not installed.is_file():
            pytest.skip(f"no C compiler and no built {installed.name} (make venv builds it)")
        built = installed
    else:
        built = tmp_path_factory.mktemp("native") / installed.name
        subprocess.run([compiler, *flags, "-o", str(built), str(source)], check=True)
    library = loader(built)
    assert library is not None
    return library


@pytest.fixture(scope="session")
def native_libsvm(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The compiled libsvm reader."""
    source = libsvmnative.LIBRARY.with_name("libsvmreader.c")
    return compile_library(
        tmp_path_factory, source, libsvmnative.LIBRARY, libsvmnative.load.__wrapped__
    )


@pytest.fixture(scope="session")
def native_treewalk(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The serving fast path's compiled tree walk."""
    source = treewalknative.LIBRARY.with_name("treewalk.c")
    loader = treewalknative.load.__wrapped__
    return compile_library(
        tmp_path_factory, source, treewalknative.LIBRARY, loader, TREE_WALK_FLAGS
    )
