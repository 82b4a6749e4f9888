"""Benchmark: DL/T 645-2007 build and parse+decode rates, ours against the PyPI ``dlt645`` package.

Run with ``make bench`` (or ``.venv/bin/python bench/bench_protocol.py``). In one process, on one
core, on the same frames:

* build: a read request for forward active energy (DI 00010000) to a varying meter address,
  4 FE wake-up bytes, to wire bytes — ours through ``encode_request(ReadRequest(...))``, the
  package's through ``DLT645Protocol.build_frame``;
* parse+decode: the 24-byte reply (4 FE + 20-byte frame) carrying a varying energy value, to the
  decoded number — ours through ``parse_reply(decode_frame(wire)).value`` (a Decimal), the
  package's through ``DLT645Protocol.deserialize`` + ``MeterClientService.handle_response``
  (a float), with its logging disabled.

Both sides are first checked to produce equal bytes and equal values. Each timing is repeated
and the median rate printed as a Markdown table; the README keeps the figures with the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal

from machine import cpu_model as _cpu_model

FRAMES = 2_000  # distinct frames per pass
PASSES = 10  # passes per repetition (20 000 frames)
REPETITIONS = 7
ENERGY_DI = 0x00010000
METER = "123456789012"


def _rate(run: Callable[[], object], frames: int) -> float:
    """Median frames per second over REPETITIONS timed calls of ``run`` (after one warm-up)."""
    run()
    rates = []
    for _ in range(REPETITIONS):
        started = time.perf_counter()
        run()
        rates.append(frames / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    import dlt645
    from dlt645 import MeterClientService
    from dlt645.protocol.protocol import DLT645Protocol

    from openprepaid.protocol.dlt645 import (
        ReadReply,
        ReadRequest,
        decode_frame,
        encode_reply,
        encode_request,
        parse_reply,
    )
    from openprepaid.protocol.dlt645.frame import address_to_wire

    dlt645.disable_logging()
    package = MeterClientService.new_tcp_client("127.0.0.1", 9, 0.1)  # never connects here
    package.set_address(address_to_wire(METER).hex())  # the package takes wire order

    # The same frames for both sides.
    addresses = [f"{100_000_000_000 + 7919 * i:012d}" for i in range(FRAMES)]
    wire_addresses = [address_to_wire(a) for a in addresses]
    # Below 800000.00: the package reads bit 7 of the top byte of an energy as a sign.
    values = [Decimal(i * 1234567 % 80_000_000).scaleb(-2) for i in range(FRAMES)]
    replies = [encode_reply(ReadReply.of(METER, ENERGY_DI, v), preamble=4) for v in values]
    di_wire = ENERGY_DI.to_bytes(4, "little")
    read = 0x11
    build_frame = DLT645Protocol.build_frame
    deserialize = DLT645Protocol.deserialize
    handle_response = package.handle_response

    # Equal bytes and equal values first.
    for address, wire in zip(addresses, wire_addresses, strict=True):
        ours = encode_request(ReadRequest(address, ENERGY_DI))
        assert ours == bytes(build_frame(wire, read, di_wire, 4)), address
    for value, reply in zip(values, replies, strict=True):
        assert len(reply) == 24
        ours_value = parse_reply(decode_frame(reply)).value
        theirs = handle_response(deserialize(reply))
        assert ours_value == value, (ours_value, value)
        assert theirs is not None, reply.hex()
        assert Decimal(f"{theirs.value:.2f}") == value, (theirs, value)

    def ours_build() -> None:
        for _ in range(PASSES):
            for address in addresses:
                encode_request(ReadRequest(address, ENERGY_DI))

    def theirs_build() -> None:
        for _ in range(PASSES):
            for wire in wire_addresses:
                build_frame(wire, read, di_wire, 4)

    def ours_parse() -> None:
        for _ in range(PASSES):
            for reply in replies:
                parse_reply(decode_frame(reply)).value  # noqa: B018

    def theirs_parse() -> None:
        for _ in range(PASSES):
            for reply in replies:
                handle_response(deserialize(reply)).value  # noqa: B018

    frames = FRAMES * PASSES
    rows = [
        ("build read request (4 FE + DI 00010000)", ours_build, theirs_build),
        ("parse + decode read reply (24 bytes → value)", ours_parse, theirs_parse),
    ]
    results = [(name, _rate(ours, frames), _rate(theirs, frames)) for name, ours, theirs in rows]

    print(
        f"Machine: {_cpu_model()}, {os.cpu_count()} cores (run on one), "
        f"Python {platform.python_version()}, dlt645 {_package_version()}"
    )
    print(f"Frames: {FRAMES} distinct × {PASSES} passes, median of {REPETITIONS} runs\n")
    print("| operation | ours frames/s | dlt645 frames/s | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours_rate, theirs_rate in results:
        ratio = ours_rate / theirs_rate
        print(f"| {name} | {ours_rate:,.0f} | {theirs_rate:,.0f} | {ratio:.1f}× |")
    return 0


def _package_version() -> str:
    from importlib.metadata import version

    return version("dlt645")


if __name__ == "__main__":
    sys.exit(main())
