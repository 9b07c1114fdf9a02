"""The API's shared records, errors and small helpers: the clock, days, the period, the rulebook, the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from verifier.errors import InputError, MalformedDate

if TYPE_CHECKING:                 # the command line imports this package: the heavy ones load when called
    from verifier.rulebook import Rulebook


class UnknownAgency(InputError):
    """Agency not in the run"""


class CriterionNotApplicable(InputError):
    """Criterion does not apply to the agency's group"""


# the longest note a person may type on a decision, a withdrawal, a dispute or an answer
NOTE_LIMIT = 4000


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def option_day(value: str | dt.date | None, field: str) -> dt.date | None:
    """A day (YYYY-MM-DD or dd/mm/yyyy, or a date), None when not given. Raises MalformedDate naming field."""
    if value is None or isinstance(value, dt.date):
        return value
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise MalformedDate(f"{value!r} (use YYYY-MM-DD or dd/mm/yyyy)", column=field)


def resolve_period(rulebook: Rulebook, year: int | None, start, end) -> tuple[dt.date, dt.date]:
    """The evaluation period: the rulebook's, or the named year, narrowed by a first and a last day."""
    period = (dt.date(year, 1, 1), dt.date(year, 12, 31)) if year is not None else tuple(rulebook.period)
    first = option_day(start, "--period-start") or period[0]
    last = option_day(end, "--period-end") or period[1]
    if first > last:
        raise MalformedDate(f"{first} is after {last}", column="--period-start/--period-end")
    return first, last


def load_rulebook(rules: Path | str | None = None) -> Rulebook:
    from verifier.rulebook import DEFAULT_RULEBOOK
    from verifier.rulebook import load_rulebook as load

    return load(rules or DEFAULT_RULEBOOK)


def open_handle(db, read_only: bool | None = False):
    from verifier.store import EvidenceDB, open_db

    return db if isinstance(db, EvidenceDB) else open_db(Path(db), read_only=read_only)


def db_file(db) -> Path:
    """The database's file as the caller named it (an archived database may be read from a copy)."""
    from verifier.store import EvidenceDB

    return db.path if isinstance(db, EvidenceDB) else Path(db)
