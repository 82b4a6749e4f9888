"""The shared flusher: line workers hand readings, failures, contact changes and gateway
statistics over; one task writes them to the database in batches (one transaction each)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from openprepaid.headend.model import Batch, ContactChange, GatewayStats, PollFailure, Reading

log = logging.getLogger(__name__)


class Collector:
    """Buffers what the workers produce; :meth:`flush` writes it through ``store`` (a blocking
    call, run in a thread). A batch that fails to store is kept and tried again."""

    def __init__(self, store: Callable[[Batch], None], *, max_readings: int = 500) -> None:
        self._store = store
        self.max_readings = max_readings
        self.readings: list[Reading] = []
        self.failures: list[PollFailure] = []
        self.contact: list[ContactChange] = []
        self.gateways: list[GatewayStats] = []
        self.stored_readings = 0
        self.stored_values = 0
        self.batches = 0
        self.last_error = ""
        self.full = asyncio.Event()
        self._lock = asyncio.Lock()

    def add_reading(self, reading: Reading) -> None:
        self.readings.append(reading)
        if len(self.readings) >= self.max_readings:
            self.full.set()

    def add_failure(self, failure: PollFailure) -> None:
        self.failures.append(failure)

    def add_contact(self, change: ContactChange) -> None:
        self.contact.append(change)

    def add_gateway(self, stats: GatewayStats) -> None:
        self.gateways.append(stats)

    @property
    def pending(self) -> int:
        return len(self.readings) + len(self.failures) + len(self.contact) + len(self.gateways)

    async def flush(self) -> None:
        async with self._lock:
            if not self.pending:
                return
            batch = Batch(
                tuple(self.readings),
                tuple(self.failures),
                tuple(self.contact),
                tuple(self.gateways),
            )
            self.readings, self.failures, self.contact, self.gateways = [], [], [], []
            self.full.clear()
            store = asyncio.ensure_future(asyncio.to_thread(self._store, batch))
            try:
                await asyncio.shield(store)
            except asyncio.CancelledError:
                # A thread cannot be cancelled: let the write finish and count its outcome, so
                # that a batch is neither lost nor counted wrongly when the headend stops.
                with contextlib.suppress(Exception):
                    await store
                self._settle(batch, store.exception())
                raise
            except Exception as exc:
                self._settle(batch, exc)
                raise
            self._settle(batch, None)

    def _settle(self, batch: Batch, error: BaseException | None) -> None:
        if error is not None:
            log.error("storing a batch failed; it will be tried again: %s", error)
            self.last_error = str(error)
            self.readings[:0] = batch.readings
            self.failures[:0] = batch.failures
            self.contact[:0] = batch.contact
            self.gateways[:0] = batch.gateways
            return
        self.batches += 1
        self.stored_readings += len(batch.readings)
        self.stored_values += sum(r.value_count for r in batch.readings)

    async def run(self, every: float) -> None:
        """Flush every ``every`` seconds, or as soon as ``max_readings`` wait."""
        while True:
            started = time.monotonic()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):  # not wait_for: see transport.Link.exchange
                    await self.full.wait()
            try:
                await self.flush()
            except Exception:
                await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
