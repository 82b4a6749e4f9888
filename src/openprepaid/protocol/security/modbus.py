"""The Modbus recharge MAC: how an Acrel-profile meter knows a recharge write is genuine.

Modbus has no session or ciphertext: the recharge is one FC 0x10 write of amount, purchase
count and a 4-byte MAC (``acrel.recharge_request``). The MAC is keyed per meter:

* ``K_mb = 3DES-ECB(K_meter, "MODBUSRC" ‖ ("MODBUSRC" ⊕ FF…FF))`` (16 bytes, two-key 3DES),
  with ``K_meter`` the meter's diversified key (:meth:`MeterKey.derive`, by meter number);
* ``MAC = leftmost 4 bytes of retail-MAC(K_mb, "MBRC" ‖ amount in fen (u32 BE) ‖ purchase count
  (u32 BE))``, ISO/IEC 9797-1 padding method 2.

A MAC is therefore good for exactly one meter, amount and purchase count; replay protection is
the purchase-count rule (count = stored + 1), as for the DL/T 645 wallet commands.
"""

from __future__ import annotations

from decimal import Decimal

from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.modbus.acrel import recharge_request
from openprepaid.protocol.modbus.pdu import WriteMultipleRegistersRequest
from openprepaid.protocol.security.crypto import ecb_encrypt, retail_mac, same_bytes
from openprepaid.protocol.security.keys import MeterKey
from openprepaid.protocol.security.master import MasterSecurity
from openprepaid.protocol.security.messages import MAC_LENGTH, MAX_U32, yuan_to_fen

RECHARGE_LABEL = b"MBRC"
KEY_LABEL = b"MODBUSRC"


def _recharge_key(meter_key: MeterKey) -> bytes:
    inverted = bytes(b ^ 0xFF for b in KEY_LABEL)
    return ecb_encrypt(meter_key.secret, KEY_LABEL + inverted)


def _u32(value: int, what: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_U32:
        raise LocalProtocolError(f"{what} must be an integer in 0..{MAX_U32}")
    return value.to_bytes(4, "big")


def modbus_recharge_mac(meter_key: MeterKey, *, amount_fen: int, purchase_count: int) -> bytes:
    """The 4-byte MAC of a Modbus recharge of ``amount_fen`` as purchase ``purchase_count``."""
    data = RECHARGE_LABEL + _u32(amount_fen, "amount") + _u32(purchase_count, "purchase count")
    return retail_mac(_recharge_key(meter_key), data)[:MAC_LENGTH]


def verify_modbus_recharge_mac(
    meter_key: MeterKey, *, amount_fen: int, purchase_count: int, mac: bytes
) -> bool:
    """The meter's check (constant time)."""
    expected = modbus_recharge_mac(meter_key, amount_fen=amount_fen, purchase_count=purchase_count)
    return same_bytes(expected, mac)


def modbus_recharge_request(
    key: MasterSecurity | MeterKey,
    *,
    amount: Decimal,
    purchase_count: int,
    meter_number: str | None = None,
) -> WriteMultipleRegistersRequest:
    """The FC 0x10 recharge write for one meter: ``key`` is the meter's own key, or the site's
    :class:`MasterSecurity` together with the meter number the key is diversified by."""
    if isinstance(key, MasterSecurity):
        if meter_number is None:
            raise LocalProtocolError("a master key needs the meter number")
        key = key.meter_key(meter_number)
    mac = modbus_recharge_mac(key, amount_fen=yuan_to_fen(amount), purchase_count=purchase_count)
    return recharge_request(amount, purchase_count, mac)
