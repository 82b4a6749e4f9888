"""Money on the meter (local cost control): open account and recharge, each exactly once.

The meter's purchase count is the idempotency key. A command carries the purchase count ``N``
the billing services allocated (params ``{"amount": "100.00", "purchase_count": N,
"customer": "000000000001"}``) and is carried out so:

1. **Read first**, every time (a first claim, a claim after a restart, a retry): the meter's
   purchase count, balance (remaining − overdraft) and whether its account is open. A count of
   ``N`` or more means the purchase is already on the meter (a reply lost, a headend killed
   between sending and confirming): confirmed **without sending**. A count other than ``N − 1``
   fails (never sent out of order); so does open account on a meter already opened and
   recharge on a meter not yet opened.
2. **Send**: DL/T 645 — identity authentication, then the sealed wallet command (3DES + MAC over
   amount in fen, purchase count, customer number); Modbus — the recharge write with its MAC
   (the meter number the key is diversified by is read from the meter, 1040H). ``sent`` is
   reported once the wallet command has been on the wire.
3. **Read back**: confirmed only when the meter shows count ``N`` and its balance rose. A lost
   reply is decided by the read-back too; a refusal (SERR bits, a Modbus exception) fails with
   the decoded error, unless the read-back shows the purchase already on the meter. Up to
   ``retries`` sends, and never another one once a read-back shows count ``N``.

Every reading taken goes into the execution's readings, so the stored meter status follows.

A failed command with a detail starting with :data:`UNCONFIRMED` may be on the meter (sent, but
no read-back settled it); every other failure was certainly not applied by this command. Either
way the same command (same purchase count) can be queued again safely: the read-first rule
confirms it without sending when the meter already has it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from openprepaid.calc.money import AmountError, parse_money
from openprepaid.headend.bus import LineBus
from openprepaid.headend.model import (
    CommandKind,
    CommandOrder,
    CommandState,
    MeterTarget,
    Reading,
)
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.reader import MONEY, PollError, is_modbus, modbus_read, poll
from openprepaid.headend.transport import ReplyTimeout
from openprepaid.protocol.dlt645 import SecurityAbnormalReply, SecurityErrorFlags, SecurityReply
from openprepaid.protocol.dlt645 import profile as dlt
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.modbus import ExceptionCode, ExceptionResponse, acrel
from openprepaid.protocol.modbus.pdu import ReadHoldingRegistersRequest
from openprepaid.protocol.modbus.profile import modbus_profile
from openprepaid.protocol.security import MasterSecurity, modbus_recharge_request
from openprepaid.protocol.security.messages import normalise_customer_number, yuan_to_fen

#: Prefix of the detail of a failure that may nevertheless be on the meter.
UNCONFIRMED = "unconfirmed: "
#: DL/T 645 shows the purchase count as 4 BCD digits (03330201); Modbus as a UINT32.
DLT645_COUNT_MODULUS = 10_000
MODBUS_COUNT_MODULUS = 1 << 32
_METER_NUMBER = ReadHoldingRegistersRequest(acrel.SIM_IDENTITY[0].address, 3)
_GATEWAY_NO_ANSWER = (
    ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND,
    ExceptionCode.GATEWAY_PATH_UNAVAILABLE,
)
_SERR_TEXT = {
    SecurityErrorFlags.OTHER: "other error",
    SecurityErrorFlags.REPEATED_RECHARGE: "repeated recharge",
    SecurityErrorFlags.ESAM_VERIFICATION_FAILED: "MAC or ciphertext not accepted",
    SecurityErrorFlags.AUTHENTICATION_FAILED: "identity authentication failed (master key?)",
    SecurityErrorFlags.CUSTOMER_NUMBER_MISMATCH: "customer number mismatch",
    SecurityErrorFlags.RECHARGE_COUNT_ERROR: "purchase count error",
    SecurityErrorFlags.PURCHASE_EXCEEDS_HOARDING_LIMIT: "purchase exceeds the hoarding limit",
    SecurityErrorFlags.REMOTE_AUTHENTICATION_LOCKED: "remote authentication locked",
}
_LABEL = {CommandKind.OPEN_ACCOUNT: "open account", CommandKind.RECHARGE: "recharge"}


def describe_serr(flags: SecurityErrorFlags) -> str:
    """The SERR word in words, with its hex value: ``"customer number mismatch (SERR 0010)"``."""
    words = [text for flag, text in _SERR_TEXT.items() if flag in flags]
    return f"{', '.join(words) or 'reserved bits'} (SERR {flags.value:04X})"


class MoneyError(ValueError):
    """Parameters a money command cannot be carried out with."""


@dataclass(frozen=True, slots=True)
class MoneyOrder:
    """A money command's parameters, checked."""

    kind: CommandKind
    amount: Decimal  # yuan, 2 decimals, >= 0
    purchase_count: int  # the count the meter shows once this purchase is on it
    customer: str  # 12 digits (DL/T 645); unused by Modbus meters

    @property
    def label(self) -> str:
        return _LABEL[self.kind]

    @classmethod
    def from_params(cls, kind: CommandKind, params: dict, *, modbus: bool) -> MoneyOrder:
        try:
            amount = parse_money(params.get("amount"), minimum=Decimal(0))
            yuan_to_fen(amount)
        except (AmountError, LocalProtocolError) as exc:
            raise MoneyError(f"amount: {exc}") from None
        count = params.get("purchase_count")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 0xFFFFFFFF:
            raise MoneyError(f"purchase_count must be a whole number from 1, not {count!r}")
        customer = str(params.get("customer") or "")
        if not modbus:
            try:
                customer = normalise_customer_number(customer)
            except LocalProtocolError as exc:
                raise MoneyError(str(exc)) from None
        return cls(CommandKind(kind), amount, count, customer)


