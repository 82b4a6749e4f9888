"""The pure parts: the reconciler's decision table, lost-contact counting, backoff bounds,
timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time

import pytest

from openprepaid.headend.contact import ContactTracker
from openprepaid.headend.model import (
    Batch,
    CommandKind,
    DesiredRelay,
    LineConfig,
    MeterControl,
    Reading,
)
from openprepaid.headend.reconcile import decide
from openprepaid.headend.transport import Backoff, frame_seconds

K = CommandKind
OPEN, CLOSED, AUTO = DesiredRelay.OPEN, DesiredRelay.CLOSED, DesiredRelay.AUTO

# desired relay, desired keep, reported open, reported keep, lost, pending → decision
TABLE = [
    (OPEN, False, False, False, False, False, K.TRIP),
    (OPEN, False, True, False, False, False, None),
    (CLOSED, False, True, False, False, False, K.CLOSE),
    (CLOSED, False, False, False, False, False, None),
    (AUTO, False, True, False, False, False, None),
    (AUTO, False, False, False, False, False, None),
    (AUTO, True, False, False, False, False, K.KEEP_POWER_ON),
    (AUTO, False, False, True, False, False, K.KEEP_POWER_OFF),
    (OPEN, True, False, False, False, False, K.KEEP_POWER_ON),  # keep power first
    (OPEN, True, False, True, False, False, None),  # a trip cannot act under keep power
    (CLOSED, True, True, True, False, False, K.CLOSE),
    (OPEN, False, False, False, True, False, None),  # lost contact
    (OPEN, False, False, False, False, True, None),  # pending
    (OPEN, False, None, False, False, False, None),  # relay unknown
    (AUTO, True, False, None, False, False, None),  # keep power unknown
    (CLOSED, False, None, None, False, False, None),
]


@pytest.mark.parametrize(
    ("relay", "keep", "reported_open", "reported_keep", "lost", "pending", "expected"), TABLE
)
def test_reconcile_decision_table(
    relay, keep, reported_open, reported_keep, lost, pending, expected
):
    control = MeterControl(
        meter_id=1,
        desired_relay=relay,
        desired_keep_power=keep,
        reported_relay_open=reported_open,
        reported_keep_power=reported_keep,
        lost_contact=lost,
    )
    assert decide(control, pending) == expected


AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_a_meter_is_lost_after_n_failures_and_regained_once():
    tracker = ContactTracker(lost_after=3)
    results = [tracker.meter_polled(7, False, AT, "timeout") for _ in range(5)]
    assert results[:2] == [None, None]
    assert results[2] is not None
    assert results[2].lost
    assert results[2].meter_id == 7
    assert results[3:] == [None, None]
    back = tracker.meter_polled(7, True, AT)
    assert back is not None
    assert not back.lost
    assert tracker.meter_polled(7, True, AT) is None
    # A good poll resets the count.
    tracker.meter_polled(7, False, AT)
    tracker.meter_polled(7, False, AT)
    assert tracker.meter_polled(7, True, AT) is None
    assert tracker.meter_polled(7, False, AT) is None


def test_contact_starts_from_the_database():
    tracker = ContactTracker(lost_after=1, lost_meters={7}, lost_gateways={2})
    assert tracker.meter_polled(7, False, AT) is None  # already lost: nothing twice
    assert tracker.gateway_connect(2, False, AT) is None
    assert tracker.gateway_connect(2, True, AT).lost is False
    assert tracker.gateway_connect(2, False, AT).lost is True
    assert tracker.gateway_connect(2, False, AT) is None


def test_backoff_bounds():
    backoff = Backoff(0.5, 30.0, random.Random(3))
    delays = [backoff.next_delay() for _ in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30.0
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_frame_times():
    line = LineConfig(1, "L", "transparent_tcp", baud_rate=2400, parity="E")
    assert frame_seconds(24, line) == pytest.approx(0.11)
    assert frame_seconds(10, LineConfig(1, "L", "serial", baud_rate=9600, parity="N")) == (
        pytest.approx(10 * 10 / 9600)
    )


def _reading(meter_id: int = 1) -> Reading:
    return Reading(meter_id, dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC), "status")


@pytest.mark.parametrize("fails", [False, True])
def test_a_flush_cancelled_mid_write_neither_loses_nor_miscounts_its_batch(fails):
    """Stopping the headend cancels the flusher; the write already in its thread finishes and
    counts (or, if it fails, the batch goes back to wait for the next flush)."""
    import threading

    from openprepaid.headend.batching import Collector

    started = threading.Event()
    written: list[Batch] = []

    def slow_store(batch: Batch) -> None:
        started.set()
        time.sleep(0.2)
        if fails:
            raise OSError("disk full")
        written.append(batch)

    collector = Collector(slow_store)
    collector.add_reading(_reading())

    async def scenario() -> None:
        task = asyncio.create_task(collector.flush())
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    if fails:
        assert written == []
        assert collector.stored_readings == 0
        assert collector.pending == 1  # back in the queue for the next flush
    else:
        assert len(written) == 1
        assert collector.stored_readings == 1
        assert collector.pending == 0


def test_full_readings_go_to_the_most_overdue_meter_when_the_interval_is_shorter_than_a_pass():
    """Five meters, a full reading every 2 s, each reading taking 1 s: in bus order the first
    meters would be due again before the last were ever read. Every meter must be read in the
    first five readings, and then again in the same rotation."""
    from openprepaid.headend.batching import Collector
    from openprepaid.headend.line import LineWorker
    from openprepaid.headend.model import MeterTarget
    from openprepaid.headend.options import HeadendOptions

    meters = tuple(MeterTarget(i, f"{i:012d}", "dlt645_2007", "DDSY1352") for i in range(1, 6))
    line = LineConfig(gateway_id=1, name="GW", transport="transparent_tcp", meters=meters)
    options = HeadendOptions(full_reading_every=dt.timedelta(seconds=2), status_sweep=False)
    worker = LineWorker(
        line,
        repo=None,
        collector=Collector(lambda b: None),
        contact=ContactTracker(),
        options=options,
    )
    now, read = 100.0, []
    for _ in range(10):
        meter, kind = worker._next_poll(now)
        assert kind == "full"
        read.append(meter.meter_id)
        now += 1.0  # the reading takes a second
        worker.next_full[meter.meter_id] = now + worker.interval
    assert read == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
