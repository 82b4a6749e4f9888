"""End-to-end billing against the simulator: a simulated building (``SimulatorThread``), the
headend (in a thread, or ``openprepaid headend`` as a child process sharing the test database)
and the billing services, with the real Django repository between them.

The tests use ``transactional_db``: what the services write is committed, so a headend in
another thread or process sees it. ``headend_env()`` points a child process at the test
database (SQLite file or PostgreSQL) with its own data folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connections

from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.service import Headend
from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey

FAST = HeadendOptions(
    stagger=0,
    seed=1,
    claim_every=0.1,
    reconcile_every=0.3,
    stats_every=0.5,
    flush_every=0.1,
    status_every=1.0,
    turnaround=0.2,
    network_slack=0.2,
    time_sync_daily=False,
    max_drift=dt.timedelta.max,
    # Accelerated meters' clocks run far ahead of the headend's; a command's deadline (DL/T 645
    # "valid until", checked against the meter's clock) must not expire on arrival.
    command_valid_for=dt.timedelta(days=3650),
    master_key=MasterKey.from_hex(DEMO_MASTER_KEY_HEX),
)


#: The headend's database worker threads (as many as ``asyncio.to_thread`` would use).
WORKERS = min(32, (os.cpu_count() or 1) + 4)


def wait_for(
    what: str,
    check: Callable[[], object],
    timeout: float = 30.0,
    every: float = 0.1,
    explain: Callable[[], str] | None = None,
):
    """Poll ``check()`` until it returns something true; that value. Fails after ``timeout``
    (with what ``explain()`` says, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        time.sleep(every)


class DatabaseWorkers(ThreadPoolExecutor):
    """The worker threads of the headend's event loop (its ``asyncio.to_thread`` calls into the
    repository), each with its own database connection. All of them are started at once, and on
    shutdown each one closes its connections before it ends (``connections.close_all()`` acts on
    the calling thread's connections only), so the test database can be dropped afterwards."""

    def __init__(self, workers: int = WORKERS) -> None:
        super().__init__(max_workers=workers, thread_name_prefix="headend-db")
        self.workers = workers
        self._closed = False
        # Started now, the pool holds exactly ``workers`` threads until it is shut down.
        self._on_every_thread(lambda: None)

    def _on_every_thread(self, action: Callable[[], object]) -> None:
        """Run ``action`` once in each worker thread: every call waits for all the others, so no
        thread can take two of them."""
        barrier = threading.Barrier(self.workers)

        def once() -> None:
            action()
            barrier.wait(timeout=60)

        for future in [self.submit(once) for _ in range(self.workers)]:
            future.result()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if not self._closed:
            self._closed = True
            self._on_every_thread(connections.close_all)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


class HeadendThread:
    """The headend on its own event loop in a background thread, as ``openprepaid headend``;
    its database calls run on :class:`DatabaseWorkers`."""

    def __init__(
        self, *, options: HeadendOptions = FAST, full_every: dt.timedelta | None = None
    ) -> None:
        if full_every is not None:
            options = dataclasses.replace(options, full_reading_every=full_every)
        self.loop = asyncio.new_event_loop()
        self.headend = Headend(DjangoRepository(full_reading_every=full_every), options=options)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop.set_default_executor(DatabaseWorkers())
        try:
            self.loop.run_until_complete(self.headend.run())
        finally:
            # The workers close their database connections and end; so does this thread.
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()
            connections.close_all()

    def __enter__(self) -> HeadendThread:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.headend.stop(), self.loop).result(60)
            self.thread.join(60)


def database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test database)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = quote(settings.get("USER") or "", safe="")
    password = settings.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings['NAME']}"


def headend_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["OPENPREPAID_DATA_DIR"] = str(data_dir)
    env["OPENPREPAID_MASTER_KEY"] = DEMO_MASTER_KEY_HEX
    env.setdefault("OPENPREPAID_SECRET_KEY", "e2e-tests-only-" + "k" * 40)
    return env


class HeadendProcess:
    """``openprepaid headend`` as a child process on the test database."""

    def __init__(self, data_dir: Path, name: str = "headend") -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.status = data_dir / f"{name}-status.json"
        self.log_path = data_dir / f"{name}.log"
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def start(self) -> HeadendProcess:
        self.status.unlink(missing_ok=True)
        command = [
            *(sys.executable, "-m", "openprepaid", "headend", "--no-time-sync"),
            *("--command-valid-for", str(10 * 365 * 24 * 60)),  # accelerated meter clocks
            *("--status-file", str(self.status)),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=headend_env(self.data_dir)
            )
        wait_for("the headend to start", self._started, timeout=60)
        return self

    def _started(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the headend stopped at start:\n{self.log()}")
        return self.status.exists()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def headend_process(tmp_path) -> Iterator[Callable[[str], HeadendProcess]]:
    """``headend_process("first")`` starts a headend child process; all are stopped at the
    end."""
    started: list[HeadendProcess] = []

    def start(name: str = "headend") -> HeadendProcess:
        process = HeadendProcess(tmp_path / "headend", name).start()
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(Exception):
            process.stop()


# ------------------------------------------------------------------------- a small building

E2E_GATEWAY = "GW-E2E"


def configure_building(sim, site, meters) -> dict[str, object]:
    """The console's configuration of a simulated bus: gateway ``GW-E2E`` at the simulator's
    port and one unit and meter per ``MeterSpec``; returns the meters by address."""
    from openprepaid.domain.sites import services as site_services

    host, port = sim.address(E2E_GATEWAY)
    gateway = site_services.create_gateway(
        acting_user=None, site=site, name=E2E_GATEWAY, transport="transparent_tcp", host=host,
        port=port,
    )  # fmt: skip
    floor = site_services.ensure_floor(
        acting_user=None, site=site, building_name="A座", floor_name="1F"
    )
    created = {}
    for number, spec in enumerate(meters, start=1):
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"1F-{number:03d}", kind="shop"
        )
        created[spec.address] = site_services.create_meter(
            acting_user=None,
            gateway=gateway,
            unit=unit,
            address=spec.address,
            protocol=spec.protocol,
            profile=spec.profile,
            cost_control=spec.cost_control,
        )
    return created


def register(site, meter, code: str):
    """A tenant with a registered account holding ``meter``."""
    from openprepaid.domain.tenants import services as tenant_services

    tenant = tenant_services.create_tenant(
        acting_user=None, site=site, code=code, name=f"商户 {code}", kind="company"
    )
    return tenant_services.register_account(acting_user=None, tenant=tenant, meters=[meter])


def power_off(sim, address: str) -> None:
    """No load on the simulated meter: its balance moves only by what is written to it."""
    sim.with_meter(address, lambda meter: meter.set_powered(False, sim.clock.now()))