@dataclass(frozen=True, slots=True)
class Wallet:
    """What a money read shows: the purchase count (unwrapped near the order's), the balance
    (``None`` when the meter did not show it) and whether the account is open."""

    count: int
    balance: Decimal | None
    opened: bool


class Sent(enum.Enum):
    ACCEPTED = "accepted"  # the meter answered yes
    LOST = "lost"  # the wallet command went out, no reply came back
    NOT_SENT = "not sent"  # no answer before it (authentication, meter number)


class Refused(Exception):
    """The meter said no; ``on_wire``: to the wallet command itself (not to what precedes it)."""

    def __init__(self, detail: str, *, on_wire: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.on_wire = on_wire


class Record(Protocol):
    """Where the readings and the number of sends go (``control.Execution``)."""

    readings: list[Reading]
    sends: int


Finish = Callable[[CommandState, str], Awaitable[None]]


def unwrap_count(shown: int, near: int, modulus: int) -> int:
    """The full purchase count whose last digits the meter shows: the count itself while the
    order's is below the modulus, else the one nearest to the order's."""
    if near < modulus:
        return shown
    offset = (shown - near) % modulus
    if offset > modulus // 2:
        offset -= modulus
    return near + offset


def balance_of(reading: Reading) -> Decimal | None:
    if reading.remaining is None or reading.overdraft is None:
        return None
    return reading.remaining - reading.overdraft


class MoneyCommand:
    """Carries out one open account or recharge on one meter (see the module docstring)."""

    def __init__(
        self,
        bus: LineBus,
        options: HeadendOptions,
        now: Callable[[], dt.datetime],
        finish: Finish,
        record: Record,
    ) -> None:
        self.bus = bus
        self.options = options
        self.now = now
        self.finish = finish
        self.record = record
        self._meter_number: str | None = None
        self.unread = ""  # why the last read found no purchase count

    async def run(self, order: CommandOrder, meter: MeterTarget) -> None:
        try:
            money = MoneyOrder.from_params(order.kind, order.params or {}, modbus=is_modbus(meter))
        except MoneyError as exc:
            await self.finish(CommandState.FAILED, f"bad parameters: {exc}")
            return
        maybe_sent = order.attempts > 0  # an earlier claim may have sent it
        wallet = await self._read(meter, money)
        if wallet is None:
            reason = f"{self.unread}: cannot read the meter's purchase count"
            await self._fail_unread(maybe_sent, reason)
            return
        if wallet.count >= money.purchase_count:
            detail = f"already on the meter: it shows purchase count {wallet.count}"
            await self.finish(CommandState.CONFIRMED, detail)
            return
        problem = self._refuse_before(money, wallet)
        if problem:
            await self.finish(CommandState.FAILED, problem)
            return
        if self.options.master_key is None:
            detail = "cannot send: no master key configured (OPENPREPAID_MASTER_KEY)"
            await self.finish(CommandState.FAILED, detail)
            return
        await self._send_and_confirm(money, meter, wallet.balance)

    # --- deciding ------------------------------------------------------------------------------

    def _refuse_before(self, money: MoneyOrder, wallet: Wallet) -> str:
        """Why ``money`` must not be sent to a meter showing ``wallet`` ("" when it may)."""
        if money.kind is CommandKind.OPEN_ACCOUNT and wallet.opened:
            return f"account already opened on the meter (purchase count {wallet.count})"
        if money.kind is CommandKind.RECHARGE and not wallet.opened:
            return "account not opened on the meter"
        if wallet.count != money.purchase_count - 1:
            return (
                f"purchase count mismatch: meter has {wallet.count},"
                f" this {money.label} is {money.purchase_count}"
            )
        return ""

    def _settle(self, money: MoneyOrder, wallet: Wallet, before: Decimal | None) -> str | None:
        """After sending: the failure detail, ``None`` to confirm. Call only with count >= N."""
        after = wallet.balance
        rose = before is None or after is None or money.amount == 0 or after > before
        if wallet.count == money.purchase_count and not rose:
            return (
                f"{UNCONFIRMED}the meter shows purchase count {wallet.count} but its balance"
                f" did not rise ({before} → {after})"
            )
        return None

    def _confirmation(self, wallet: Wallet, before: Decimal | None) -> str:
        if before is None or wallet.balance is None:
            return f"purchase count {wallet.count}"
        return f"purchase count {wallet.count}, balance {before} → {wallet.balance}"

    async def _fail_unread(self, maybe_sent: bool, reason: str) -> None:
        prefix = UNCONFIRMED if maybe_sent else ""
        await self.finish(CommandState.FAILED, prefix + reason)

    # --- the exchange --------------------------------------------------------------------------

    async def _send_and_confirm(
        self, money: MoneyOrder, meter: MeterTarget, before: Decimal | None
    ) -> None:
        n = money.purchase_count
        sent = False
        last = "no reply"
        for _ in range(max(1, self.options.retries)):
            try:
                result = await self._send(money, meter)
            except Refused as refusal:
                if refusal.on_wire:
                    await self._mark_sent(sent)
                    sent = True
                    wallet = await self._read(meter, money)
                    if wallet is not None and wallet.count >= n:
                        # A repeat refused: an earlier send (a lost reply) already put it there.
                        detail = "the meter refused a repeat; already on the meter: it shows"
                        await self.finish(
                            CommandState.CONFIRMED, f"{detail} purchase count {wallet.count}"
                        )
                        return
                await self.finish(CommandState.FAILED, f"refused by the meter: {refusal.detail}")
                return
            if result is Sent.NOT_SENT:
                last = "no reply before the wallet command was sent"
                continue
            await self._mark_sent(sent)
            sent = True
            wallet = await self._read(meter, money)
            if wallet is None:
                reason = f"sent, but the read-back failed ({self.unread})"
                await self._fail_unread(True, reason)
                return
            if wallet.count >= n:
                failure = self._settle(money, wallet, before)
                if failure is not None:
                    await self.finish(CommandState.FAILED, failure)
                    return
                detail = self._confirmation(wallet, before)
                if result is Sent.LOST:
                    detail = f"reply lost; confirmed by reading back: {detail}"
                await self.finish(CommandState.CONFIRMED, detail)
                return
            if wallet.count != n - 1:
                detail = f"purchase count mismatch after sending: meter has {wallet.count}"
                await self.finish(CommandState.FAILED, f"{detail}, this {money.label} is {n}")
                return
            if result is Sent.ACCEPTED:
                detail = f"the meter accepted it but still shows purchase count {wallet.count}"
                await self.finish(CommandState.FAILED, detail)
                return
            last = f"no reply, and the meter still shows purchase count {wallet.count}"
        await self.finish(CommandState.FAILED, last)

    async def _mark_sent(self, already: bool) -> None:
        self.record.sends += 1
        if not already:
            await self.finish(CommandState.SENT, "")

    async def _read(self, meter: MeterTarget, money: MoneyOrder) -> Wallet | None:
        """Purchase count, balance, account opened; ``None`` (and :attr:`unread` says why) if
        the meter never answered or does not show its purchase count."""
        self.unread = "no reply"
        for _ in range(max(1, self.options.retries)):
            try:
                reading = await poll(self.bus, meter, MONEY, self.now)
            except PollError as exc:
                self.unread = "no reply" if exc.reason == "timeout" else exc.reason
                continue
            self.record.readings.append(reading)
            if reading.purchase_count is None:
                self.unread = "the meter does not show its purchase count"
                return None
            modulus = MODBUS_COUNT_MODULUS if is_modbus(meter) else DLT645_COUNT_MODULUS
            count = unwrap_count(reading.purchase_count, money.purchase_count, modulus)
            opened = reading.account_opened
            if opened is None:  # Modbus meters (and a refused status word): opened by a purchase
                opened = count > 0
            return Wallet(count, balance_of(reading), opened)
        return None

    async def _send(self, money: MoneyOrder, meter: MeterTarget) -> Sent:
        master_key = self.options.master_key
        assert master_key is not None
        master = MasterSecurity(master_key)
        try:
            if is_modbus(meter):
                return await self._send_modbus(master, money, meter)
            return await self._send_dlt645(master, money, meter)
        except LocalProtocolError as exc:
            raise Refused(f"cannot express the command: {exc}", on_wire=False) from None

    async def _send_dlt645(self, master: MasterSecurity, money: MoneyOrder, meter: MeterTarget):
        profile = dlt.dlt645_profile(meter.profile)
        address, operator = meter.address, self.options.operator
        auth = master.begin_authentication(address)
        try:
            reply = await self.bus.dlt645(
                profile.authenticate(address, auth.payload, operator=operator)
            )
        except ReplyTimeout:
            return Sent.NOT_SENT
        if isinstance(reply, SecurityAbnormalReply):
            raise Refused(describe_serr(reply.error), on_wire=False)
        if not isinstance(reply, SecurityReply) or reply.di != auth.di:
            detail = f"unexpected reply {type(reply).__name__} to the identity authentication"
            raise Refused(detail, on_wire=False)
        try:
            session = master.complete_authentication(
                auth, reply.data, now=self.options.meter_now(self.now())
            )
        except RemoteProtocolError:
            return Sent.NOT_SENT  # a garbled answer: authenticate again
        seal = session.open_account if money.kind is CommandKind.OPEN_ACCOUNT else session.recharge
        sealed = seal(
            customer_number=money.customer,
            amount=money.amount,
            purchase_count=money.purchase_count,
        )
        build = profile.open_account if money.kind is CommandKind.OPEN_ACCOUNT else profile.recharge
        request = build(address, sealed, operator=operator)
        try:
            reply = await self.bus.dlt645(request)
        except ReplyTimeout:
            return Sent.LOST
        if isinstance(reply, SecurityAbnormalReply):
            raise Refused(describe_serr(reply.error), on_wire=True)
        if not isinstance(reply, SecurityReply) or reply.di != request.di:
            raise Refused(f"unexpected reply {type(reply).__name__}", on_wire=True)
        return Sent.ACCEPTED

    async def _send_modbus(self, master: MasterSecurity, money: MoneyOrder, meter: MeterTarget):
        if self._meter_number is None:
            try:
                registers = await modbus_read(self.bus, meter, _METER_NUMBER)
            except PollError:
                return Sent.NOT_SENT
            if registers is None:
                raise Refused("the meter does not show its meter number (1040H)", on_wire=False)
            register_map = modbus_profile(meter.profile).register_map
            values = register_map.decode_block(_METER_NUMBER.address, registers)
            self._meter_number = acrel.meter_number_from_values(values)
        request = modbus_recharge_request(
            master,
            amount=money.amount,
            purchase_count=money.purchase_count,
            meter_number=self._meter_number,
        )
        try:
            response = await self.bus.modbus(int(meter.address), request)
        except ReplyTimeout:
            return Sent.LOST
        if isinstance(response, ExceptionResponse):
            if response.exception in _GATEWAY_NO_ANSWER:
                return Sent.LOST
            name = ExceptionCode(response.exception).name
            if response.exception == ExceptionCode.ILLEGAL_DATA_VALUE:
                name += " (MAC, purchase count or hoarding limit not accepted)"
            raise Refused(name, on_wire=True)
        return Sent.ACCEPTED
