"""The HTML report's page of people's steps (html/audit.html): the run's confirmation rounds, each agency's
answers and the reviewers' answers to disputes, then the whole audit trail. Every typed text is escaped."""

from __future__ import annotations

import datetime as dt

from verifier.export import labels as L
from verifier.export import trail
from verifier.export.audit import Audit
from verifier.export.html_base import document, e, ext_link, footer, local_link, table
from verifier.export.names import agency_page

TRAIL_PAGE = "audit.html"
PAGE_TITLE = "Nhật ký và ý kiến xác nhận của đơn vị"
SUPERSEDED = "đã thay bằng ý kiến gửi sau"


def _when(text: str | None) -> str:
    value = trail.moment(text)
    return e(L.vn_datetime(value)) if value else e(text or "")


def _round_section(audit: Audit, r: dict) -> str:
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    criteria = audit.rulebook.by_id
    state = (f"đóng lúc {_when(r['closed_at'])} bởi {e(r['closed_by'])}" if r["closed_at"]
             else f"nhận ý kiến đến hết ngày {e(L.vn_date(dt.date.fromisoformat(r['closes_on'])))}")
    rows = []
    for a in r["responses"]:
        answer = a["answer"]
        said = ""
        if answer:
            status = f" ({e(L.status_label(answer['status']))})" if answer["status"] else ""
            said = (f"{e(answer['decision_text'])}{status}: {e(answer['note'])} "
                    f"<small>({e(answer['by'])}, {_when(answer['at'])})</small>")
        link = ext_link(a["corrected_url"]) if a["corrected_url"] else ""
        criterion = criteria[a["criterion"]].name if a["criterion"] in criteria else a["criterion"]
        row_class, later = ("", "") if a["counts"] else (' class="superseded"', f" <small>({e(SUPERSEDED)})</small>")
        rows.append(f"<tr{row_class}>"
                    f"<td>{local_link(agency_page(a['agency_id']), names.get(a['agency_id']) or a['agency_id'])}</td>"
                    f"<td>{local_link(agency_page(a['agency_id']) + '#' + a['criterion'], criterion)}</td>"
                    f"<td>{e(a['kind_text'])}{later}</td>"
                    f"<td>{e(a['note'])}</td><td class=\"url\">{link}</td>"
                    f"<td>{e(a['by'])}, {_when(a['at'])}</td><td>{said}</td></tr>")
    head = (f"<h2 id=\"round-{e(r['id'])}\">Đợt xác nhận #{e(r['id'])}</h2>"
            f"<p class=\"meta\">Mở lúc {_when(r['opened_at'])} bởi {e(r['opened_by'])}; {state}.</p>")
    if not rows:
        return head + "<p>Chưa có đơn vị nào gửi ý kiến.</p>"
    return head + table([L.AGENCY, L.CRITERION, "Ý kiến", "Lý do của đơn vị", "Liên kết đề nghị", "Người gửi",
                         "Trả lời của người duyệt"], rows, ident=f"round-table-{r['id']}")


def trail_html(audit: Audit) -> str:
    parts = [f"<h1>{e(PAGE_TITLE)}</h1>", f"<p class=\"meta\">{e(L.TIME_NOTE)}</p>"]
    for r in trail.round_entries(audit):
        parts.append(_round_section(audit, r))
    entries = trail.trail_entries(audit)
    if entries:
        rows = [f"<tr><td class=\"num\">{e(x['id'])}</td><td>{_when(x['at'])}</td><td>{e(x['who'])}</td>"
                f"<td>{e(x['action_text'])}</td><td>{e(x['object'])}</td><td>{e(x['detail'])}</td></tr>"
                for x in entries]
        parts.append(f"<h2 id=\"trail\">{e(trail.TRAIL_TITLE)}</h2>")
        parts.append(table(["Số", "Thời điểm", "Người", "Thao tác", "Đối tượng", "Chi tiết"], rows,
                           ident="trail-table", num_cols=(0,)))
    return document(PAGE_TITLE, "\n".join(parts), root="", foot=footer(audit))
