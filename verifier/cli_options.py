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


RENDER_CHOICES = ("auto", "always", "off")


def _render_choice(value: str) -> str:
    if value not in RENDER_CHOICES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(RENDER_CHOICES)}")
    return value


def render():
    return typer.Option("auto", "--render", callback=_render_choice, metavar="auto|always|off",
                        help="Listings filled by script, in headless Chromium: auto (when the need shows), always "
                             "(every first listing page without posts), off.")


def timeout():
    return typer.Option(None, "--timeout", help="Seconds to wait for one response.")


def by():
    return typer.Option(..., "--by", help="The reviewer's name.")


def now():
    return typer.Option(None, "--now", hidden=True)
