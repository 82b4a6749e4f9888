"""The headend service: one :class:`~openprepaid.headend.line.LineWorker` per gateway line, one
flusher writing batches, a periodic reload of the lines, and a status report.

``await Headend(repo, options=...).run()`` runs until cancelled (or :meth:`Headend.stop`);
stopping flushes what was read and puts claimed, unstarted commands back in the queue.
:meth:`Headend.status` is JSON-ready; with ``status_path`` it is also written there
atomically every ``status_every`` seconds for ``openprepaid headend --status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from openprepaid.headend.batching import Collector
from openprepaid.headend.contact import ContactTracker
from openprepaid.headend.line import LineWorker, utcnow
from openprepaid.headend.model import LineConfig
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.repository import Repository

log = logging.getLogger(__name__)


class Headend:
    def __init__(
        self,
        repo: Repository,
        *,
        options: HeadendOptions | None = None,
        status_path: Path | str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.repo = repo
        self.options = options or HeadendOptions()
        self.status_path = None if status_path is None else Path(status_path)
        self.clock = clock
        self.collector = Collector(repo.store, max_readings=self.options.flush_readings)
        self.contact = ContactTracker(self.options.lost_after)
        self.workers: dict[int, tuple[LineConfig, LineWorker, asyncio.Task]] = {}
        self.started_at: dt.datetime | None = None
        self._started_mono = 0.0
        self._tasks: list[asyncio.Task] = []
        self._stopped = asyncio.Event()
        self._stopping: asyncio.Future | None = None
        self._final: list[dict] = []  # the workers' last status, after stop

    async def start(self) -> None:
        lost_meters, lost_gateways = await asyncio.to_thread(self.repo.lost_state)
        self.contact = ContactTracker(self.options.lost_after, lost_meters, lost_gateways)
        self.started_at = self.clock()
        self._started_mono = time.monotonic()
        await self.reload()
        self._tasks = [
            asyncio.create_task(self.collector.run(self.options.flush_every)),
            asyncio.create_task(self._reloader()),
            asyncio.create_task(self._status_writer()),
            asyncio.create_task(self._dispatcher()),
        ]

    async def run(self) -> None:
        """Start, then run until cancelled or stopped; always stops cleanly."""
        await self.start()
        try:
            await self._stopped.wait()
        finally:
            await asyncio.shield(self.stop())

    async def stop(self) -> None:
        """Stop the workers, flush, write the status; safe to call more than once."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        self._stopped.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.workers:
            self._final = [worker.status() for _, worker, _ in self.workers.values()]
        for gateway_id in list(self.workers):
            await self._stop_worker(gateway_id)
        with contextlib.suppress(Exception):
            await self.collector.flush()
        self._write_status()

    async def reload(self) -> None:
        """Read the lines again: start new ones, restart changed ones, stop removed ones."""
        lines = {line.gateway_id: line for line in await asyncio.to_thread(self.repo.lines)}
        for gateway_id in list(self.workers):
            if lines.get(gateway_id) != self.workers[gateway_id][0]:
                await self._stop_worker(gateway_id)
        for gateway_id, line in lines.items():
            if gateway_id not in self.workers:
                worker = LineWorker(
                    line, self.repo, self.collector, self.contact, self.options, clock=self.clock
                )
                task = asyncio.create_task(worker.run(), name=f"line {line.name}")
                self.workers[gateway_id] = (line, worker, task)

    async def _stop_worker(self, gateway_id: int) -> None:
        entry = self.workers.pop(gateway_id, None)
        if entry is None:
            return
        _, worker, task = entry
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        with contextlib.suppress(Exception):
            await worker.close()

    async def _reloader(self) -> None:
        while True:
            await asyncio.sleep(self.options.reload_every)
            try:
                await self.reload()
            except Exception:
                log.exception("reloading the lines failed")

    async def _dispatcher(self) -> None:
        """Every ``claim_every``: one query for the gateways with commands, then each of those
        lines claims its own (commands preempt polling on their bus)."""
        while True:
            await asyncio.sleep(self.options.claim_every)
            try:
                busy = await asyncio.to_thread(self.repo.pending_gateways)
            except Exception:
                log.exception("asking for commands failed")
                continue
            for gateway_id in busy:
                entry = self.workers.get(gateway_id)
                if entry is not None and entry[1].bus is not None and not entry[1].orders:
                    await entry[1].claim_now()

    async def _status_writer(self) -> None:
        while True:
            self._write_status()
            await asyncio.sleep(self.options.status_every)

    def worker(self, gateway_id: int) -> LineWorker:
        return self.workers[gateway_id][1]

    def status(self) -> dict:
        now = self.clock()
        return {
            "at": now.isoformat(),
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "uptime_seconds": round(time.monotonic() - self._started_mono, 1)
            if self.started_at
            else 0,
            "readings_stored": self.collector.stored_readings,
            "values_stored": self.collector.stored_values,
            "batches": self.collector.batches,
            "waiting": self.collector.pending,
            "store_error": self.collector.last_error,
            "gateways": [worker.status() for _, worker, _ in self.workers.values()] or self._final,
        }

    def _write_status(self) -> None:
        if self.status_path is None:
            return
        write_json_atomic(self.status_path, self.status())


def write_json_atomic(path: Path, data: dict) -> None:
    """Write ``data`` as JSON to ``path`` so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_status(path: Path | str) -> dict:
    """The last status the headend wrote (for ``openprepaid headend --status``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
