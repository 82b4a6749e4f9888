"""``openprepaid headend --status``: the installation's health, and whether a headend runs."""

from __future__ import annotations

import json
import os
import time

import pytest

from openprepaid.cli import main
from openprepaid.headend.service import write_json_atomic


@pytest.mark.django_db
def test_status_without_a_running_headend_says_so(tmp_path, capsys):
    status = tmp_path / "headend-status.json"
    assert main(["headend", "--status", "--status-file", str(status)]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["headend"] is None
    assert report["health"]["gateways"] == {"total": 0, "connected": 0}
    assert "no running headend" in err


@pytest.mark.django_db
def test_status_of_a_running_headend_and_of_a_stale_file(tmp_path, capsys):
    status = tmp_path / "headend-status.json"
    write_json_atomic(status, {"uptime_seconds": 12.0, "gateways": []})
    assert main(["headend", "--status", "--status-file", str(status)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["headend"]["running"] is True
    assert report["headend"]["uptime_seconds"] == 12.0
    stale = time.time() - 600
    os.utime(status, (stale, stale))
    assert main(["headend", "--status", "--status-file", str(status)]) == 1
    assert json.loads(capsys.readouterr().out)["headend"]["running"] is False


def test_bad_intervals_are_refused(capsys):
    assert main(["headend", "--full-every", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
