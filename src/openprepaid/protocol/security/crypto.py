"""Block-cipher building blocks of the meter security scheme, all from ``cryptography``.

Nothing here is a hand-written cipher: DES and 3DES come from the library's ``TripleDES``
(single DES is ``TripleDES`` with K1 = K2 = K3, the library's own recommended spelling), ECB and
CBC from its modes. What this module adds is the glue the scheme needs: ISO/IEC 7816-4 padding
(``80 00 …``, which is also ISO/IEC 9797-1 padding method 2) and the ISO/IEC 9797-1 MAC
algorithm 3 ("retail MAC", ANSI X9.19) built from those primitives.

Keys are plain ``bytes`` at this level; the key objects in :mod:`.keys` keep them out of reprs.
Error messages never include key or data bytes.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError

BLOCK = 8
ZERO_BLOCK = bytes(BLOCK)
TDES_KEY_LENGTHS = (16, 24)


def _tdes(key: bytes) -> TripleDES:
    if len(key) not in TDES_KEY_LENGTHS:
        raise LocalProtocolError(f"3DES key must be 16 or 24 bytes, got {len(key)}")
    # A two-key K1 ‖ K2 is three-key K1 ‖ K2 ‖ K1; spelling it out keeps the library from
    # warning about the deprecated 16-byte form.
    return TripleDES(key if len(key) == 24 else key + key[:BLOCK])


def _single_des(key: bytes) -> TripleDES:
    if len(key) != BLOCK:
        raise LocalProtocolError(f"DES key must be 8 bytes, got {len(key)}")
    return TripleDES(key * 3)  # K1 = K2 = K3: EDE collapses to single DES


def _check_blocks(data: bytes) -> None:
    if len(data) % BLOCK:
        raise LocalProtocolError(f"data length {len(data)} is not a multiple of {BLOCK}")


def ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """3DES-ECB encryption of whole blocks (two-key or three-key)."""
    _check_blocks(data)
    encryptor = Cipher(_tdes(key), modes.ECB()).encryptor()  # noqa: S305 - single-block KDF
    return encryptor.update(data) + encryptor.finalize()


def ecb_decrypt(key: bytes, data: bytes) -> bytes:
    """3DES-ECB decryption of whole blocks."""
    _check_blocks(data)
    decryptor = Cipher(_tdes(key), modes.ECB()).decryptor()  # noqa: S305 - single-block KDF
    return decryptor.update(data) + decryptor.finalize()


def cbc_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_BLOCK) -> bytes:
    """3DES-CBC encryption of whole blocks (no padding is added here)."""
    _check_blocks(data)
    encryptor = Cipher(_tdes(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def cbc_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_BLOCK) -> bytes:
    """3DES-CBC decryption of whole blocks (padding is not removed here)."""
    _check_blocks(data)
    decryptor = Cipher(_tdes(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def pad_iso7816(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding (= ISO/IEC 9797-1 method 2): ``80`` then ``00`` to a block edge.

    Always adds at least one byte, so a whole block of ``80 00 …`` follows aligned data.
    """
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % BLOCK)


def unpad_iso7816(data: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding; :class:`RemoteProtocolError` when it is malformed."""
    if not data or len(data) % BLOCK:
        raise RemoteProtocolError("padded data is empty or not whole blocks")
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= BLOCK:
        raise RemoteProtocolError("bad ISO 7816-4 padding")
    return stripped[:-1]


def retail_mac(key: bytes, data: bytes, *, pad: bool = True) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (retail MAC, ANSI X9.19) with a 16-byte key K ‖ K'.

    Initial transformation 1 (zero IV); DES-CBC under K over every block; output transformation
    3: the last block is decrypted under K' and encrypted again under K. With ``pad`` the data
    are first padded by method 2 (``80 00 …``); without it they must already be whole blocks
    (method 1 callers pad with zeros themselves). Returns the full 8-byte MAC; callers truncate
    (the scheme keeps the leftmost 4 bytes).
    """
    if len(key) != 2 * BLOCK:
        raise LocalProtocolError(f"retail-MAC key must be 16 bytes, got {len(key)}")
    if pad:
        data = pad_iso7816(data)
    if not data:
        raise LocalProtocolError("retail MAC needs at least one block")
    _check_blocks(data)
    k_left = key[:BLOCK]
    head, last = data[:-BLOCK], data[-BLOCK:]
    chain = ZERO_BLOCK
    if head:
        encryptor = Cipher(_single_des(k_left), modes.CBC(ZERO_BLOCK)).encryptor()
        chain = (encryptor.update(head) + encryptor.finalize())[-BLOCK:]
    # E_K(D_K'(E_K(x))) on the last chained block is exactly two-key 3DES-EDE under K ‖ K'.
    return ecb_encrypt(key, xor(chain, last))


def xor(left: bytes, right: bytes) -> bytes:
    if len(left) != len(right):
        raise LocalProtocolError("xor of blocks of different lengths")
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def same_bytes(left: bytes, right: bytes) -> bool:
    """Constant-time comparison for MACs and authentication cryptograms."""
    return hmac.compare_digest(left, right)
