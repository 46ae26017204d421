"""Cryptography of the service: field encryption, blind index, password and token hashing.

Keys come from Settings.keys and are never stored in the database. Everything here is
built once per process: AESGCM and HMAC key objects are cheap to use but not free to make.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_FORMAT_V1 = b"\x01"  # leading byte so a later key rotation can tell old ciphertexts apart
_NONCE_BYTES = 12  # 96-bit random nonce, the size AES-GCM is specified for


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted: wrong key, or the row was tampered with."""


class FieldCipher:
    """AES-256-GCM for personal data at rest, plus an HMAC-SHA256 blind index for lookup.

    ``aad`` binds a ciphertext to where it is stored (table, column, row id), so a value
    copied into another row or column fails to decrypt instead of silently moving.
    """

    def __init__(self, encryption_key: bytes, hmac_key: bytes) -> None:
        if len(encryption_key) != 32 or len(hmac_key) != 32:
            raise ValueError("keys must be 32 bytes")
        self._aead = AESGCM(encryption_key)
        self._hmac_key = hmac_key

    def encrypt(self, plaintext: str, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext.encode(), aad)

    def decrypt(self, blob: bytes, aad: bytes) -> str:
        if blob[:1] != _FORMAT_V1:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, aad).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not match key or location") from exc

    def encrypt_optional(self, plaintext: str | None, aad: bytes) -> bytes | None:
        return None if plaintext is None else self.encrypt(plaintext, aad)

    def decrypt_optional(self, blob: bytes | None, aad: bytes) -> str | None:
        return None if blob is None else self.decrypt(blob, aad)

    def blind_index(self, normalised: str, purpose: bytes = b"id") -> bytes:
        """Deterministic keyed digest for exact lookup; the caller normalises first."""
        return hmac.new(self._hmac_key, purpose + b":" + normalised.encode(), "sha256").digest()

    def fingerprint(self, *parts: bytes) -> bytes:
        """Keyed digest of a request: a plain hash of a body holding an ID number could be
        reversed by trying every number, a keyed one cannot."""
        mac = hmac.new(self._hmac_key, b"fingerprint", "sha256")
        for part in parts:
            mac.update(len(part).to_bytes(8, "big"))
            mac.update(part)
        return mac.digest()


# --- passwords -----------------------------------------------------------------------

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Verified when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_LENGTH = 16  # ≈ 95 bits; no punctuation so it survives being read out at a counter


def generate_password() -> str:
    while True:
        pw = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_PASSWORD_LENGTH))
        # at least one of each class, so it passes any site policy a county might add
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
        ):
            return pw


# --- session tokens ------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> bytes:
    """SHA-256 is enough here: the token has 256 bits of entropy, nothing to brute-force."""
    return hashlib.sha256(token.encode()).digest()
