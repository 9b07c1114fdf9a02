"""The command line's shared options: one definition of --db, --run, --rules, the period, the network
switches and the hidden clock, so that every command spells and explains them the same way."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_DB = Path("portal-evidence.db")     # every command's --db default


def db(*, must_exist: bool = True):
    return typer.Option(DEFAULT_DB, "--db", exists=must_exist, dir_okay=False,
                        help="Evidence database." if must_exist else "Evidence database (SQLite).")


def run(help_text: str = "Run id (default: the latest run)."):
    return typer.Option(None, "--run", help=help_text)


def rules(help_text: str = "Rulebook YAML (default: the run's)."):
    return typer.Option(None, "--rules", exists=True, dir_okay=False, help=help_text)


def period_start():
    return typer.Option(None, "--period-start", help="First day counted (YYYY-MM-DD).")


def period_end():
    return typer.Option(None, "--period-end", help="Last day counted (YYYY-MM-DD).")


def allow_private():
    return typer.Option(False, "--allow-private", help="Allow loopback/private addresses (tests, demo).")


def timeout():
    return typer.Option(None, "--timeout", help="Seconds to wait for one response.")


def by():
    return typer.Option(..., "--by", help="The reviewer's name.")


def now():
    return typer.Option(None, "--now", hidden=True)
