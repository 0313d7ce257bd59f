"""Users, roles, API tokens and browser sessions, stored in the event database.

Passwords are hashed with argon2id; API tokens and session cookies are random 256-bit values
of which only the SHA-256 is stored, so a copy of the database gives no way in. Roles are
ordered: viewer (read) < operator (zones, lines, acknowledge) < admin (sources, users, tokens).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shigu.core.errors import InputError
from shigu.store.models import SessionRow, TokenRow, UserRow

ROLES = ("viewer", "operator", "admin")
LEVEL = {name: i for i, name in enumerate(ROLES)}
SESSION_HOURS = 12
TOKEN_DAYS = 90  # API tokens expire; ask for up to ten years when a machine needs it


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (the one place passwords are hashed)."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; the same work when there is no such user,
    so response times do not tell which names exist."""
    if stored is None:
        _hasher.hash(password)
        return False
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        return LEVEL[self.role] >= LEVEL[role]


class Accounts:
    """User, token and session records on a SQLAlchemy engine."""

    def __init__(self, engine: Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        # token hash -> (user or None, valid until): spares two queries on every API call.
        # Revoking or deleting here clears it; another process's change shows within 5 s.
        self._cache: dict[str, tuple[User | None, float]] = {}
        self._cache_seconds = cache_seconds
        self._cache_lock = threading.Lock()

    def _forget(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    # ---------------------------------------------------------------- users
    def add_user(self, name: str, password: str, role: str = "viewer") -> User:
        if not NAME_RE.match(name):
            raise InputError(f"bad user name {name!r}", "use 1-64 letters, digits, _ . @ -")
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
        check_password_strength(password, name)
        with Session(self.engine) as s, s.begin():
            if s.get(UserRow, name) is not None:
                raise InputError(f"user {name!r} exists", "pick another name or delete it first")
            s.add(
                UserRow(
                    name=name,
                    password_hash=hash_password(password),
                    role=role,
                    created=datetime.now(UTC),
                )
            )
        return User(name, role)

    def set_password(self, name: str, password: str) -> None:
        """A new password; the user's sessions end (tokens stay: they are revoked on their own)."""
        check_password_strength(password, name)
        self._forget()
        with Session(self.engine) as s, s.begin():
            row = s.get(UserRow, name)
            if row is None:
                raise InputError(f"no user {name!r}", "see `shigu users list`")
            row.password_hash = hash_password(password)
            s.execute(delete(SessionRow).where(SessionRow.user == name))

    def users(self) -> list[User]:
        with Session(self.engine) as s:
            return [User(r.name, r.role) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, name: str) -> User | None:
        with Session(self.engine) as s:
            row = s.get(UserRow, name)
            return User(row.name, row.role) if row else None

    def delete_user(self, name: str) -> bool:
        self._forget()
        with Session(self.engine) as s, s.begin():
            row = s.get(UserRow, name)
            if row is None:
                return False
            s.delete(row)
            s.execute(delete(SessionRow).where(SessionRow.user == name))
            for tok in s.scalars(select(TokenRow).where(TokenRow.user == name)):
                tok.revoked = tok.revoked or datetime.now(UTC)
        return True

    def check_password(self, name: str, password: str) -> User | None:
        with Session(self.engine) as s:
            row = s.get(UserRow, name)
            stored = row.password_hash if row else None
            user = User(row.name, row.role) if row else None
        return user if verify_password(stored, password) else None

    # ---------------------------------------------------------------- tokens
    def create_token(self, user: str, name: str, days: int = TOKEN_DAYS) -> tuple[str, str]:
        """(token id, the token itself: shown once, never stored); valid for ``days``."""
        if self.get_user(user) is None:
            raise InputError(f"no user {user!r}")
        if not 1 <= days <= 3650:
            raise InputError(f"a token's life of {days} days is out of range", "give 1 to 3650")
        token = "shg_" + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(8)
        with Session(self.engine) as s, s.begin():
            s.add(
                TokenRow(
                    id=token_id,
                    token_hash=_sha(token),
                    name=name[:128],
                    user=user,
                    created=datetime.now(UTC),
                    expires=datetime.now(UTC) + timedelta(days=days),
                )
            )
        return token_id, token

    def tokens(self) -> list[dict[str, object]]:
        with Session(self.engine) as s:
            return [
                {
                    "id": t.id,
                    "name": t.name,
                    "user": t.user,
                    "created": t.created.isoformat(),
                    "revoked": t.revoked.isoformat() if t.revoked else None,
                    "expires": _aware(t.expires).isoformat() if t.expires else None,
                }
                for t in s.scalars(select(TokenRow).order_by(TokenRow.created))
            ]

    def revoke_token(self, token_id: str) -> bool:
        self._forget()
        with Session(self.engine) as s, s.begin():
            row = s.get(TokenRow, token_id)
            if row is None:
                return False
            row.revoked = row.revoked or datetime.now(UTC)
        return True

    def user_for_token(self, token: str) -> User | None:
        key = _sha(token)
        now = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        with Session(self.engine) as s:
            row = s.scalar(select(TokenRow).where(TokenRow.token_hash == key))
            found = None
            live = row is not None and row.revoked is None
            if live and row is not None and row.expires is not None:
                live = _aware(row.expires) > datetime.now(UTC)
            if live and row is not None:
                user = s.get(UserRow, row.user)
                found = User(user.name, user.role) if user else None
        with self._cache_lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (found, now + self._cache_seconds)
        return found

    # ---------------------------------------------------------------- sessions
    def purge_sessions(self) -> int:
        """Delete expired sessions (each sign-in does it); how many went."""
        with Session(self.engine) as s, s.begin():
            gone = s.execute(delete(SessionRow).where(SessionRow.expires < datetime.now(UTC)))
        return int(getattr(gone, "rowcount", 0) or 0)

    def create_session(self, user: str) -> str:
        self.purge_sessions()
        value = secrets.token_urlsafe(32)
        with Session(self.engine) as s, s.begin():
            s.add(
                SessionRow(
                    token_hash=_sha(value),
                    user=user,
                    expires=datetime.now(UTC) + timedelta(hours=SESSION_HOURS),
                )
            )
        return value

    def user_for_session(self, value: str) -> User | None:
        with Session(self.engine) as s:
            row = s.get(SessionRow, _sha(value))
            if row is None:
                return None
            if _aware(row.expires) < datetime.now(UTC):
                return None
            user = s.get(UserRow, row.user)
            return User(user.name, user.role) if user else None

    def end_session(self, value: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(SessionRow).where(SessionRow.token_hash == _sha(value)))


# the most common passwords of public breach lists (a short list: length does the rest)
_COMMON = """password password1 password123 12345678 123456789 1234567890 qwerty123 qwertyuiop
    11111111 00000000 iloveyou abc12345 admin123 administrator letmein1 welcome1 welcome123
    changeme sunshine1 football1 baseball1 monkey123 dragon123 master123 passw0rd p@ssw0rd
    shigu123 camera123 security trustno1 superman1 princess1 1q2w3e4r 1qaz2wsx zaq12wsx
    qwerty12 asdfghjk 87654321 88888888 66666666 a1b2c3d4 aa123456"""
COMMON_PASSWORDS = frozenset(_COMMON.split())


def check_password_strength(password: str, name: str = "") -> None:
    """At least 8 characters, not a well-known password, not the user name."""
    if len(password) < 8:
        raise InputError("password too short", "use at least 8 characters")
    if password.lower() in COMMON_PASSWORDS or (name and password.lower() == name.lower()):
        raise InputError(
            "that password is among the most common ones (or is the user name)",
            "choose a longer, less guessable password (a few random words work well)",
        )


class LoginLimiter:
    """At most ``attempts`` failed logins per key in ``window`` seconds; further attempts
    are refused until the window has passed. Keys starting ``user:`` (a name from every
    address together) allow ``user_attempts``: a slower, global limit, so that guessing from
    many addresses is still bounded, while the strict limit applies per address and per
    (address, name), and a stranger cannot lock a user out from their own address by
    failing five times."""

    MAX_KEYS = 10_000  # addresses and names remembered at once; the oldest go first

    def __init__(self, attempts: int = 5, window: float = 60.0, user_attempts: int = 30) -> None:
        self.attempts = attempts
        self.user_attempts = user_attempts
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        """Recent failures of ``key`` (an empty, unstored deque for a key never seen: asking
        about a name must not make the limiter remember it)."""
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def _prune(self, now: float) -> None:
        """Forget expired keys; past ``MAX_KEYS`` forget the least recently failed too, so a
        flood of new names cannot grow memory without bound."""
        for key in [k for k, q in self._fails.items() if not q or now - q[-1] > self.window]:
            del self._fails[key]
        excess = len(self._fails) - self.MAX_KEYS
        if excess > 0:
            for key in sorted(self._fails, key=lambda k: self._fails[k][-1])[:excess]:
                del self._fails[key]

    def _wait(self, keys: tuple[str, ...], now: float) -> float:
        """Seconds until any of ``keys`` may try again (0: now); the caller holds the lock."""
        waits = [
            self.window - (now - q[0])
            for k, q in ((k, self._recent(k, now)) for k in keys)
            if len(q) >= (self.user_attempts if k.startswith("user:") else self.attempts)
        ]
        return max(waits, default=0.0)

    def retry_after(self, *keys: str) -> float:
        """Seconds to wait before another attempt (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            return self._wait(keys, now)

    def reserve(self, *keys: str) -> float:
        """Count an attempt before checking the password, atomically with the limit check:
        0 when it may go on (a success then clears it), else the seconds to wait. Checking
        first and recording the failure after the slow hash let parallel guesses through."""
        now = time.monotonic()
        with self._lock:
            wait = self._wait(keys, now)
            if wait > 0:
                return wait
            for k in keys:
                self._fails.setdefault(k, deque()).append(now)
            if len(self._fails) > self.MAX_KEYS:
                self._prune(now)
        return 0.0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now)
                self._fails.setdefault(k, deque()).append(now)
            if len(self._fails) > self.MAX_KEYS:
                self._prune(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
