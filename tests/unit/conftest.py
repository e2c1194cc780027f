"""Fixtures the unit suites share."""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import pytest

from boostbox.formats import libsvmnative

C_FLAGS = ["-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror"]
"""As the Makefile and the Dockerfile build it, plus -Werror: a warning fails the test."""


@pytest.fixture(scope="session")
def native_libsvm(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The compiled libsvm reader built from the current source (so a stale build in the
    tree cannot hide a change); the built one when there is no compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    source = libsvmnative.LIBRARY.with_name("libsvmreader.c")
    if compiler is None:
        if not libsvmnative.LIBRARY.is_file():
            pytest.skip("no C compiler and no built reader (make venv builds it)")
        built = libsvmnative.LIBRARY
    else:
        built = tmp_path_factory.mktemp("native") / "libsvmreader.so"
        subprocess.run([compiler, *C_FLAGS, "-o", str(built), str(source)], check=True)
    library = libsvmnative.load.__wrapped__(built)
    assert library is not None
    return library
