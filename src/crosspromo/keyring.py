"""Sealing values at rest under the secret key, with rotation.

A sealed value is ``v1:`` and the base64 of an XSalsa20-Poly1305 box (libsodium's secretbox,
random nonce) under a key derived from CROSSPROMO_SECRET_KEY. Opening tries the current key
and then CROSSPROMO_OLD_SECRET_KEYS, and says when an old one was needed so the caller can
seal the value again under the current key. A value without the prefix was stored before
sealing existed: it is read as it is and counts as stale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from crosspromo.config import Settings
from crosspromo.errors import ConfigError

PREFIX = "v1:"


def _box(secret: str) -> SecretBox:
    return SecretBox(hmac.digest(secret.encode(), b"crosspromo/seal/v1", hashlib.sha256))


def seal(settings: Settings, plaintext: str) -> str:
    """``plaintext`` sealed under the current secret key."""
    box = _box(settings.secret_key.get_secret_value())
    return PREFIX + base64.urlsafe_b64encode(bytes(box.encrypt(plaintext.encode()))).decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(settings: Settings, value: str) -> tuple[str, bool]:
    """The plaintext of ``value`` and whether it should be sealed again (an old key, or not
    sealed at all); ConfigError when no configured key opens it."""
    if not is_sealed(value):
        return value, True
    data = base64.urlsafe_b64decode(value.removeprefix(PREFIX))
    for index, secret in enumerate(settings.verification_keys):
        try:
            return _box(secret).decrypt(data).decode(), index > 0
        except CryptoError:
            continue
    raise ConfigError(
        "a value sealed at rest opens with neither CROSSPROMO_SECRET_KEY nor any of "
        "CROSSPROMO_OLD_SECRET_KEYS: list the key it was sealed under as an old key"
    )
