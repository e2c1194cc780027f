"""Runs a user's Python training script in the child process `train` starts in script mode.

    python -m boostbox.training.launch ERROR_FILE SCRIPT [ARGS...]

The script runs as `__main__` with `sys.argv = [SCRIPT, *ARGS]` and its folder first on
sys.path, as `python SCRIPT ARGS` would. If it raises, the traceback goes to stderr as
usual and one line naming the exception goes to ERROR_FILE, which `train` turns into
output/failure. `sys.exit(n)` keeps its status.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

USAGE_EXIT = 64


def describe(error: BaseException) -> str:
    """`TypeName: first line of the message` (the message may be empty)."""
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text.splitlines()[0]}" if text else name


def _record(error_file: Path, line: str) -> None:
    try:
        error_file.write_text(line + "\n", encoding="utf-8")
    except OSError as e:
        sys.stderr.write(f"boostbox: cannot write {error_file}: {e}\n")


def run(error_file: Path, script: Path, args: list[str]) -> int:
    """Run `script`; its exit status (1 when it raised)."""
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:
        if e.code is None or e.code == 0:
            return 0
        if isinstance(e.code, int):
            _record(error_file, f"{script.name} exited with status {e.code}")
            return e.code
        _record(error_file, f"{script.name} exited: {e.code}")
        return 1
    except BaseException as e:
        traceback.print_exc()
        _record(error_file, f"{script.name} raised {describe(e)}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        sys.stderr.write("usage: python -m boostbox.training.launch ERROR_FILE SCRIPT [ARGS...]\n")
        return USAGE_EXIT
    return run(Path(args[0]), Path(args[1]), args[2:])


if __name__ == "__main__":
    sys.exit(main())
