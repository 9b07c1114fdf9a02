"""report.json exactly in the SPEC.md §5 schema."""

from __future__ import annotations

import json
from pathlib import Path

from crawler.records import Verdict
from verifier.export.audit import Audit
from verifier.overrides import override_dict
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
    cp = audit.points(verdict.agency_id, verdict.criterion)
    return verdict_dict(verdict, period=audit.period, points=cp.points if cp else None,
                        override=override_dict(audit.override(verdict.agency_id, verdict.criterion)), detail=False)


def report_dict(audit: Audit) -> dict:
    """The whole report: agencies per group in ranking order, then every verdict (agency, then rulebook order)."""
    start, end = audit.period
    order = {c.id: i for i, c in enumerate(audit.rulebook.criteria)}
    agencies = [agency_dict(s) for _, _, members in audit.groups() for s in members]
    agency_order = {a.agency_id: i for i, a in enumerate(audit.data.agencies)}
    verdicts = sorted(audit.data.verdicts, key=lambda v: (agency_order.get(v.agency_id, len(agency_order)),
                                                          v.agency_id, order.get(v.criterion, len(order)),
                                                          v.criterion))
    return {
        "rulebook": rulebook_label(audit.rulebook),
        "year": audit.rulebook.year,
        "period": [start.isoformat(), end.isoformat()],
        "generated_at": iso(audit.generated_at),
        "agencies": agencies,
        "verdicts": [verdict_entry(audit, v) for v in verdicts],
    }


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
