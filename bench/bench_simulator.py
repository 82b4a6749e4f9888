"""Benchmark: the simulator at scale — 10,016 meters on 313 gateways in one process.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_simulator.py``). The simulator runs as
``openprepaid simulate`` in its own process, pinned to one core, with bus timing off; this
process is the load generator, pinned to the other core. It opens one TCP connection per gateway
(300 transparent gateways of 32 DL/T 645 meters, 13 Modbus-TCP gateways of 32 Acrel meters) and
keeps one request in flight on each, as a headend would: DL/T 645 reads of the energy block,
the remaining amount and status word 3, and Modbus FC03 reads of the energy and instant
registers (the first block of each model's reading), round robin over the meters. Every reply
is decoded and checked to come from the meter asked; replies per second over the measuring
window are the figure, with the simulator's CPU time per request and its memory (RSS).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model as _cpu_model

from openprepaid.protocol.dlt645 import NEED_DATA as DLT_NEED_DATA
from openprepaid.protocol.dlt645 import Decoder, Frame
from openprepaid.protocol.dlt645.requests import ReadRequest, encode_request
from openprepaid.protocol.modbus import Direction, ReadHoldingRegistersRequest, TcpDecoder
from openprepaid.protocol.modbus.acrel import DDSY1352, DTSY1352
from openprepaid.protocol.modbus.common import NEED_DATA
from openprepaid.protocol.modbus.tcp import TcpFrame, encode_tcp

GATEWAYS = 313
MODBUS_TCP_GATEWAYS = 13
METERS_PER_GATEWAY = 32
FIRST_PORT = int(os.environ.get("BENCH_SIM_FIRST_PORT", "21001"))
WARM_UP = 3.0  # seconds before counting
WINDOW = 10.0  # seconds counted
DLT645_READS = (0x0001FF00, 0x00900200, 0x04000503)
MODBUS_MAPS = {"acrel-ddsy1352": DDSY1352, "acrel-dtsy1352": DTSY1352}


def _process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Link(asyncio.Protocol):
    """One connection: one request in flight, the next sent when the reply is complete."""

    def __init__(self, requests: list[tuple[bytes, object]], modbus: bool) -> None:
        self.requests = requests
        self.modbus = modbus
        self.decoder = TcpDecoder(Direction.RESPONSE) if modbus else Decoder()
        self.position = 0
        self.replies = 0
        self.wrong = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self._send()

    def _send(self) -> None:
        raw, _ = self.requests[self.position]
        assert self.transport is not None
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        decoder = self.decoder
        decoder.receive_data(data)
        while True:
            event = decoder.next_event()
            if event is NEED_DATA or event is DLT_NEED_DATA:
                return
            _, expected = self.requests[self.position]
            if isinstance(event, Frame):
                ok = event.address == expected and event.is_response and not event.abnormal
            elif isinstance(event, TcpFrame):
                ok = event.unit_id == expected and not event.pdu.function_code & 0x80
            else:
                ok = False  # garbage
            if ok:
                self.replies += 1
            else:
                self.wrong += 1
            self.position = (self.position + 1) % len(self.requests)
            self._send()


def _requests(gateway: dict) -> tuple[list[tuple[bytes, object]], bool]:
    if gateway["transport"] == "modbus_tcp":
        out = []
        for tid, meter in enumerate(gateway["meters"], start=1):
            unit = int(meter["address"])
            start, count = MODBUS_MAPS[meter["profile"]].reading_blocks[0]
            read = ReadHoldingRegistersRequest(start, count)
            out.append((encode_tcp(tid, unit, read), unit))
        return out, True
    out = []
    for di in DLT645_READS:
        for meter in gateway["meters"]:
            address = meter["address"]
            out.append((encode_request(ReadRequest(address, di)), address))
    return out, False


async def _load(listing: dict) -> tuple[int, int, float]:
    loop = asyncio.get_running_loop()
    links = []
    for gateway in listing["gateways"]:
        requests, modbus = _requests(gateway)
        _, link = await loop.create_connection(
            lambda r=requests, m=modbus: _Link(r, m), gateway["host"], gateway["port"]
        )
        links.append(link)
    await asyncio.sleep(WARM_UP)
    before = sum(link.replies for link in links)
    started = time.perf_counter()
    await asyncio.sleep(WINDOW)
    elapsed = time.perf_counter() - started
    replies = sum(link.replies for link in links) - before
    wrong = sum(link.wrong for link in links)
    for link in links:
        link.transport.close()
    return replies, wrong, elapsed


def main() -> int:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    sim_core, load_core = cores[0], cores[-1]
    with tempfile.TemporaryDirectory() as tmp:
        listing_path = Path(tmp) / "listing.json"
        command = [
            *("taskset", "-c", str(sim_core)),
            *(sys.executable, "-m", "openprepaid", "simulate"),
            *("--gateways", str(GATEWAYS), "--meters-per-gateway", str(METERS_PER_GATEWAY)),
            *("--modbus-tcp-gateways", str(MODBUS_TCP_GATEWAYS)),
            *("--first-port", str(FIRST_PORT), "--no-timing", "--control-port", "0"),
            *("--state", str(Path(tmp) / "state.json"), "--json", str(listing_path)),
        ]
        simulator = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        try:
            deadline = time.monotonic() + 120
            while not listing_path.exists():
                if simulator.poll() is not None or time.monotonic() > deadline:
                    print("the simulator did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            listing = json.loads(listing_path.read_text(encoding="utf-8"))
            meters = sum(len(g["meters"]) for g in listing["gateways"])
            rss = _rss_mib(simulator.pid)
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {load_core})
            cpu_before = _process_cpu_seconds(simulator.pid)
            replies, wrong, elapsed = asyncio.run(_load(listing))
            cpu = _process_cpu_seconds(simulator.pid) - cpu_before
        finally:
            simulator.send_signal(signal.SIGTERM)
            simulator.wait(timeout=60)
    rate = replies / elapsed
    # The CPU figure covers warm-up and window, the reply count only the window: scale it.
    cpu_per_request = cpu / (replies * (WARM_UP + WINDOW) / elapsed) * 1e6 if replies else 0.0
    print(f"Machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"Simulator on core {sim_core}, load generator on core {load_core}, timing off\n")
    print("| meters | gateways | replies/s | wrong replies | simulator CPU/request | RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {meters:,} | {len(listing['gateways'])} | {rate:,.0f} | {wrong} "
        f"| {cpu_per_request:.0f} µs | {rss:.0f} MiB |"
    )
    return 0 if wrong == 0 and rate > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
