"""Benchmark: bus timing — a sweep of 32 DL/T 645 meters at 2400 baud against its floor.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_bus_timing.py``). A simulated
transparent gateway carries 32 meters at 2400 baud, 8E1 (11 bits a byte); a client reads the
energy block of each meter in turn over TCP, one request in flight. The floor is the sum over
the sweep of request frame time + the meter's turnaround + reply frame time, from the actual byte
counts; the measured sweep should be within 5% of it (the simulator adds nothing measurable).
"""

from __future__ import annotations

import socket
import statistics
import sys
import time

from openprepaid.protocol.dlt645 import Decoder, Frame
from openprepaid.protocol.dlt645.requests import ReadRequest, encode_request
from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import site_from_options

SWEEPS = 3


def _sweep(thread: SimulatorThread, addresses: list[str]) -> tuple[float, float]:
    host, port = thread.address("GW001")
    bits, baud = 11, 2400
    floor = 0.0
    with socket.create_connection((host, port)) as link:
        started = time.perf_counter()
        for address in addresses:
            request = encode_request(ReadRequest(address, 0x0001FF00))
            link.sendall(request)
            decoder, raw = Decoder(), b""
            while True:
                chunk = link.recv(512)
                raw += chunk
                decoder.receive_data(chunk)
                event = decoder.next_event()
                if isinstance(event, Frame):
                    break
            turnaround = thread.simulator.meter(address).turnaround
            floor += (len(request) + len(raw)) * bits / baud + turnaround
        took = time.perf_counter() - started
    return floor, took


def main() -> int:
    spec = site_from_options(gateways=1, meters_per_gateway=32, first_port=0, baud_rate=2400)
    addresses = [m.address for _, m in spec.meters]
    with SimulatorThread(spec, timing=True) as thread:
        runs = [_sweep(thread, addresses) for _ in range(SWEEPS)]
    print("| sweep | computed floor | measured | measured / floor |")
    print("|---|---:|---:|---:|")
    for number, (floor, took) in enumerate(runs, start=1):
        print(f"| {number} | {floor:.3f} s | {took:.3f} s | {took / floor:.4f} |")
    worst = max(took / floor for floor, took in runs)
    print(f"\nmedian ratio {statistics.median(t / f for f, t in runs):.4f}, worst {worst:.4f}")
    return 0 if worst <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
