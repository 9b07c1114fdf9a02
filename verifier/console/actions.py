"""What the console asks the library to do, in one place: the same library API (verifier.api) the command
line calls, plus the console's own check that the form is not stale."""

from __future__ import annotations

import datetime as dt

from verifier import api
from verifier.errors import InputError
from verifier.export.audit import Audit, build_audit
from verifier.overrides import BadOverride
from verifier.store import latest_run, run_state

NOTE_LIMIT = api.NOTE_LIMIT


class StaleForm(InputError):
    """The verdict changed since the form was shown"""


def current_audit(db) -> Audit:
    """The latest finished run, scored, as the exports read it: a crawl writing its run is shown once it is
    done (until then its verdicts are partial); before any run is done, the latest. Raises NoRun, StoreError."""
    run = latest_run(db, status="done") or latest_run(db)
    if run is None:
        return build_audit(db)                         # raises NoRun
    key = (str(getattr(db, "path", "")), run_state(db, run["id"]))
    cached = _READINGS.get(key[0])
    if cached is not None and cached[0] == key:
        return cached[1]
    audit = build_audit(db, run["id"])
    _READINGS[key[0]] = (key, audit)
    return audit


# The scored reading of the run each page shows, per database file, kept while nothing it depends on changed
# (store.run_state): loading and scoring a run is most of a page's time, and a crawl writing the next run does
# not change the finished one. Readings are frozen records, shared read-only by the requests.
_READINGS: dict[str, tuple[tuple, Audit]] = {}


def apply_override(db, audit: Audit, agency_id: str, criterion: str, *, status: str, note: str, by: str,
                   seen_run: str, seen_checked_at: str, now: dt.datetime):
    """Store the reviewer's decision on the verdict the form showed. Raises BadOverride (column: status or
    note) or StaleForm when the run or the verdict changed since."""
    machine = audit.data.verdict_map().get((agency_id, criterion))
    checked = machine.checked_at.isoformat() if machine and machine.checked_at else ""
    if seen_run != str(audit.run_id) or seen_checked_at != checked:
        raise StaleForm("the verdict changed since the page was shown", column="form")
    if len(note or "") > NOTE_LIMIT:
        raise BadOverride(f"the note is longer than {NOTE_LIMIT} characters", column="--note")
    return api.apply_override(db, agency_id, criterion, status, note, by, run_id=audit.run_id, now=now).override


def withdraw_override(db, audit: Audit, agency_id: str, criterion: str, *, override_id: str, note: str, by: str,
                      now: dt.datetime):
    """Withdraw the override in force on this verdict (the one the form showed), recorded with who, when and
    why. Raises BadOverride (column: --note) or StaleForm when another override is in force now."""
    view = audit.override(agency_id, criterion)
    if view is None or str(view.override.id) != override_id:
        raise StaleForm("the override in force changed since the page was shown", column="form")
    if not (note or "").strip() or len(note) > NOTE_LIMIT:
        raise BadOverride("a withdrawal needs a note", column="--note")
    return api.withdraw_override(db, view.override.id, by, note, now=now).override
