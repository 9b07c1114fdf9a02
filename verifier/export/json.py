"""report.json: the run, its agencies per group in ranking order and every verdict with its evidence."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.records import Verdict
from verifier.export.audit import Audit
from verifier.export.hints import shown_hint
from verifier.export.trail import round_entries, trail_entries
from verifier.overrides import override_dict, withdrawn_dict
from verifier.score import rulebook_label
from verifier.serialize import verdict_dict
from verifier.store import iso


def agency_dict(score) -> dict:
    return {
        "agency_id": score.agency_id, "agency_name": score.agency_name, "group": score.group,
        "late": score.late, "ranked": score.ranked, "score": score.score, "max_score": score.max_score,
        "rank": score.rank, "level": score.level,
    }


def verdict_entry(audit: Audit, verdict: Verdict) -> dict:
    """One verdict of report.json; `hint` (after `override`) is why and how to fix, in Vietnamese, or null
    where there is nothing to fix (verifier.export.hints.shown_hint)."""
    cp = audit.points(verdict.agency_id, verdict.criterion)
    entry = verdict_dict(verdict, period=audit.period, points=cp.points if cp else None,
                         override=override_dict(audit.override(verdict.agency_id, verdict.criterion)), detail=False)
    return _insert_after(entry, "override", "hint", shown_hint(audit, verdict))


def _insert_after(entry: dict, key: str, new_key: str, value) -> dict:
    """The dict with new_key right after key, as the schema lists them."""
    out = {}
    for k, v in entry.items():
        out[k] = v
        if k == key:
            out[new_key] = value
    return out


def run_dict(audit: Audit) -> dict:
    """The run: its id, status, and its provenance as stored (null for a run made before it was recorded)."""
    return {"id": audit.run_id, "status": audit.data.run.get("status"), "provenance": audit.provenance or None}


def report_dict(audit: Audit) -> dict:
    """The whole report: the run, agencies per group in ranking order, then every verdict (agency, then
    rulebook order)."""
    start, end = audit.period
    agencies = [agency_dict(s) for _, _, members in audit.groups() for s in members]
    report = {
        "rulebook": rulebook_label(audit.rulebook),
        "year": audit.rulebook.year,
        "period": [start.isoformat(), end.isoformat()],
        "generated_at": iso(audit.generated_at),
        "run": run_dict(audit),
        "agencies": agencies,
        "verdicts": [verdict_entry(audit, v) for v in audit.verdicts],
    }
    if audit.data.withdrawn:     # only when there are some: a report without withdrawals keeps its bytes
        report["withdrawn_overrides"] = [withdrawn_dict(o) for o in audit.data.withdrawn]
    if audit.trail:              # the same: only a database the console or a round wrote to has these
        report["audit_trail"] = trail_entries(audit)
    if audit.rounds:
        report["confirmation_rounds"] = round_entries(audit)
    return report


def write_json(audit: Audit, out_dir: Path | str) -> Path:
    """Write DIR/report.json; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.json"
    text = json.dumps(report_dict(audit), ensure_ascii=False, indent=2)
    _write_atomic(path, text + "\n")
    return path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
