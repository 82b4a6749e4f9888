"""The control interface: JSON lines over TCP, and a small synchronous client.

One JSON object per line in each direction. A request names an operation in ``op``:

==========  ==========================================  ==================================
op          fields                                      reply (besides ``"ok": true``)
==========  ==========================================  ==================================
listing                                                 ``listing``: gateways, real ports
inspect     ``meter``, optional ``gateway``             ``meter``: what the meter holds
inject      ``kind``, ``gateway``, ``meter``, params    ``fault``: the fault as applied
clear       optional ``gateway``, ``meter``, ``kind``   ``cleared``: how many were removed
faults                                                  ``faults``: the active faults
save                                                    ``path``: the state file written
now                                                     ``now``: simulated time, ISO 8601
==========  ==========================================  ==================================

Fault parameters (``delay``, ``count``, ``fe``, ``after``, ``seconds_per_day``) are fields of
the ``inject`` request. A request that cannot be carried out gets
``{"ok": false, "error": "…"}`` saying why; the server never stops on bad input. The same
operations are methods of :class:`~openprepaid.simulator.runner.Simulator`, which this module
serves through the :class:`ControlTarget` protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from typing import Any, Protocol

log = logging.getLogger(__name__)

LINE_LIMIT = 1 << 20  # one request line: far more than any real request
DEFAULT_CONTROL_PORT = 9700


class ControlTarget(Protocol):
    """What the control server drives (the :class:`Simulator`)."""

    def listing(self) -> dict: ...

    def inspect(self, address: str, gateway: str | None = None) -> dict: ...

    def inject(
        self, kind: str, *, gateway: str | None = None, meter: str | None = None, **params: Any
    ) -> dict: ...

    def clear_faults(
        self, gateway: str | None = None, meter: str | None = None, kind: str | None = None
    ) -> int: ...

    def faults(self) -> list[dict]: ...

    def save(self) -> str | None: ...

    def now_text(self) -> str: ...


class RequestError(ValueError):
    """A control request that is malformed (not the target's own refusal)."""


def _text_field(request: dict, name: str, *, required: bool = False) -> str | None:
    value = request.get(name)
    if value is None:
        if required:
            raise RequestError(f"{request.get('op')} needs {name!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RequestError(f"{name!r} must be a string")
    return str(value)


def dispatch(target: ControlTarget, request: Any) -> dict:
    """Carry out one decoded request on ``target``; the reply object (never raises)."""
    try:
        if not isinstance(request, dict):
            raise RequestError("a request is a JSON object with an 'op' field")
        op = request.get("op")
        if op == "listing":
            return {"ok": True, "listing": target.listing()}
        if op == "inspect":
            meter = _text_field(request, "meter", required=True)
            gateway = _text_field(request, "gateway")
            return {"ok": True, "meter": target.inspect(meter, gateway)}
        if op == "inject":
            kind = _text_field(request, "kind", required=True)
            gateway = _text_field(request, "gateway")
            meter = _text_field(request, "meter")
            params = {k: v for k, v in request.items() if k not in _INJECT_FIELDS}
            fault = target.inject(kind, gateway=gateway, meter=meter, **params)
            return {"ok": True, "fault": fault}
        if op == "clear":
            cleared = target.clear_faults(
                gateway=_text_field(request, "gateway"),
                meter=_text_field(request, "meter"),
                kind=_text_field(request, "kind"),
            )
            return {"ok": True, "cleared": cleared}
        if op == "faults":
            return {"ok": True, "faults": target.faults()}
        if op == "save":
            return {"ok": True, "path": target.save()}
        if op == "now":
            return {"ok": True, "now": target.now_text()}
        known = ", ".join(OPERATIONS)
        raise RequestError(f"unknown operation {op!r} (known: {known})")
    except (ValueError, TypeError, LookupError) as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    except Exception as exc:  # a bug must not take the control server down
        log.exception("control request %r failed", request)
        return {"ok": False, "error": f"internal error: {type(exc).__name__}: {exc}"}


OPERATIONS = ("listing", "inspect", "inject", "clear", "faults", "save", "now")
_INJECT_FIELDS = {"op", "kind", "gateway", "meter"}


def _encode(reply: dict) -> bytes:
    # Decimal and datetime values (if a meter reports any) travel as their exact text.
    return json.dumps(reply, ensure_ascii=False, default=str).encode("utf-8") + b"\n"


class ControlServer:
    """The asyncio JSON-lines server in front of a :class:`ControlTarget`."""

    def __init__(self, target: ControlTarget, host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = target
        self.host = host
        self.requested_port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        """The port listened on (the real one when ``0`` was asked for)."""
        if self._server is None or not self._server.sockets:
            return self.requested_port
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.requested_port, limit=LINE_LIMIT
        )

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial  # the last request may come without its newline
                    if not line.strip():
                        break
                except asyncio.LimitOverrunError:
                    at_end = await _skip_line(reader)
                    writer.write(_encode({"ok": False, "error": "request line too long"}))
                    await writer.drain()
                    if at_end:
                        break
                    continue
                if not line.strip():
                    continue
                try:
                    request = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    reply = {"ok": False, "error": f"malformed JSON: {exc}"}
                else:
                    reply = dispatch(self.target, request)
                writer.write(_encode(reply))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()


async def _skip_line(reader: asyncio.StreamReader) -> bool:
    """Discard the rest of an overlong line; whether the connection ended meanwhile."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return False
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
        except asyncio.IncompleteReadError:
            return True


class ControlError(RuntimeError):
    """The simulator refused a control request, or could not be reached; the message says why."""


class SimulatorControl:
    """Synchronous client of the control interface (tests, ``openprepaid simctl``)::

    with SimulatorControl("127.0.0.1", 9700) as control:
        control.inject("no_reply", meter="300001000001")
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = DEFAULT_CONTROL_PORT, *, timeout: float = 10.0
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> SimulatorControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""

    def request(self, op: str, **fields: Any) -> dict:
        """Send one request; the reply object as it came, ``ok`` true or false."""
        message = {"op": op, **{k: v for k, v in fields.items() if v is not None}}
        line = json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n"
        try:
            if self._sock is None:
                self._sock = socket.create_connection((self.host, self.port), self.timeout)
            self._sock.sendall(line)
            return json.loads(self._read_line())
        except OSError as exc:
            self.close()
            raise ControlError(
                f"cannot reach the simulator's control port {self.host}:{self.port}: {exc}"
            ) from None

    def _read_line(self) -> bytes:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the simulator closed the control connection")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def call(self, op: str, **fields: Any) -> dict:
        """Send one request; the reply without ``ok``, or :class:`ControlError` with its error."""
        reply = self.request(op, **fields)
        if not reply.get("ok"):
            raise ControlError(reply.get("error") or "the simulator refused the request")
        reply.pop("ok")
        return reply

    def listing(self) -> dict:
        return self.call("listing")["listing"]

    def inspect(self, meter: str, gateway: str | None = None) -> dict:
        return self.call("inspect", meter=meter, gateway=gateway)["meter"]

    def inject(
        self, kind: str, gateway: str | None = None, meter: str | None = None, **params: Any
    ) -> dict:
        return self.call("inject", kind=kind, gateway=gateway, meter=meter, **params)["fault"]

    def clear(
        self, gateway: str | None = None, meter: str | None = None, kind: str | None = None
    ) -> int:
        return self.call("clear", gateway=gateway, meter=meter, kind=kind)["cleared"]

    def faults(self) -> list[dict]:
        return self.call("faults")["faults"]

    def save(self) -> str | None:
        return self.call("save")["path"]

    def now(self) -> str:
        return self.call("now")["now"]
