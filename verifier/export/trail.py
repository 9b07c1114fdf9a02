"""What people did, for the report: the audit trail (every entry, oldest first) and the run's confirmation
rounds (each agency's answers and the reviewers' answers to disputes), in Vietnamese words, times in the
province's time (+07:00). report.json, the workbook and the HTML report all read these two lists."""

from __future__ import annotations

from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.store import moment

TRAIL = "Nhật ký"
TRAIL_TITLE = "Nhật ký thao tác (đăng nhập, điều chỉnh, kiểm tra lại, đợt xác nhận)"
ROUND = "Xác nhận của đơn vị"
ROUND_TITLE = "Ý kiến xác nhận của đơn vị và trả lời của người duyệt"
ACTIONS = {
    "sign-in": "Đăng nhập",
    "sign-in-failed": "Đăng nhập không thành công",
    "override": "Điều chỉnh kết quả",
    "withdraw": "Rút lại điều chỉnh",
    "spot-check": "Kiểm tra lại liên kết",
    "use-check": "Dùng kết quả kiểm tra lại",
    "round-open": "Mở đợt xác nhận",
    "round-close": "Đóng đợt xác nhận",
    "confirm": "Đơn vị xác nhận",
    "dispute": "Đơn vị không đồng ý",
    "answer": "Trả lời ý kiến của đơn vị",
}
KINDS = {"confirm": "Xác nhận", "dispute": "Không đồng ý"}
DECISIONS = {"accept": "Chấp nhận", "reject": "Không chấp nhận"}


def action_text(action: str | None) -> str:
    return ACTIONS.get(action or "", action or "")


def local_iso(text: str | None) -> str | None:
    """A stored time as ISO 8601 in the province's time (+07:00); a text that is no time stays as it is."""
    value = moment(text)
    if value is None:
        return text or None
    return L.local_time(value).isoformat(timespec="seconds")


def trail_entries(audit: Audit) -> list[dict]:
    """Every audit entry, by id: at (+07:00), who, action (its code and its words), object, detail."""
    return [{"id": e["id"], "at": local_iso(e["at"]), "who": e["who"], "action": e["action"],
             "action_text": action_text(e["action"]), "object": e["object"], "detail": e["detail"] or ""}
            for e in sorted(audit.trail, key=lambda e: e["id"])]


def _answer(row: dict | None) -> dict | None:
    if not row:
        return None
    return {"id": row["id"], "decision": row["decision"], "decision_text": DECISIONS.get(row["decision"], ""),
            "status": row["status"], "note": row["note"] or "", "by": row["by"], "at": local_iso(row["at"]),
            "override_id": row["override_id"]}


def round_entries(audit: Audit) -> list[dict]:
    """The run's rounds, by id, each with every answer of the agencies (by id; `counts`: the latest of that
    agency on that criterion, the one that counts) and the reviewer's answer to each dispute."""
    out = []
    for r in sorted(audit.rounds, key=lambda r: r["id"]):
        latest = {}
        for a in sorted(r["responses"], key=lambda a: a["id"]):
            latest[(a["agency_id"], a["criterion"])] = a["id"]
        out.append({
            "id": r["id"], "run_id": r["run_id"], "opened_at": local_iso(r["opened_at"]), "opened_by": r["opened_by"],
            "closes_on": r["closes_on"], "closed_at": local_iso(r["closed_at"]), "closed_by": r["closed_by"],
            "responses": [{
                "id": a["id"], "agency_id": a["agency_id"], "criterion": a["criterion"], "kind": a["kind"],
                "kind_text": KINDS.get(a["kind"], ""), "note": a["note"] or "", "corrected_url": a["corrected_url"],
                "by": a["by"], "at": local_iso(a["at"]),
                "counts": latest[(a["agency_id"], a["criterion"])] == a["id"], "answer": _answer(a["answer"]),
            } for a in sorted(r["responses"], key=lambda a: a["id"])],
        })
    return out
