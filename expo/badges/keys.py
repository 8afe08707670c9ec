"""The expo's badge-signing key pair, kept in the database with the private key encrypted.

The private key is stored as PKCS#8 encrypted with the app's secret key (``EXPO_SECRET_KEY``): a copy of the
database alone cannot mint badges. Changing the secret key therefore needs a new key pair (:func:`rotate`), after
which badges are reissued; scanners accept every key the expo still lists (:func:`public_keys`).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select, update

from expo.badges.models import SigningKey
from expo.db import utcnow
from expo.extensions import db
from expo.venue.models import Expo

_cache: dict[tuple[int, bytes], Ed25519PrivateKey] = {}


def _passphrase() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def active_key(expo: Expo) -> SigningKey:
    """The expo's active key pair, created on first use."""
    key = db.session.scalar(select(SigningKey).where(SigningKey.expo_id == expo.id, SigningKey.active.is_(True))
                            .order_by(SigningKey.id.desc()).limit(1))
    return key if key is not None else rotate(expo)


def rotate(expo: Expo) -> SigningKey:
    """A new active key pair for the expo; older ones stay listed for verification until removed."""
    private = Ed25519PrivateKey.generate()
    db.session.execute(update(SigningKey).where(SigningKey.expo_id == expo.id).values(active=False))
    key = SigningKey(
        expo_id=expo.id, created_at=utcnow(), active=True,
        public_key=private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        private_key_encrypted=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_passphrase())))
    db.session.add(key)
    db.session.flush()
    if key.id > 255:
        raise RuntimeError("badge codes number keys in one byte; remove old keys first")
    return key


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    """The decrypted private key (cached per process: decryption runs a deliberately slow key derivation)."""
    cache_key = (key.id, key.private_key_encrypted)
    found = _cache.get(cache_key)
    if found is None:
        found = serialization.load_pem_private_key(key.private_key_encrypted, password=_passphrase())
        assert isinstance(found, Ed25519PrivateKey)
        _cache[cache_key] = found
    return found


def public_keys(expo: Expo) -> dict[int, Ed25519PublicKey]:
    """Key number → public key, for every key of the expo (scanners verify codes signed by any of them)."""
    keys = db.session.scalars(select(SigningKey).where(SigningKey.expo_id == expo.id))
    return {k.id: Ed25519PublicKey.from_public_bytes(k.public_key) for k in keys}


def public_keys_b64(expo: Expo) -> dict[str, str]:
    """The same, as base64 of the raw 32 bytes, for the scanner app and the API."""
    return {str(k): base64.b64encode(v.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
            .decode() for k, v in public_keys(expo).items()}
