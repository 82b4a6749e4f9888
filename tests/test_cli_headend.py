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


@pytest.fixture
def two_meters(site):
    from openprepaid.domain.sites import services as site_services

    gateway = site_services.create_gateway(
        acting_user=None, site=site, name="GW-1", transport="transparent_tcp", host="h", port=1
    )
    floor = site_services.ensure_floor(
        acting_user=None, site=site, building_name="A座", floor_name="1F"
    )
    meters = []
    for n in (1, 2):
        unit = site_services.create_unit(acting_user=None, floor=floor, code=f"U{n}", kind="shop")
        meters.append(
            site_services.create_meter(
                acting_user=None,
                gateway=gateway,
                unit=unit,
                address=f"20261101000{n}",
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
            )
        )
    return meters


@pytest.mark.django_db
def test_command_queues_like_the_console_and_checks_the_operator(
    two_meters, admin, cashier, capsys
):
    from openprepaid.domain.audit.models import SystemLog
    from openprepaid.domain.metering.models import Command

    one, two = two_meters
    assert main(["command", "trip", one.address, "--user", "admin"]) == 0
    printed = json.loads(capsys.readouterr().out)
    command = Command.objects.get()
    assert printed == {"command": command.pk, "meter": one.address, "kind": "trip",
                       "state": "queued"}  # fmt: skip
    assert SystemLog.objects.filter(actor=admin).exists()

    prices = ["--price", "1.2", "--price", "1.0", "--price", "0.7", "--price", "0.4"]
    assert (
        main(["command", "push_prices", one.address, two.address, "--user", "admin", *prices]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    pushed = Command.objects.filter(kind="push_prices").get(meter=two)
    assert pushed.params == {"prices": ["1.2000", "1.0000", "0.7000", "0.4000"]}

    assert main(["command", "trip", one.address, "--user", cashier.username]) == 2
    assert main(["command", "trip", "999999999998", "--user", "admin"]) == 2
    assert "no meter 999999999998" in capsys.readouterr().err
    assert Command.objects.count() == 3  # the refused ones queued nothing
