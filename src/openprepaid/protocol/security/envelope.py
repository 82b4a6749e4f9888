"""Sealing a protected payload: encrypt-then-MAC under the session keys.

``ciphertext = 3DES-CBC(SK_enc, IV = 00…00, plaintext ‖ 80 00…)`` (16 bytes for every command
of the scheme), then
``MAC = leftmost 4 bytes of retail-MAC(SK_mac, command id (4) ‖ address (6) ‖ ciphertext)``
with ISO/IEC 9797-1 padding method 2. The payload is ``ciphertext ‖ MAC``. The command id is the
DI (DI3 first) for the 03 commands and ``1C 98 00 00`` for remote control; the address is the
meter's 6 BCD bytes in printed order. Binding both into the MAC makes a payload useless for
another command or another meter even before the session keys (which differ per meter) are
considered.
"""

from __future__ import annotations

from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.security.crypto import (
    cbc_decrypt,
    cbc_encrypt,
    pad_iso7816,
    retail_mac,
    same_bytes,
    unpad_iso7816,
)
from openprepaid.protocol.security.keys import SessionKeys, address_bytes
from openprepaid.protocol.security.messages import CIPHERTEXT_LENGTH, MAC_LENGTH, PROTECTED_LENGTH


class VerificationFailed(RemoteProtocolError):
    """A protected payload failed its MAC, length or padding check."""


def _mac(keys: SessionKeys, command_id: bytes, address: str, ciphertext: bytes) -> bytes:
    return retail_mac(keys.mac, command_id + address_bytes(address) + ciphertext)[:MAC_LENGTH]


def seal(keys: SessionKeys, command_id: bytes, address: str, plaintext: bytes) -> bytes:
    ciphertext = cbc_encrypt(keys.encryption, pad_iso7816(plaintext))
    return ciphertext + _mac(keys, command_id, address, ciphertext)


def unseal(keys: SessionKeys, command_id: bytes, address: str, payload: bytes) -> bytes:
    """Check the MAC first, then decrypt and unpad; :class:`VerificationFailed` otherwise."""
    if len(payload) != PROTECTED_LENGTH:
        raise VerificationFailed(f"protected payload is {len(payload)} bytes, not 20")
    ciphertext, mac = payload[:CIPHERTEXT_LENGTH], payload[CIPHERTEXT_LENGTH:]
    if not same_bytes(mac, _mac(keys, command_id, address, ciphertext)):
        raise VerificationFailed("MAC mismatch")
    try:
        return unpad_iso7816(cbc_decrypt(keys.encryption, ciphertext))
    except RemoteProtocolError as exc:
        raise VerificationFailed(str(exc)) from None
