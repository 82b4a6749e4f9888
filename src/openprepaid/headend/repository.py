"""The headend's one door to the database, as a protocol the domain implements.

Every method is synchronous (the Django ORM is); the headend calls them through
``asyncio.to_thread`` so that the event loop never waits on the database. Each method is one
transaction. The implementation is ``openprepaid.domain.metering.repository.DjangoRepository``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from openprepaid.headend.model import (
    Batch,
    CommandKind,
    CommandOrder,
    CommandOutcome,
    LineConfig,
    MeterControl,
)


class Repository(Protocol):
    def lines(self) -> list[LineConfig]:
        """Every gateway line in service (not retired) with its meters in service."""
        ...

    def lost_state(self) -> tuple[set[int], set[int]]:
        """(meter ids, gateway ids) currently lost, i.e. with an open lost-contact alarm; the
        headend starts from it so that a restart raises nothing twice."""
        ...

    def store(self, batch: Batch) -> None:
        """Write readings (a reading already stored for the same meter and ``read_at`` is
        skipped, never duplicated), update each meter's latest status and freshness, count
        failures, open or close lost-contact alarms, update gateway health."""
        ...

    def claim_commands(self, gateway_id: int, now: dt.datetime, limit: int) -> list[CommandOrder]:
        """Queued commands for meters of this gateway, oldest first: expired ones become
        ``expired``; a queued relay command with a newer queued relay command for the same meter
        becomes ``superseded`` (never sent); the rest move to ``sending`` and are returned.
        Commands left in ``sending`` or ``sent`` by a headend that died are returned too
        (``attempts`` tells), so nothing is lost over a restart."""
        ...

    def finish_command(self, outcome: CommandOutcome) -> None:
        """Record the outcome; a state the lifecycle forbids raises ``IllegalTransition``."""
        ...

    def controls(self, gateway_id: int) -> list[MeterControl]:
        """Desired and reported relay state of the gateway's meters."""
        ...

    def enqueue_reconcile(
        self, meter_id: int, kind: CommandKind, now: dt.datetime, reason: str
    ) -> int | None:
        """Queue a command the reconciler decided on (origin ``reconcile``), unless the meter
        already has a relay command queued, sending or sent; returns its id or ``None``."""
        ...

    def pending_gateways(self) -> set[int]:
        """Gateways with a command queued, sending or sent: one cheap query the headend makes
        every ``claim_every`` instead of one claim per line, so that hundreds of lines do not
        each ask the database for work several times a second."""
        ...

    def pending_meters(self, gateway_id: int) -> Sequence[int]:
        """Meters of this gateway with a ``read_now`` or other queued command (cheap check the
        worker makes between polls, so that commands preempt polling)."""
        ...
