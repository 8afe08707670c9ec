"""Badge codes: a compact payload signed with Ed25519, verifiable offline with the expo's public key.

The QR code of a badge holds 117 characters of RFC 4648 base32 (``A``–``Z``, ``2``–``7``, no padding), which QR's
alphanumeric mode packs at 5.5 bits a character: a version 6 code at error-correction level M. Small enough to print
on a 62 mm label and to scan at arm's length. The 73 bytes behind it:

====== ====== ============================================================
bytes  field  meaning
====== ====== ============================================================
0      ver    format version (1)
1      kid    the number of the signing key (keys can be rotated)
2–5    badge  the badge id, unsigned big-endian
6      serial the badge's issue number: a reissue gets the next one
7–8    type   the badge type id (scanners know its days and halls offline)
9–72   sig    Ed25519 signature over bytes 0–8
====== ====== ============================================================

One changed character changes a byte of the payload or of the signature, and :func:`verify` refuses it. A revoked
badge still verifies (the signature is genuine); the revocation list (badge id and serial) refuses it, online in
the database and offline in the scanner's copy of the list.

Pure: no Flask and no database here. :mod:`expo.badges.keys` keeps the expo's key pair.
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
_BODY = struct.Struct(">BBIBH")
SIGNATURE_BYTES = 64
PAYLOAD_BYTES = _BODY.size + SIGNATURE_BYTES  # 73
CODE_LENGTH = -(-PAYLOAD_BYTES * 8 // 5)  # 117 base32 characters


class InvalidCode(ValueError):
    """The text is not a badge code of ours: malformed, unknown key, or a signature that does not match."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # malformed, unknown_key, bad_signature


@dataclass(frozen=True)
class BadgeClaim:
    """What a verified code says."""

    key_id: int
    badge_id: int
    serial: int
    badge_type_id: int


def encode(private_key: Ed25519PrivateKey, key_id: int, badge_id: int, serial: int, badge_type_id: int) -> str:
    """The signed code of a badge: ``CODE_LENGTH`` characters of base32."""
    body = _BODY.pack(VERSION, key_id, badge_id, serial, badge_type_id)
    payload = body + private_key.sign(body)
    return base64.b32encode(payload).decode("ascii").rstrip("=")


def peek(code: str) -> BadgeClaim | None:
    """What ``code`` claims, read from its first 16 characters without checking anything (None: not a code of
    ours): which key to check it with, which badge to look up. Only :func:`verify` says whether to believe it."""
    head = normalize(code)[:_HEAD_CHARS]
    if not _HEAD.fullmatch(head):
        return None
    try:
        return _claim(int(head.translate(_AS_DIGITS), 32).to_bytes(_HEAD_CHARS * 5 // 8, "big"))
    except InvalidCode:
        return None


#: 16 base32 characters are 10 whole bytes: the 9 of the claim and the first of the signature.
_HEAD_CHARS = 16
_HEAD = re.compile(f"[A-Z2-7]{{{_HEAD_CHARS}}}")


def _claim(payload: bytes) -> BadgeClaim:
    version, key_id, badge_id, serial, badge_type_id = _BODY.unpack(payload[:_BODY.size])
    if version != VERSION:
        raise InvalidCode("malformed")
    return BadgeClaim(key_id, badge_id, serial, badge_type_id)


def verify(code: str, public_keys: dict[int, Ed25519PublicKey]) -> BadgeClaim:
    """The claim of ``code`` if its signature verifies with the public key it names; else :class:`InvalidCode`."""
    payload = _payload(code)  # decoded once: the claim and the signature come from the same bytes
    claim = _claim(payload)
    key = public_keys.get(claim.key_id)
    if key is None:
        raise InvalidCode("unknown_key")
    try:
        key.verify(payload[_BODY.size:], payload[:_BODY.size])
    except InvalidSignature:
        raise InvalidCode("bad_signature") from None
    return claim


def normalize(text: str) -> str:
    """What a scanner typed, as a code: surrounding blanks dropped, upper case (keyboard-wedge scanners with Caps
    Lock on, or phones that lower-case)."""
    return "".join(text.split()).upper()


def _payload(code: str) -> bytes:
    code = normalize(code)
    if not _CODE.fullmatch(code):
        raise InvalidCode("malformed")
    # Base32 as one big number: ``int`` reads the characters as base-32 digits, in C (the base64 module's decoder
    # is Python, and this is on every scan's path).
    bits = int(code.translate(_AS_DIGITS), 32)
    # The last character carries one spare bit: refuse a code that only decodes to the same bytes (one code per
    # badge, so that the scan log and duplicate checks can compare codes as text).
    if bits & 1:
        raise InvalidCode("malformed")
    return (bits >> 1).to_bytes(PAYLOAD_BYTES, "big")


_AS_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")
_CODE = re.compile(f"[A-Z2-7]{{{CODE_LENGTH}}}")
