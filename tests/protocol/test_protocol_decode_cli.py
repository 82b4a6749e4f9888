"""``openprepaid decode HEX… | -``: one JSON object per frame, exit status 2 on bad input."""

from __future__ import annotations

import io
import json

import pytest

from openprepaid.cli import main, parse_hex

REMAINING_AMOUNT = "68 12 00 00 00 10 20 68 91 08 33 35 C3 33 89 CB 34 33 C4 16"
REFUSED = "68 12 00 00 00 10 20 68 D1 01 35 19 16"
MODBUS_READ = "01 03 00 00 00 02 C4 0B"


def run(capsys, *args: str) -> tuple[int, list[dict], str]:
    status = main(["decode", *args])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_a_read_reply(capsys):
    status, [obj], err = run(capsys, REMAINING_AMOUNT)
    assert (status, err) == (0, "")
    assert obj == {
        "protocol": "dlt645",
        "address": "201000000012",
        "control": "0x91",
        "function": "read",
        "direction": "response",
        "abnormal": False,
        "di": "00900200",
        "name": "remaining_amount",
        "unit": "yuan",
        "data": "56980100",
        "value": "198.56",
    }


def test_spaces_are_optional_and_frames_are_one_per_argument(capsys):
    status, objects, _ = run(capsys, REMAINING_AMOUNT.replace(" ", ""), REFUSED)
    assert status == 0
    assert [o["control"] for o in objects] == ["0x91", "0xD1"]
    assert objects[1]["abnormal"] is True
    assert objects[1]["error"] == ["no_request_data"]


def test_status_word_fields(capsys):
    frame = bytes.fromhex("68 12 00 00 00 10 20 68 91 06 36 38 33 37 83 33")
    frame += bytes((sum(frame) & 0xFF, 0x16))
    _, [obj], _ = run(capsys, frame.hex())
    assert obj["name"] == "status_word_3"
    assert obj["value"] == "0x0050"
    assert obj["flags"] == ["relay_open", "relay_trip_commanded"]


def test_modbus_rtu_frames(capsys):
    status, [obj], _ = run(capsys, MODBUS_READ)
    assert status == 0
    assert obj["protocol"] == "modbus-rtu"
    assert obj["address"] == "1"


def test_stdin_lines(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{REMAINING_AMOUNT}\n\n  {REFUSED}  \n"))
    status, objects, _ = run(capsys, "-")
    assert status == 0
    assert len(objects) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("zz", "not hexadecimal"),
        ("68 1", "odd number"),
        ("68 12 00 00 00 10 20 68 D1 01 35 18 16", "checksum"),
        ("00 01 02", "not a Modbus-RTU frame"),
    ],
)
def test_invalid_input_is_reported_with_status_2(capsys, text, message):
    status, objects, err = run(capsys, text, REFUSED)
    assert status == 2
    assert len(objects) == 1  # the good frame is still decoded
    assert message in err
    assert err.startswith("openprepaid decode:")


def test_parse_hex():
    assert parse_hex(" 68\tAA aa \n") == b"\x68\xaa\xaa"
    with pytest.raises(ValueError, match="no hex digits"):
        parse_hex("   ")


def test_a_valid_frame_with_an_unknown_function_is_shown_raw(capsys):
    frame = bytes.fromhex("68 12 00 00 00 10 20 68 1F 01 34")
    frame += bytes((sum(frame) & 0xFF, 0x16))
    status, [obj], _ = run(capsys, frame.hex())
    assert status == 0
    assert obj["function"] == "unknown"
    assert obj["data"] == "01"
    assert "not a known request" in obj["problem"]


def test_passwords_are_not_printed(capsys):
    write = "68 12 00 00 00 10 20 68 14 0F 35 34 33 37 35 45 67 89 33 33 33 33 89 67 45 73 16"
    _, [obj], _ = run(capsys, write)
    assert obj["password_level"] == "02"
    assert obj["time"] == "12:34:56"
    assert "123456" not in json.dumps(obj)
