"""Fixtures for the meter security module: a site, two meters, deterministic randomness.

Meter A is ``000012345678``, meter B ``000012345679``; times are aware datetimes passed in.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from openprepaid.protocol.security import MasterKey, MasterSecurity, MeterSecurityModule

MASTER_KEY_HEX = "0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567"
ESAM_SERIAL = bytes.fromhex("A1B2C3D4E5F60718")


def _seeded_rng(seed: int):
    return random.Random(seed).randbytes


@pytest.fixture
def master_key_hex() -> str:
    return MASTER_KEY_HEX


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.from_hex(MASTER_KEY_HEX)


@pytest.fixture
def master(master_key) -> MasterSecurity:
    return MasterSecurity(master_key, rng=_seeded_rng(1))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_meter(master):
    def make(address: str, **kwargs) -> MeterSecurityModule:
        return MeterSecurityModule(
            master.meter_key(address),
            esam_serial=ESAM_SERIAL,
            rng=_seeded_rng(int(address)),
            **kwargs,
        )

    return make


@pytest.fixture
def meter_a(make_meter) -> MeterSecurityModule:
    return make_meter("000012345678")


@pytest.fixture
def meter_b(make_meter) -> MeterSecurityModule:
    return make_meter("000012345679")
