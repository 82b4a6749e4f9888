"""A JSON-able description of any frame, for ``openprepaid decode`` and for logs.

:func:`describe` takes the bytes of one frame, DL/T 645-2007 (with any FE preamble) or
Modbus-RTU (described by :mod:`openprepaid.protocol.modbus.describe`), and returns a dict of
JSON types only. For DL/T 645: ``protocol``, ``address`` (as printed on the meter), ``control``
(``"0x91"``), ``function``, ``direction``, ``abnormal``, and what the frame carries: ``di``
(DI3 first), ``name``, ``value`` (a decimal string) or ``values`` (``null`` for an item the meter
does not support), ``unit``, decoded dates, times and status-word ``flags``, ``error`` flags of
abnormal replies. Passwords are never shown, only their level.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Flag
from typing import Any

from openprepaid.protocol.dlt645 import (
    AbnormalReply,
    BroadcastTimeRequest,
    ChangeBaudReply,
    ChangeBaudRequest,
    ChangePasswordReply,
    ChangePasswordRequest,
    CipheredControlRequest,
    ClearDemandRequest,
    ClearEventsRequest,
    ClearMeterRequest,
    ControlRequest,
    Frame,
    FreezeRequest,
    MultiFunctionOutputReply,
    MultiFunctionOutputRequest,
    Password,
    ReadAddressReply,
    ReadFollowUpReply,
    ReadFollowUpRequest,
    ReadReply,
    ReadRequest,
    SecurityAbnormalReply,
    SecurityReply,
    SecurityRequest,
    WriteAddressRequest,
    WriteRequest,
    decode_frame,
    lookup,
    parse_reply,
    parse_request,
)
from openprepaid.protocol.dlt645.codes import flag_names
from openprepaid.protocol.dlt645.formats import MeterDate, Timestamp
from openprepaid.protocol.errors import ProtocolError, RemoteProtocolError
from openprepaid.protocol.modbus.describe import describe as describe_modbus
from openprepaid.protocol.modbus.describe import detect_and_decode

JSON = dict[str, Any]


def describe(data: bytes) -> JSON:
    """Describe one frame, DL/T 645-2007 or Modbus-RTU; ``RemoteProtocolError`` says why
    ``data`` is neither."""
    problems = []
    if data.lstrip(b"\xfe")[:1] == b"\x68":
        try:
            return describe_dlt645(decode_frame(data))
        except RemoteProtocolError as exc:
            problems.append(f"as DL/T 645: {exc}")
    try:
        frame, _direction = detect_and_decode(data)
    except RemoteProtocolError as exc:
        problems.append(str(exc))
        raise RemoteProtocolError("; ".join(problems)) from None
    return describe_modbus(frame)


def describe_dlt645(frame: Frame) -> JSON:
    function = frame.function
    result: JSON = {
        "protocol": "dlt645",
        "address": frame.address,
        "control": f"0x{frame.control:02X}",
        "function": function.label if function else "unknown",
        "direction": "response" if frame.is_response else "request",
        "abnormal": frame.abnormal,
    }
    if frame.follow_up:
        result["follow_up"] = True
    try:
        message = parse_reply(frame) if frame.is_response else parse_request(frame)
    except ProtocolError as exc:
        result["data"] = frame.data.hex().upper()
        result["problem"] = str(exc)
        return result
    result.update(_message_fields(message))
    return result


def _message_fields(message: Any) -> JSON:
    match message:
        case ReadRequest(di=di, count=count, since=since):
            fields = _identifier(di)
            if count is not None:
                fields["count"] = count
            if since is not None:
                fields["since"] = f"{since:%Y-%m-%d %H:%M}"
            return fields
        case ReadFollowUpRequest(di=di, seq=seq):
            return {**_identifier(di), "seq": seq}
        case ReadReply(di=di, data=data):
            return {**_identifier(di), **_value(di, data)}
        case ReadFollowUpReply(di=di, data=data, seq=seq):
            return {**_identifier(di), **_value(di, data), "seq": seq}
        case ReadAddressReply(address=address):
            return {"data_address": address}
        case WriteRequest(di=di, value=value, password=password, operator=operator):
            return {
                **_identifier(di),
                **_authority(password, operator),
                **_value(di, value),
            }
        case WriteAddressRequest(new_address=new_address):
            return {"data_address": new_address}
        case BroadcastTimeRequest(time=time):
            return {"datetime": f"{time:%Y-%m-%d %H:%M:%S}"}
        case FreezeRequest(month=month, day=day, hour=hour, minute=minute):
            return {"freeze": {"month": month, "day": day, "hour": hour, "minute": minute}}
        case ChangeBaudRequest(baud=baud) | ChangeBaudReply(baud=baud):
            return {"feature": f"0x{baud:02X}", "baud": baud.bps}
        case ChangePasswordRequest(old=old, new=new):
            return {"di": f"{message.di:08X}", "old_level": _level(old), "new_level": _level(new)}
        case ChangePasswordReply(password=password):
            return {"password_level": _level(password)}
        case ClearEventsRequest(di=di, password=password, operator=operator):
            return {"di": f"{di:08X}", **_authority(password, operator)}
        case ControlRequest():
            return {
                **_authority(message.password, message.operator),
                "command": message.command.label,
                "N1": f"{message.command:02X}",
                "N2": f"{message.reserved:02X}",
                "valid_until": f"{message.valid_until:%Y-%m-%d %H:%M:%S}",
            }
        case CipheredControlRequest():
            return {
                **_authority(message.password, message.operator),
                "ciphertext": message.ciphertext.hex().upper(),
            }
        case MultiFunctionOutputRequest(output=output) | MultiFunctionOutputReply(output=output):
            return {"output": output}
        case SecurityRequest(di=di, data=data, operator=operator):
            return {"di": f"{di:08X}", "operator": operator, "payload": data.hex().upper()}
        case SecurityReply(di=di, data=data):
            return {"di": f"{di:08X}", "payload": data.hex().upper()}
        case AbnormalReply(error=error) | SecurityAbnormalReply(error=error):
            width = 2 if isinstance(message, AbnormalReply) else 4
            key = "err" if width == 2 else "serr"
            return {key: f"0x{error.value:0{width}X}", "error": flag_names(error)}
        case ClearDemandRequest(password=password, operator=operator):
            return _authority(password, operator)
        case ClearMeterRequest(password=password, operator=operator):
            return _authority(password, operator)
    return {}  # Ack, ReadAddressRequest: nothing beyond the header


def _level(password: Password) -> str:
    return f"{password.level:02X}"


def _authority(password: Password, operator: str) -> JSON:
    return {"password_level": _level(password), "operator": operator}


def _identifier(di: int) -> JSON:
    ident = lookup(di)
    fields: JSON = {"di": ident.code, "name": ident.name}
    if ident.unit:
        fields["unit"] = ident.unit
    return fields


def _value(di: int, data: bytes) -> JSON:
    ident = lookup(di)
    if not data:
        return {}
    fields: JSON = {"data": data.hex().upper()}
    try:
        value = ident.decode(data)
    except ProtocolError as exc:
        fields["problem"] = str(exc)
        return fields
    if isinstance(value, tuple):
        fields["values"] = [_scalar(item) for item in value]
    elif isinstance(value, MeterDate):
        fields.update(date=value.date.isoformat(), weekday=value.weekday)
    elif isinstance(value, dt.datetime):
        pattern = "%Y-%m-%d %H:%M:%S" if _with_seconds(ident.format) else "%Y-%m-%d %H:%M"
        fields["datetime"] = value.strftime(pattern)
    elif isinstance(value, dt.time):
        fields["time"] = value.isoformat()
    elif isinstance(value, Flag):
        fields.update(value=f"0x{value.value:04X}", flags=flag_names(value))
    elif isinstance(value, dict):
        fields["fields"] = {name: _scalar(item) for name, item in value.items()}
    elif isinstance(value, int):
        fields["value"] = str(value)
    elif not isinstance(value, bytes):
        fields["value"] = _scalar(value)
    return fields


def _with_seconds(fmt: Any) -> bool:
    return isinstance(fmt, Timestamp) and fmt.size == 6


def _scalar(value: Any) -> Any:
    """One value as JSON: decimals as strings, ``None`` (not supported) as null."""
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, MeterDate):
        return {"date": value.date.isoformat(), "weekday": value.weekday}
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, Flag):
        return {"value": f"0x{value.value:04X}", "flags": flag_names(value)}
    if isinstance(value, dict):
        return {name: _scalar(item) for name, item in value.items()}
    if isinstance(value, tuple):
        return [_scalar(item) for item in value]
    if isinstance(value, bytes):
        return value.hex().upper()
    return str(value)
