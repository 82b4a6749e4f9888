"""The simulator's state file: atomic JSON with a format version, clear errors when corrupt."""

from __future__ import annotations

import json
import os

import pytest

from openprepaid.simulator.state import FORMAT, VERSION, StateFileError, load_state, save_state


def test_round_trip(tmp_path):
    path = tmp_path / "state.json"
    data = {"sim_time": "2026-03-02T09:00:00", "meters": {"GW001": {"1": {"billing": [1, 2]}}}}
    save_state(path, data)
    assert load_state(path) == data
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == FORMAT
    assert raw["version"] == VERSION


def test_save_creates_the_folder_and_overwrites(tmp_path):
    path = tmp_path / "deeper" / "state.json"
    save_state(path, {"n": 1})
    save_state(path, {"n": 2})
    assert load_state(path) == {"n": 2}
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_state(tmp_path / "none.json")


def test_corrupt_file_names_the_file(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "openprepaid-simulator-state", "vers', encoding="utf-8")
    with pytest.raises(StateFileError, match="corrupt") as error:
        load_state(path)
    assert str(path) in str(error.value)


def test_a_json_file_that_is_not_a_state_file(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(StateFileError, match="not a simulator state file"):
        load_state(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(StateFileError, match="not a simulator state file"):
        load_state(path)


def test_unknown_version_is_refused(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"format": FORMAT, "version": 99}), encoding="utf-8")
    with pytest.raises(StateFileError, match="version 99"):
        load_state(path)


def test_undecodable_bytes_are_a_clear_error(tmp_path):
    path = tmp_path / "state.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(StateFileError, match=r"cannot be read|corrupt"):
        load_state(path)


def test_unserialisable_data_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "state.json"
    save_state(path, {"n": 1})
    before = path.read_bytes()
    with pytest.raises(StateFileError, match="not JSON-ready"):
        save_state(path, {"n": object()})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_failure_while_writing_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    save_state(path, {"n": 1})
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_state(path, {"n": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_state(path) == {"n": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
