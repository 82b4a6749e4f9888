"""Money commands over real sockets against the simulator: open account and recharge on
DL/T 645 and Modbus meters, confirmed by the purchase count and the balance; a repeated claim,
a lost reply and a headend killed between sending and confirming each credit exactly once; out
of order, a wrong master key, a wrong customer and a meter not opened fail and change nothing.

The simulated meters run on a hand-driven clock that stands still, so they consume nothing and
balances change only by the amounts recharged."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from decimal import Decimal

import pytest
from tests.headend.headend_support import FAST, lines_for, run_until, simulator
from tests.headend.memory_repository import MemoryRepository

from openprepaid.headend.model import CommandKind, CommandState
from openprepaid.headend.money import UNCONFIRMED, MoneyError, MoneyOrder, unwrap_count
from openprepaid.headend.service import Headend
from openprepaid.protocol.security import DI_OPEN_ACCOUNT, DI_RECHARGE, WalletAccepted
from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey
from openprepaid.simulator.sitespec import LOCAL, GatewaySpec, MeterSpec, SiteSpec

SPEC = SiteSpec(
    (
        GatewaySpec(
            "MIX",
            port=0,
            meters=(
                MeterSpec("300001000001", cost_control=LOCAL),
                MeterSpec("5", protocol="modbus_rtu", profile="acrel-ddsy1352", cost_control=LOCAL),
            ),
        ),
    )
)
DLT645_METER = (1, "300001000001", "MIX")
MODBUS_METER = (2, "5", "MIX")
METERS = pytest.mark.parametrize(
    ("meter_id", "address", "gateway"), [DLT645_METER, MODBUS_METER], ids=["dlt645", "modbus"]
)
OPTIONS = dataclasses.replace(FAST, master_key=MasterKey.from_hex(DEMO_MASTER_KEY_HEX))
FINAL = {CommandState.CONFIRMED, CommandState.FAILED}
_WALLET_DIS = (DI_OPEN_ACCOUNT, DI_RECHARGE)


def params(amount: str, count: int, customer: str = "000000000001") -> dict:
    return {"amount": amount, "purchase_count": count, "customer": customer}


def watch_wallet(sim, address: str, gateway: str, *, lose_replies: int = 0) -> list[str]:
    """Every wallet command the simulated meter applied ("applied") or refused, in order;
    the replies to the next ``lose_replies`` applied ones never reach the line (the meter acts,
    the answer is lost — the ``lost_reply`` fault, aimed at the wallet command)."""
    calls: list[str] = []
    lose = {"left": lose_replies, "now": False}

    def wrap(meter) -> None:
        if meter.protocol == "dlt645_2007":
            security_request = meter.security_request

            def wallet(di, payload, now):
                outcome = security_request(di, payload, now)
                if di in _WALLET_DIS:
                    applied = isinstance(outcome, WalletAccepted)
                    calls.append("applied" if applied else "refused")
                    if applied and lose["left"]:
                        lose["left"] -= 1
                        lose["now"] = True
                return outcome

            meter.security_request = wallet
            handle = meter.handle_dlt645
        else:
            credit = meter.credit

            def wallet(amount_fen, purchase_count, now):
                refusal = credit(amount_fen, purchase_count, now)
                calls.append("applied" if refusal is None else "refused")
                if refusal is None and lose["left"]:
                    lose["left"] -= 1
                    lose["now"] = True
                return refusal

            meter.credit = wallet
            handle = meter.handle_modbus

        def answer(request, now):
            reply = handle(request, now)
            if lose["now"]:
                lose["now"] = False
                return None
            return reply

        if meter.protocol == "dlt645_2007":
            meter.handle_dlt645 = answer
        else:
            meter.handle_modbus = answer

    sim.with_meter(address, wrap, gateway)
    return calls


def wallet_of(sim, address: str, gateway: str) -> tuple[int, Decimal, bool]:
    held = sim.inspect(address, gateway)
    return held["purchase_count"], Decimal(held["balance"]), held["account_opened"]


def run_commands(repo: MemoryRepository, ids: list[int], options=OPTIONS) -> None:
    headend = Headend(repo, options=options)
    asyncio.run(run_until(headend, lambda: all(repo.state(i) in FINAL for i in ids), timeout=15))


def states(repo: MemoryRepository, command_id: int) -> list[CommandState]:
    return [o.state for o in repo.commands[command_id].history]


def detail(repo: MemoryRepository, command_id: int) -> str:
    return repo.commands[command_id].history[-1].detail


def stranded(repo: MemoryRepository, meter_id: int, kind: CommandKind, given: dict) -> int:
    """A command a killed headend left in ``sent``: claimed once, its lease run out."""
    command_id = repo.enqueue(meter_id, kind, params=given)
    command = repo.commands[command_id]
    command.state = CommandState.SENT
    command.attempts = 1
    command.claimed_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return command_id


@METERS
def test_open_account_then_recharge(meter_id, address, gateway):
    with simulator(SPEC, opening_balance=None) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        assert wallet_of(sim, address, gateway) == (0, Decimal("0.00"), False)

        opening = repo.enqueue(meter_id, CommandKind.OPEN_ACCOUNT, params=params("100.00", 1))
        run_commands(repo, [opening])
        assert states(repo, opening) == [CommandState.SENT, CommandState.CONFIRMED]
        assert detail(repo, opening) == "purchase count 1, balance 0.00 → 100.00"
        assert wallet_of(sim, address, gateway) == (1, Decimal("100.00"), True)

        recharge = repo.enqueue(meter_id, CommandKind.RECHARGE, params=params("50.50", 2))
        run_commands(repo, [recharge])
        assert states(repo, recharge) == [CommandState.SENT, CommandState.CONFIRMED]
        assert detail(repo, recharge) == "purchase count 2, balance 100.00 → 150.50"
        assert wallet_of(sim, address, gateway) == (2, Decimal("150.50"), True)
        assert calls == ["applied", "applied"]
        latest = repo.latest[meter_id]  # the readings taken reach the stored status
        assert (latest.purchase_count, latest.remaining, latest.overdraft) == (
            2,
            Decimal("150.50"),
            Decimal("0.00"),
        )
        if meter_id == 1:
            assert sim.inspect(address, gateway)["customer_number"] == "000000000001"


@METERS
def test_a_repeated_claim_confirms_without_sending(meter_id, address, gateway):
    with simulator(SPEC) as sim:  # accounts opened: purchase count 1, customer = meter number
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        count, balance, _ = wallet_of(sim, address, gateway)
        assert count == 1
        given = params("30.00", 2, customer=address.zfill(12))
        first = repo.enqueue(meter_id, CommandKind.RECHARGE, params=given)
        run_commands(repo, [first])
        assert repo.state(first) is CommandState.CONFIRMED

        again = stranded(repo, meter_id, CommandKind.RECHARGE, given)
        run_commands(repo, [again])
        assert states(repo, again) == [CommandState.CONFIRMED]  # never sent
        assert detail(repo, again) == "already on the meter: it shows purchase count 2"
        assert calls == ["applied"]
        assert wallet_of(sim, address, gateway)[:2] == (2, balance + Decimal("30.00"))


@METERS
def test_a_lost_reply_credits_once(meter_id, address, gateway):
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway, lose_replies=1)
        _, balance, _ = wallet_of(sim, address, gateway)
        given = params("88.80", 2, customer=address.zfill(12))
        recharge = repo.enqueue(meter_id, CommandKind.RECHARGE, params=given)
        run_commands(repo, [recharge])
        assert states(repo, recharge) == [CommandState.SENT, CommandState.CONFIRMED]
        assert detail(repo, recharge) == (
            "reply lost; confirmed by reading back:"
            f" purchase count 2, balance {balance} → {balance + Decimal('88.80')}"
        )
        assert calls == ["applied"]
        assert wallet_of(sim, address, gateway)[:2] == (2, balance + Decimal("88.80"))


@METERS
def test_out_of_order_fails_and_leaves_the_meter_alone(meter_id, address, gateway):
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        before = wallet_of(sim, address, gateway)
        ahead = repo.enqueue(
            meter_id, CommandKind.RECHARGE, params=params("10.00", 3, address.zfill(12))
        )
        run_commands(repo, [ahead])
        assert states(repo, ahead) == [CommandState.FAILED]
        assert detail(repo, ahead) == "purchase count mismatch: meter has 1, this recharge is 3"
        assert calls == []
        assert wallet_of(sim, address, gateway) == before


@METERS
def test_a_wrong_master_key_is_refused(meter_id, address, gateway):
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        before = wallet_of(sim, address, gateway)
        other = MasterKey.from_hex("00112233445566778899AABBCCDDEEFF")
        recharge = repo.enqueue(
            meter_id, CommandKind.RECHARGE, params=params("10.00", 2, address.zfill(12))
        )
        run_commands(repo, [recharge], options=dataclasses.replace(OPTIONS, master_key=other))
        assert repo.state(recharge) is CommandState.FAILED
        if meter_id == 1:  # DL/T 645: identity authentication fails, the wallet never goes out
            assert states(repo, recharge) == [CommandState.FAILED]
            assert detail(repo, recharge) == (
                "refused by the meter: identity authentication failed (master key?) (SERR 0008)"
            )
        else:  # Modbus: the recharge write goes out, its MAC is refused
            assert states(repo, recharge) == [CommandState.SENT, CommandState.FAILED]
            assert detail(repo, recharge) == (
                "refused by the meter: ILLEGAL_DATA_VALUE"
                " (MAC, purchase count or hoarding limit not accepted)"
            )
        assert calls == []  # nothing reached the wallet
        assert wallet_of(sim, address, gateway) == before


def test_a_customer_number_mismatch_is_refused_with_its_serr():
    meter_id, address, gateway = DLT645_METER
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        before = wallet_of(sim, address, gateway)
        recharge = repo.enqueue(
            meter_id, CommandKind.RECHARGE, params=params("10.00", 2, "000000000009")
        )
        run_commands(repo, [recharge])
        assert states(repo, recharge) == [CommandState.SENT, CommandState.FAILED]
        assert detail(repo, recharge) == (
            "refused by the meter: customer number mismatch (SERR 0010)"
        )
        assert calls == ["refused"]
        assert wallet_of(sim, address, gateway) == before


@METERS
def test_recharge_needs_an_opened_account_and_open_account_a_new_one(meter_id, address, gateway):
    with simulator(SPEC, opening_balance=None) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        recharge = repo.enqueue(meter_id, CommandKind.RECHARGE, params=params("10.00", 1))
        run_commands(repo, [recharge])
        assert states(repo, recharge) == [CommandState.FAILED]
        assert detail(repo, recharge) == "account not opened on the meter"
        assert wallet_of(sim, address, gateway) == (0, Decimal("0.00"), False)
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        before = wallet_of(sim, address, gateway)
        opening = repo.enqueue(meter_id, CommandKind.OPEN_ACCOUNT, params=params("10.00", 2))
        run_commands(repo, [opening])
        assert states(repo, opening) == [CommandState.FAILED]
        assert detail(repo, opening) == "account already opened on the meter (purchase count 1)"
        assert wallet_of(sim, address, gateway) == before
    assert calls == []


@METERS
def test_a_headend_killed_between_sending_and_confirming_credits_once(meter_id, address, gateway):
    """The line worker dies the moment ``sent`` is recorded (the meter has the money, nothing
    is confirmed); a new headend claims the command again (attempts 1), reads first and
    confirms it without sending."""
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = watch_wallet(sim, address, gateway)
        _, balance, _ = wallet_of(sim, address, gateway)
        given = params("66.60", 2, customer=address.zfill(12))
        recharge = repo.enqueue(meter_id, CommandKind.RECHARGE, params=given)

        async def killed() -> None:
            headend = Headend(repo, options=OPTIONS)
            task = asyncio.create_task(headend.run())
            loop = asyncio.get_running_loop()
            while not headend.workers:
                await asyncio.sleep(0.01)
            worker_task = headend.workers[1][2]
            finish = repo.finish_command

            def finish_then_die(outcome) -> None:
                finish(outcome)
                if outcome.state is CommandState.SENT:
                    loop.call_soon_threadsafe(worker_task.cancel)

            repo.finish_command = finish_then_die
            deadline = time.monotonic() + 15
            while not worker_task.done():
                assert time.monotonic() < deadline, "the worker never sent the recharge"
                await asyncio.sleep(0.01)
            await headend.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            repo.finish_command = finish

        asyncio.run(killed())
        assert repo.state(recharge) is CommandState.SENT
        assert calls == ["applied"]  # the meter has it; nobody confirmed it
        assert repo.commands[recharge].attempts == 1
        repo.commands[recharge].claimed_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # lease over

        run_commands(repo, [recharge])
        assert states(repo, recharge) == [CommandState.SENT, CommandState.CONFIRMED]
        assert detail(repo, recharge) == "already on the meter: it shows purchase count 2"
        assert calls == ["applied"]
        assert wallet_of(sim, address, gateway)[:2] == (2, balance + Decimal("66.60"))


def test_no_master_key_fails_before_sending():
    meter_id, address, _ = DLT645_METER
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        recharge = repo.enqueue(meter_id, CommandKind.RECHARGE, params=params("10.00", 2, address))
        run_commands(repo, [recharge], options=FAST)
        assert states(repo, recharge) == [CommandState.FAILED]
        assert detail(repo, recharge) == (
            "cannot send: no master key configured (OPENPREPAID_MASTER_KEY)"
        )


def test_money_parameters_are_checked():
    order = MoneyOrder.from_params(
        CommandKind.RECHARGE,
        {"amount": "12.5", "purchase_count": 4, "customer": "42"},
        modbus=False,
    )
    assert (order.amount, order.purchase_count, order.customer) == (
        Decimal("12.50"),
        4,
        "000000000042",
    )
    bad = [
        {"amount": "1.005", "purchase_count": 2, "customer": "1"},
        {"amount": "-1.00", "purchase_count": 2, "customer": "1"},
        {"amount": 1.5, "purchase_count": 2, "customer": "1"},
        {"amount": "1.00", "purchase_count": 0, "customer": "1"},
        {"amount": "1.00", "purchase_count": True, "customer": "1"},
        {"amount": "1.00", "purchase_count": 2, "customer": "12345678901234"},
    ]
    for given in bad:
        with pytest.raises(MoneyError):
            MoneyOrder.from_params(CommandKind.RECHARGE, given, modbus=False)
    assert UNCONFIRMED == "unconfirmed: "


def test_the_four_digit_purchase_count_of_dlt645_is_unwrapped_near_the_order():
    assert unwrap_count(1, 2, 10_000) == 1
    assert unwrap_count(9_999, 10_000, 10_000) == 9_999
    assert unwrap_count(0, 10_000, 10_000) == 10_000
    assert unwrap_count(1, 10_002, 10_000) == 10_001
    assert unwrap_count(5, 2, 1 << 32) == 5
