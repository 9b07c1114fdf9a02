"""Reviewers' decisions: overrides beside the machine verdict, their withdrawal, the run rescored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verifier.api.base import CriterionNotApplicable, UnknownAgency, now_utc, open_handle

if TYPE_CHECKING:                 # the command line imports this package: the heavy ones load when called
    from verifier.overrides import Override


@dataclass(frozen=True)
class OverrideResult:
    """An override recorded (or withdrawn) and the scores of its run recomputed."""

    override: Override
    run_id: int
    scores: tuple                        # verifier.score.AgencyScore of the run, after the change


def _rescore(handle, run_id: int, at: dt.datetime) -> tuple:
    from verifier.export.audit import load_run
    from verifier.score import rulebook_label
    from verifier.score import score_run as score
    from verifier.store import save_scores

    data = load_run(handle, run_id)
    scores = score(data)
    save_scores(handle, run_id, scores, rulebook=rulebook_label(data.rulebook), period=data.period, scored_at=at)
    return tuple(scores)


def apply_override(db, agency_id: str, criterion: str, status: str, note: str, by: str, *,
                   run_id: int | None = None, now: dt.datetime | None = None,
                   spot_check_id: int | None = None) -> OverrideResult:
    """Record a reviewer's decision beside the machine verdict of the run (default: the latest), which is
    kept; the run's scores are recomputed and stored. `spot_check_id` names the spot-check it was taken from.
    Raises UnknownAgency, UnknownCriterion, CriterionNotApplicable, BadOverride (also a status the
    criterion's override_statuses do not allow), NoRun, StoreError."""
    from verifier.export.audit import load_run
    from verifier.overrides import new_override
    from verifier.store import save_override

    clock = now or now_utc()
    handle = open_handle(db)
    data = load_run(handle, run_id)
    info = next((a for a in data.agencies if a.agency_id == agency_id), None)
    if info is None:
        raise UnknownAgency(f"agency {agency_id!r} is not in run {data.run['id']}", column="AGENCY")
    spec = data.rulebook.criterion(criterion)
    if info.group not in spec.groups:
        raise CriterionNotApplicable(f"criterion {criterion!r} does not apply to group {info.group!r}",
                                     column="CRITERION")
    machine = data.verdict_map().get((agency_id, criterion))
    record = new_override(agency_id, criterion, status, note, by, at=clock, run_id=data.run["id"], machine=machine,
                          allowed=spec.override_statuses, spot_check_id=spot_check_id)
    saved = save_override(handle, record)
    return OverrideResult(saved, data.run["id"], _rescore(handle, data.run["id"], clock))


def withdraw_override(db, override_id: int, by: str, note: str, *, now: dt.datetime | None = None) -> OverrideResult:
    """Withdraw an override in force: the row stays (append-only audit) and records who, when and why; it is
    no longer applied. The scores of its run (else the latest) are recomputed. Raises BadWithdrawal."""
    from verifier.overrides import check_withdrawal
    from verifier.store import get_override, latest_run
    from verifier.store import withdraw_override as withdraw

    clock = now or now_utc()
    handle = open_handle(db)
    check_withdrawal(get_override(handle, override_id), override_id, by, note)
    saved = withdraw(handle, override_id, by=by.strip(), note=note.strip(), at=clock)
    run_id = saved.run_id or (latest_run(handle) or {}).get("id")
    return OverrideResult(saved, run_id, _rescore(handle, run_id, clock) if run_id else ())


def list_overrides(db, *, agency_id: str | None = None) -> list[Override]:
    """Every override recorded (withdrawn ones too), oldest first."""
    from verifier.store import load_overrides

    return [o for o in load_overrides(open_handle(db, read_only=None)) if agency_id in (None, o.agency_id)]
