"""Reviewer overrides: a decision stored beside the machine verdict, never in place of it.

An override names the agency and criterion (not a run), so it stays in force
for later runs of the same evaluation year; it records who, when, why and what
the machine said at that time, and a later run whose machine verdict differs
flags it for a second look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from crawler.records import Verdict
from verifier.errors import InputError
from verifier.rulebook import OVERRIDE_STATUSES as STATUSES
from verifier.store import iso


class BadOverride(InputError):
    """Cannot record the override"""


class BadWithdrawal(BadOverride):
    """Cannot withdraw the override"""


@dataclass(frozen=True)
class Override:
    id: int | None
    agency_id: str
    criterion: str
    status: str
    note: str
    by: str
    at: dt.datetime
    run_id: int | None                 # the run whose verdict the reviewer looked at
    machine_status: str | None         # the machine verdict at that time
    machine_reason: str | None
    withdrawn_at: dt.datetime | None = None   # a withdrawal is recorded on the row, never a deletion
    withdrawn_by: str | None = None
    withdraw_note: str | None = None
    spot_check_id: int | None = None          # the console's spot-check the decision was taken from

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


@dataclass(frozen=True)
class OverrideView:
    """The override in force for one (agency, criterion) of a run, with the machine verdict of that run."""

    override: Override
    machine_status: str | None
    machine_reason: str | None
    history: tuple[Override, ...] = ()     # every override of this key up to this one, oldest first

    @property
    def machine_changed(self) -> bool:
        """The machine verdict of this run differs from the one the reviewer overrode."""
        o = self.override
        return (o.machine_status, o.machine_reason) != (self.machine_status, self.machine_reason)


def new_override(agency_id: str, criterion: str, status: str, note: str, by: str, *, at: dt.datetime,
                 run_id: int | None, machine: Verdict | None, allowed: tuple[str, ...] = STATUSES,
                 spot_check_id: int | None = None) -> Override:
    """A validated override (not yet stored). Raises BadOverride for an unknown status, one the criterion does
    not allow (`allowed`: the rulebook's override_statuses), or a missing note/name."""
    status = (status or "").strip().lower()
    if status not in STATUSES:
        raise BadOverride(f"status {status!r} is not one of {', '.join(STATUSES)}", column="--status")
    if status not in allowed:
        raise BadOverride(f"the rulebook does not allow status {status!r} for criterion {criterion}; "
                          f"use {', '.join(allowed)}", column="--status")
    if not (note or "").strip():
        raise BadOverride("a note saying why is required", column="--note")
    if not (by or "").strip():
        raise BadOverride("the reviewer's name is required", column="--by")
    return Override(None, agency_id, criterion, status, note.strip(), by.strip(), at, run_id,
                    machine.status if machine else None, machine.reason if machine else None,
                    spot_check_id=spot_check_id)


def check_withdrawal(override: Override | None, override_id: int, by: str, note: str) -> None:
    """Raises BadWithdrawal unless the override exists, is in force, and the withdrawal says who and why."""
    if override is None:
        raise BadWithdrawal(f"override #{override_id} is not in the database", column="ID")
    if override.withdrawn:
        raise BadWithdrawal(f"override #{override_id} was already withdrawn by {override.withdrawn_by} "
                          f"at {iso(override.withdrawn_at)}", column="ID")
    if not (note or "").strip():
        raise BadWithdrawal("a note saying why is required", column="--note")
    if not (by or "").strip():
        raise BadWithdrawal("the reviewer's name is required", column="--by")


def _of_run(overrides: Iterable[Override], run_years: Mapping[int, int | None], run: dict) -> list[Override]:
    """The overrides a run sees: made on it or an earlier run of the same year, or naming no run."""
    return [o for o in overrides
            if o.run_id is None or (o.run_id <= run["id"] and run_years.get(o.run_id) in (None, run.get("year")))]


def withdrawn_for_run(overrides: Iterable[Override], run_years: Mapping[int, int | None],
                      run: dict) -> tuple[Override, ...]:
    """The withdrawn overrides the run would otherwise see, oldest first (the exports list them as withdrawn)."""
    return tuple(o for o in _of_run(overrides, run_years, run) if o.withdrawn)


def overrides_for_run(overrides: Iterable[Override], run_years: Mapping[int, int | None], run: dict,
                      verdicts: Mapping[tuple[str, str], Verdict]) -> dict[tuple[str, str], OverrideView]:
    """The override in force per (agency, criterion) for this run: the latest one made on this run or an
    earlier run of the same year. `overrides` are every override recorded, oldest first; `run_years` the
    year of each run; `verdicts` the run's machine verdicts, to flag the changed ones. Pure."""
    history: dict[tuple[str, str], list[Override]] = {}
    for o in _of_run(overrides, run_years, run):
        if o.withdrawn:          # a withdrawn override is kept for the audit but never applied
            continue
        history.setdefault((o.agency_id, o.criterion), []).append(o)
    views = {}
    for key, items in history.items():
        machine = verdicts.get(key)
        views[key] = OverrideView(items[-1], machine.status if machine else None,
                                  machine.reason if machine else None, tuple(items))
    return views


def withdrawn_dict(o: Override) -> dict:
    """A withdrawn override as report.json lists it."""
    return {"id": o.id, "agency_id": o.agency_id, "criterion": o.criterion, "status": o.status, "note": o.note,
            "by": o.by, "at": iso(o.at), "withdrawn_at": iso(o.withdrawn_at), "withdrawn_by": o.withdrawn_by,
            "withdraw_note": o.withdraw_note}


def override_dict(view: OverrideView | None) -> dict | None:
    """The override as report.json shows it beside the machine verdict."""
    if view is None:
        return None
    o = view.override
    return {
        "status": o.status, "note": o.note, "by": o.by, "at": iso(o.at),
        "machine_status": o.machine_status, "machine_reason": o.machine_reason,
        "machine_changed": view.machine_changed,
    }
