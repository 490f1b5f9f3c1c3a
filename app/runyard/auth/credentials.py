"""Passwords and API tokens: how they are made, stored and checked.

Passwords are hashed with scrypt (memory-hard: N=2**15, r=8, p=1, 32 MiB per guess) and a
random 16-byte salt; the stored form names its parameters so they can be raised later without
breaking old hashes. Tokens are 256 random bits; only their SHA-256 is stored, which is enough
for a value no one can guess (unlike a password, a token needs no slow hash). Every comparison
is constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from datetime import timedelta

from runyard.errors import InvalidParameterValue

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
TOKEN_PREFIX = "ryt_"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def check_username(username: object) -> str:
    text = str(username or "")
    if not USERNAME_PATTERN.match(text):
        raise InvalidParameterValue(
            "Username must be 1-128 characters: letters, digits and . _ @ + - "
            "(starting with a letter or digit)."
        )
    return text


def check_password(password: object) -> str:
    text = str(password or "")
    if len(text) < MIN_PASSWORD_LENGTH:
        raise InvalidParameterValue(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if len(text) > MAX_PASSWORD_LENGTH:
        raise InvalidParameterValue(f"Password must be at most {MAX_PASSWORD_LENGTH} characters.")
    return text


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` for a password that already passed ``check_password``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``; a missing or malformed hash never matches."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


class VerifiedPasswords:
    """(username, password) pairs already verified, keyed by an HMAC under a key that lives only
    in this process, mapped to the stored hash they matched. Bounded; never persisted."""

    def __init__(self, size: int = 10_000) -> None:
        self._key = secrets.token_bytes(32)
        self._size = size
        self._entries: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def _digest(self, username: str, password: str) -> bytes:
        message = username.encode("utf-8") + b"\0" + password.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, username: str, password: str) -> str | None:
        with self._lock:
            return self._entries.get(self._digest(username, password))

    def put(self, username: str, password: str, stored_hash: str) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[self._digest(username, password)] = stored_hash


#: A hash to check against when the user does not exist, so that answering takes as long.
DUMMY_PASSWORD_HASH = hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A fresh API token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


_DURATION = re.compile(r"^\s*(\d{1,12})\s*([smhdw]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}
#: The longest lifetime a token may be given: a century, far below what an expiry time (in
#: milliseconds, a 64-bit integer) or a ``timedelta`` can hold.
MAX_DURATION = timedelta(days=36_500)


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``2w``, ``30m``, ``45s`` (a bare number is days)."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise InvalidParameterValue(
            f"Invalid duration {text[:40]!r}: use a positive number with s, m, h, d or w, e.g. 90d."
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidParameterValue(f"Invalid duration {text!r}: at most {MAX_DURATION.days} days.")
    return timedelta(seconds=seconds)
