"""Accounts, passwords (argon2), the session key and the sign-in limit of the console."""

from __future__ import annotations

import datetime as dt
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from verifier.errors import InputError
from verifier.store import (
    console_setting,
    ensure_console_tables,
    failed_sign_ins,
    get_user,
    record_sign_in,
    set_console_setting,
)

ROLES = ("admin", "reviewer", "viewer", "agency")
STAFF = frozenset({"admin", "reviewer", "viewer"})        # read every agency
DECIDERS = frozenset({"admin", "reviewer"})               # override
MAX_FAILURES = 10
LOCK_TIME = dt.timedelta(minutes=15)
SECRET_ENV = "PORTAL_EVIDENCE_SECRET"
PASSWORD_ENV = "PORTAL_EVIDENCE_PASSWORD"

_HASHER = PasswordHasher()


class BadUser(InputError):
    """Cannot store the user"""


def hash_password(password: str) -> str:
    if len(password or "") < 8:
        raise BadUser("the password must have at least 8 characters", column="password")
    return _HASHER.hash(password)


def check_role(role: str, agency_id: str | None) -> None:
    if role not in ROLES:
        raise BadUser(f"role {role!r} is not one of {', '.join(ROLES)}", column="--role")
    if role == "agency" and not agency_id:
        raise BadUser("an agency account needs --agency ID", column="--agency")


def session_secret(db) -> str:
    """PORTAL_EVIDENCE_SECRET, else a random key kept in the database from its first use."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    ensure_console_tables(db)
    if console_setting(db, "session_secret") is None:
        set_console_setting(db, "session_secret", secrets.token_urlsafe(48))
    return console_setting(db, "session_secret")


def locked(db, name: str, client: str, now: dt.datetime) -> bool:
    return failed_sign_ins(db, name=name, client=client, since=now - LOCK_TIME) >= MAX_FAILURES


def sign_in(db, name: str, password: str, client: str, now: dt.datetime) -> tuple[dict | None, str]:
    """(the user, "") when the password is right, else (None, why: "locked" or "wrong"); every try is recorded."""
    if locked(db, name, client, now):
        return None, "locked"
    user = get_user(db, name)
    ok = False
    if user is not None and not user["disabled"]:
        try:
            ok = _HASHER.verify(user["password_hash"], password)
        except (VerificationError, InvalidHashError):
            ok = False
    record_sign_in(db, name=name, client=client, ok=ok, at=now)
    return (user, "") if ok else (None, "wrong")
