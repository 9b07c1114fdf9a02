"""The console's commands: `serve` and `user add|passwd|disable`."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.text import Text

from verifier.commands import DEFAULT_DB, _fail, _now, out
from verifier.errors import InputError
from verifier.store import open_db

user_app = typer.Typer(help="Console accounts: add, passwd, disable.", no_args_is_help=True)


def _password(name: str) -> str:
    """PORTAL_EVIDENCE_PASSWORD (scripts), else asked twice without echo."""
    from verifier.console.auth import PASSWORD_ENV

    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def add(
    name: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., "--role", help="admin, reviewer, viewer or agency."),
    agency: str | None = typer.Option(None, "--agency", help="The agency id (agency accounts only)."),
    db: Path = typer.Option(DEFAULT_DB, "--db", dir_okay=False, help="Evidence database."),
) -> None:
    """Add a console account (or replace its role and password). The password is asked for, or read from
    PORTAL_EVIDENCE_PASSWORD.

    Example:
      portal-evidence user add admin --role admin --db portal-evidence.db
    """
    from verifier.console.auth import check_role, hash_password
    from verifier.store import ensure_console_tables, save_user

    try:
        name = name.strip()
        if not name:
            raise InputError("the name is empty", column="NAME")
        check_role(role, agency)
        if role != "agency" and agency:
            raise InputError("--agency is for agency accounts only", column="--agency")
        digest = hash_password(_password(name))
        handle = open_db(db)
        ensure_console_tables(handle)
        save_user(handle, name=name, role=role, agency_id=agency, password_hash=digest, at=_now(None))
    except InputError as exc:
        _fail(exc)
    out.print(Text(f"user {name}: {role}" + (f" of {agency}" if agency else "")))


def _change_user(db: Path, name: str, change, said: str) -> None:
    """Apply change(handle) to an existing account, then say so; a missing account or a bad database is exit 2."""
    from verifier.store import ensure_console_tables, get_user

    try:
        handle = open_db(db)
        ensure_console_tables(handle)
        if get_user(handle, name) is None:
            raise InputError(f"no user {name!r}", column="NAME")
        change(handle)
    except InputError as exc:
        _fail(exc)
    out.print(Text(f"user {name}: {said}"))


@user_app.command("passwd")
def passwd(
    name: str = typer.Argument(..., help="Sign-in name."),
    db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
) -> None:
    """Set a new password (asked for, or PORTAL_EVIDENCE_PASSWORD)."""
    from verifier.console.auth import hash_password
    from verifier.store import set_user_password

    _change_user(db, name, lambda handle: set_user_password(handle, name, hash_password(_password(name))),
                 "password changed")


@user_app.command("disable")
def disable(
    name: str = typer.Argument(..., help="Sign-in name."),
    db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end at their next request."""
    from verifier.store import disable_user

    _change_user(db, name, lambda handle: disable_user(handle, name), "disabled")


def register(app: typer.Typer) -> None:
    """Add serve and user to the command line."""
    app.add_typer(user_app, name="user")

    @app.command()
    def serve(
        db: Path = typer.Option(DEFAULT_DB, "--db", exists=True, dir_okay=False, help="Evidence database."),
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
        https: bool = typer.Option(False, "--https", help="Behind an https proxy: Secure cookies."),
        allow_private: bool = typer.Option(False, "--allow-private",
                                           help="Let the console's spot-check fetch loopback/private addresses "
                                                "(the demo, tests); off by default."),
    ) -> None:
        """Start the reviewer console on the evidence database (create the first admin with `user add`).

        Example:
          portal-evidence serve --db portal-evidence.db --port 8000
        """
        import uvicorn

        from verifier.console.app import create_app

        try:
            application = create_app(db, https=https, allow_private=allow_private)
        except InputError as exc:
            _fail(exc)
        out.print(Text(f"console on http://{host}:{port}/ (Ctrl+C stops it)"))
        uvicorn.run(application, host=host, port=port, log_level="warning")
