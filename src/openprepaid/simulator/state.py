"""Durable simulator state: one JSON file, written atomically.

The file holds a format version and whatever the runner puts in it (every meter's
``snapshot()``, keyed by gateway and address, and the simulated time). Writing goes to a
temporary file in the same folder, is flushed to disk, then renamed over the old file, so a
crash or an error half-way leaves the previous state intact. Reading a file that is not a state
file of a known version raises :class:`StateFileError` naming the file: the runner refuses to
start on it rather than silently starting every meter afresh.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = "openprepaid-simulator-state"
VERSION = 1


class StateFileError(ValueError):
    """A state file that cannot be read or written; the message names the file and why."""


def save_state(path: Path | str, data: dict[str, Any]) -> None:
    """Write ``data`` (JSON-ready) to ``path`` atomically, with the format and version fields."""
    path = Path(path)
    document = {"format": FORMAT, "version": VERSION, **data}
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise StateFileError(f"simulator state for {path} is not JSON-ready: {exc}") from None
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def load_state(path: Path | str) -> dict[str, Any]:
    """The state saved in ``path`` (without the format fields); :class:`StateFileError` if the
    file is unreadable, not JSON, not a simulator state file or of an unknown version.
    A missing file raises ``FileNotFoundError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"simulator state file {path} cannot be read: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(
            f"simulator state file {path} is corrupt (not JSON: {exc.msg} at line {exc.lineno});"
            " move it away to start the meters afresh"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileError(f"{path} is not a simulator state file")
    version = document.get("version")
    if version != VERSION:
        raise StateFileError(
            f"simulator state file {path} has format version {version!r};"
            f" this simulator reads version {VERSION}"
        )
    document.pop("format")
    document.pop("version")
    return document


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
