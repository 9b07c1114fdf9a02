"""The confirmation round's commands, for scripts: `round open|close|status` (the console does the same
through the same library calls)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from verifier import cli_options as opt
from verifier.commands import _fail, _now, out
from verifier.errors import InputError

round_app = typer.Typer(help="The confirmation round: open, close, status.", no_args_is_help=True)


def _said(r, now=None) -> str:
    state = "closed" if r.closed_at else ("open" if r.accepting(now) else "past its last day")
    return f"round #{r.id} on run {r.run_id}, until {r.closes_on.isoformat()}: {state}"


@round_app.command("open")
def open_(
    closes: str = typer.Option(..., "--closes", help="The last day agencies may answer (YYYY-MM-DD)."),
    run: int | None = opt.run("The run (default, and the only one allowed: the latest finished run)."),
    by: str = opt.by(),
    db: Path = opt.db(),
    now: str | None = opt.now(),
) -> None:
    """Open the confirmation round on the latest finished run: each agency confirms or disputes its results
    in the console until the day given (the province's day).

    Example: portal-evidence round open --closes 2018-12-10 --by "Nguyễn Văn A" --db portal-evidence.db
    """
    from verifier import api

    try:
        opened = api.open_round(db, closes, by, run_id=run, now=_now(now))
    except InputError as exc:
        _fail(exc)
    out.print(Text(_said(opened, _now(now))))


@round_app.command("close")
def close(
    by: str = opt.by(),
    db: Path = opt.db(),
    now: str | None = opt.now(),
) -> None:
    """Close the round: agencies can no longer answer; reviewers still answer open disputes.

    Example: portal-evidence round close --by "Nguyễn Văn A"
    """
    from verifier import api

    try:
        closed = api.close_round(db, by, now=_now(now))
    except InputError as exc:
        _fail(exc)
    out.print(Text(_said(closed, _now(now))))


@round_app.command("status")
def status(db: Path = opt.db(), now: str | None = opt.now()) -> None:
    """The latest round: per agency the criteria confirmed, disputed and not answered; the open disputes.

    Example: portal-evidence round status --db portal-evidence.db
    """
    from verifier import api

    try:
        summary = api.round_summary(db)
    except InputError as exc:
        _fail(exc)
    if summary is None:
        _fail(api.NoRoundOpen("no round was ever opened", column="round"),
              hint="portal-evidence round open --closes YYYY-MM-DD --by NAME")
    out.print(Text(_said(summary.round, _now(now))))
    table = Table("agency", "confirmed", "disputed", "unanswered")
    for a in summary.agencies:
        table.add_row(Text(a.agency_id), str(a.confirmed), str(a.disputed), str(a.unanswered))
    out.print(table)
    for d in summary.open_disputes:
        out.print(Text(f"open dispute #{d.id}: {d.agency_id}/{d.criterion} by {d.by}: {d.note}"
                       + (f" [{d.corrected_url}]" if d.corrected_url else "")))


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")
