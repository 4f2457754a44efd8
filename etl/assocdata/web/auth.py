"""Documentalists' accounts, sessions and the CSRF token of every form.

- Passwords are hashed with scrypt (standard library, memory-hard), a random
  salt each; only ``scrypt$n$r$p$salt$hash`` is stored.
- A session is a random cookie value; the database keeps its SHA-256 only,
  so a copy of web.session opens nothing. Sessions expire after
  :data:`SESSION_HOURS`.
- CSRF: a per-browser random token in a cookie (SameSite=Strict) that every
  form repeats in a hidden field (the double-submit pattern); a POST whose
  field does not match the cookie is refused. Another site can make a browser
  send the cookie, but cannot read it to fill the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import psycopg

SESSION_COOKIE = "assocdata_session"
CSRF_COOKIE = "assocdata_csrf"
CSRF_FIELD = "csrf"
SESSION_HOURS = 12
_N, _R, _P = 2**14, 8, 1


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def create_account(conn: psycopg.Connection, username: str, password: str) -> None:
    """Create (or reset the password of) a documentalist account: the CLI's job."""
    conn.execute(
        """INSERT INTO web.account (username, password_hash) VALUES (%s, %s)
           ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
                                                 disabled = false""",
        [username, hash_password(password)])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def login(conn: psycopg.Connection, username: str, password: str) -> str | None:
    """A new session token for good credentials, else None (same time either way, roughly)."""
    row = conn.execute("SELECT password_hash FROM web.account WHERE username = %s AND NOT disabled",
                       [username]).fetchone()
    stored = row[0] if row else hash_password("not-a-real-password")  # equalise the work
    if not verify_password(password, stored) or row is None:
        return None
    token = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM web.session WHERE expires_at < now()")
    conn.execute("INSERT INTO web.session (token_hash, username, expires_at) "
                 "VALUES (%s, %s, now() + make_interval(hours => %s))",
                 [_token_hash(token), username, SESSION_HOURS])
    return token


@dataclass(frozen=True)
class User:
    username: str


def session_user(conn: psycopg.Connection, token: str | None) -> User | None:
    if not token or len(token) > 200:
        return None
    row = conn.execute(
        """SELECT s.username FROM web.session s JOIN web.account a USING (username)
            WHERE s.token_hash = %s AND s.expires_at > now() AND NOT a.disabled""",
        [_token_hash(token)]).fetchone()
    return User(row[0]) if row else None


def logout(conn: psycopg.Connection, token: str | None) -> None:
    if token:
        conn.execute("DELETE FROM web.session WHERE token_hash = %s", [_token_hash(token)])


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    return bool(cookie) and bool(field) and hmac.compare_digest(str(cookie), str(field))
