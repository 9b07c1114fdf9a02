"""The HTML audit report (in Vietnamese): an index with the ranking per group and the review queue, a ranking
page printable on A4 (verifier.export.html_ranking), one page per agency with every criterion, why it did not pass
and how to fix it, and one evidence page per fetch with the archived page shown in a sandboxed frame
(verifier.export.html_evidence).

Every crawled or reported string is escaped; links to crawled URLs are made for http(s) only; each page
carries a Content-Security-Policy that allows no script at all. Readable on a phone, printable.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crawler.records import Verdict
from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.hints import audit_hint
from verifier.export.html_base import (
    badge,
    document,
    e,
    ext_link,
    footer,
    kv_list,
    legend,
    local_link,
    num,
    table,
    tech_block,
)
from verifier.export.html_evidence import evidence_for_post, evidence_html, raw_html
from verifier.export.html_ranking import ranking_html
from verifier.export.html_trail import PAGE_TITLE, TRAIL_PAGE, trail_html
from verifier.export.names import RANKING_PAGE, agency_page, evidence_page, raw_page

# ------------------------------------------------------------------------------------------------ index

def _criterion_name(audit: Audit, criterion_id: str) -> str:
    criterion = audit.rulebook.by_id.get(criterion_id)
    return criterion.name if criterion else criterion_id


def index_page(audit: Audit) -> str:
    rb = audit.rulebook
    start, end = audit.period
    parts = [f"<h1>{e(L.TITLE)} năm {e(rb.year)} – {e(rb.province)}</h1>",
             f'<p class="meta">{e(L.RULEBOOK)}: {e(rb.title)} · {e(L.PERIOD)}: {e(L.vn_date(start))} – '
             f'{e(L.vn_date(end))} · Hạn nộp phiếu: {e(L.vn_date(rb.deadline))} · '
             f'Lần kiểm tra số {e(audit.run_id)} · {e(L.TIME_NOTE)}</p>',
             f"<p>{local_link(RANKING_PAGE, L.RANKING_PAGE)}"
             + (f" · {local_link(TRAIL_PAGE, PAGE_TITLE)}" if audit.trail or audit.rounds else "") + "</p>"]
    counts = Counter(v.status for v in audit.data.verdicts)
    parts.append('<p class="summary">' + "".join(
        f"<span>{badge(s)} {counts.get(s, 0)}</span>" for s in ("pass", "fail", "review", "exempt")) + "</p>")
    parts.append(legend(audit))
    for gid, gname, members in audit.groups():
        rows = []
        for s in members:
            link = local_link(agency_page(s.agency_id), s.agency_name or s.agency_id)
            if s.ranked:
                rows.append(f"<tr><td class=\"num\">{e(s.rank)}</td><td>{link}</td>"
                            f"<td class=\"num\">{num(s.score)}/{num(s.max_score)}</td>"
                            f"<td class=\"num\">{num(s.percent)}</td><td>{e(s.level)}</td>"
                            f"<td class=\"num\">{e(s.pending or '')}</td></tr>")
            else:
                rows.append(f"<tr class=\"not-ranked\"><td>–</td><td>{link}</td>"
                            f"<td colspan=\"3\">{e(L.NOT_RANKED_HEAD)}: {e(L.not_ranked_label(s, rb.deadline))}</td>"
                            f"<td class=\"num\">{e(s.pending or '')}</td></tr>")
        parts.append(f"<h2 id=\"group-{e(gid)}\">{e(L.RANKING)} – {e(gname)}</h2>")
        parts.append(table([L.RANKING, L.AGENCY, L.SCORE, L.PERCENT, L.LEVEL, "Cần xem xét"], rows,
                           cls="ranking", ident=f"ranking-{gid}", num_cols=(0, 2, 3, 5)))
    parts.append(f"<h2 id=\"review-queue\">{e(L.REVIEW_QUEUE)}</h2>")
    queue = audit.review_queue()
    if queue:
        names = {a.agency_id: a.agency_name for a in audit.data.agencies}
        rows = []

        def name_of(criterion_id):
            return _criterion_name(audit, criterion_id)
        for v, _cp in queue:
            view = audit.override(v.agency_id, v.criterion)
            note = f' <span class="flag">{e(L.MACHINE_CHANGED)}</span>' if view and view.machine_changed else ""
            rows.append(f"<tr><td>{local_link(agency_page(v.agency_id), names.get(v.agency_id) or v.agency_id)}</td>"
                        f"<td>{local_link(agency_page(v.agency_id) + '#' + v.criterion, name_of(v.criterion))}</td>"
                        f"<td>{badge(v.status, v.reason)}</td><td>{e(L.reason_label(v.reason))}{note}</td>"
                        f"<td class=\"wide\">{e(audit_hint(audit, v.agency_id, v.criterion))}</td></tr>")
        parts.append(table([L.AGENCY, L.CRITERION, L.RESULT, L.REASON_HEAD, L.HINT], rows, ident="review-table",
                           wide_cols=(4,)))
    else:
        parts.append("<p>Không có tiêu chí nào đang chờ xem xét.</p>")
    overrides = list(audit.data.overrides.items())
    if overrides:
        names = {a.agency_id: a.agency_name for a in audit.data.agencies}
        rows = []
        for (agency_id, criterion), view in sorted(overrides):
            o = view.override
            flag = f' <span class="flag">{e(L.MACHINE_CHANGED)}</span>' if view.machine_changed else ""
            what = f"{names.get(agency_id) or agency_id} / {_criterion_name(audit, criterion)}"
            rows.append(f"<tr><td>{local_link(agency_page(agency_id) + '#' + criterion, what)}"
                        f"</td><td>{badge(o.status)}</td><td>{e(o.by)}</td><td>{e(L.vn_datetime(o.at))}</td>"
                        f"<td>{e(o.note)}{flag}</td></tr>")
        parts.append(f"<h2 id=\"overrides\">{e(L.OVERRIDE)}</h2>")
        parts.append(table([f"{L.AGENCY} / {L.CRITERION}", L.RESULT, "Người điều chỉnh", "Thời điểm", "Lý do"], rows))
    if audit.data.withdrawn:          # kept for the audit, not applied
        names = {a.agency_id: a.agency_name for a in audit.data.agencies}
        what = {o.id: f"{names.get(o.agency_id) or o.agency_id} / {_criterion_name(audit, o.criterion)}"
                for o in audit.data.withdrawn}
        rows = [f"<tr><td>{local_link(agency_page(o.agency_id) + '#' + o.criterion, what[o.id])}</td>"
                f"<td>{badge(o.status)}</td><td>{e(o.by)}, {e(L.vn_datetime(o.at))}: {e(o.note)}</td>"
                f"<td>{e(o.withdrawn_by)}, {e(L.vn_datetime(o.withdrawn_at))}: {e(o.withdraw_note)}</td></tr>"
                for o in audit.data.withdrawn]
        parts.append(f"<h2 id=\"withdrawn\">{e(WITHDRAWN)}</h2>")
        parts.append(table([f"{L.AGENCY} / {L.CRITERION}", L.RESULT, "Điều chỉnh", "Rút lại"], rows))
    return document(f"{L.TITLE} {rb.year}", "\n".join(parts), root="", foot=footer(audit))


# ------------------------------------------------------------------------------------------------ agency

def _posts_table(audit: Audit, verdict: Verdict, fetch_ids) -> str:
    rows = []
    for post in verdict.posts:
        inside = post.within(audit.period)
        fid = evidence_for_post(post, verdict, fetch_ids)
        ev = local_link("../" + evidence_page(fid), L.EVIDENCE) if fid is not None else ""
        cls = ' class="in-period"' if inside else ""
        rows.append(f"<tr{cls}><td>{ext_link(post.url, post.title or post.url or '')}</td>"
                    f"<td>{e(L.vn_date(post.published))}</td><td>{e(L.vn_date(post.updated))}</td>"
                    f"<td class=\"wide\">{e(L.date_source_label(post.date_source))}</td>"
                    f"<td>{L.YES if inside else ''}</td><td>{ev}</td></tr>")
    return table(["Tiêu đề", "Ngày đăng", "Ngày cập nhật", "Nguồn ngày", L.IN_PERIOD, L.EVIDENCE], rows,
                 cls="posts", wide_cols=(3,))


def _pages_table(verdict: Verdict, fetch_ids) -> str:
    rows = []
    for page, fid in zip(verdict.pages, fetch_ids):
        status = page.status if page.status is not None else L.error_label(page.error) if page.error else ""
        ev = local_link("../" + evidence_page(fid), "Xem bản lưu", "evidence") if fid is not None else ""
        rows.append(f"<tr><td>{e(L.PURPOSE.get(page.purpose, page.purpose))}</td><td>{e(status)}</td>"
                    f"<td class=\"wide\">{e(L.kind_label(page.kind))}</td>"
                    f"<td>{e(' '.join((page.category_label or '').split()))}</td>"
                    f"<td class=\"num\">{e(page.posts)}</td><td>{ext_link(page.final_url or page.url)}</td>"
                    f"<td>{e(L.vn_datetime(page.fetched_at))}</td><td>{ev}</td></tr>")
    return table(["Mục đích", "HTTP", "Loại trang", "Chuyên mục nhận diện", "Số bài", "URL", L.CHECKED_AT,
                  L.EVIDENCE], rows, cls="pages noprint-table", num_cols=(4,), wide_cols=(2,))


def _content_table(verdict: Verdict) -> str:
    """The content checks of a page judged by its content: each found or missing, the page it was found on
    and the page's words around it (crawled text, escaped)."""
    rows = []
    for c in verdict.content_checks:
        cls = ' class="in-period"' if c.found else ""
        rows.append(f"<tr{cls}><td>{e(c.label)}</td><td>{L.YES if c.found else L.NO}</td>"
                    f"<td>{ext_link(c.page) if c.page else ''}</td><td class=\"wide\">{e(c.excerpt)}</td></tr>")
    return table([L.CONTENT_CHECK, L.YES, L.CONTENT_PAGE, L.CONTENT_EXCERPT], rows, cls="content-checks",
                 wide_cols=(3,))


WITHDRAWN = "Điều chỉnh đã rút lại (không áp dụng)"


def _override_block(audit: Audit, verdict: Verdict) -> str:
    view = audit.override(verdict.agency_id, verdict.criterion)
    if view is None:
        return ""
    items = []
    for o in view.history:
        machine = (f"{L.status_label(o.machine_status, o.machine_reason)} / {L.reason_label(o.machine_reason)}"
                   if o.machine_status else "chưa có")
        items.append(f"<li>{badge(o.status)} – {e(o.by)}, {e(L.vn_datetime(o.at))}: {e(o.note)} "
                     f"<span class=\"meta\">(kết quả tự động lúc đó: {e(machine)})</span></li>")
    now = L.status_label(view.machine_status, view.machine_reason)
    flag = (f'<p class="flag">{e(L.MACHINE_CHANGED)}: nay là {e(now)}'
            f" / {e(L.reason_label(view.machine_reason))}</p>" if view.machine_changed else "")
    return f'<div class="override"><strong>{e(L.OVERRIDE)}</strong><ul>{"".join(items)}</ul>{flag}</div>'


def needs_hint(criterion, verdict: Verdict, cp) -> bool:
    """Every criterion not passed says why and how to fix, and so does a portal criterion passed short of its
    full points; a reviewer's pass needs none, nor an exemption."""
    if cp.status == "exempt" or (cp.overridden and cp.status == "pass"):
        return False
    if cp.status != "pass":
        return True
    return cp.points < criterion.points and not criterion.is_reported


def _page_seen(v: Verdict) -> str:
    """What the main page was taken for, in words: its kind and the category label read on it."""
    page = next((p for p in v.pages if p.purpose == "listing"), v.pages[0] if v.pages else None)
    if page is None:
        return ""
    what = L.kind_label(page.kind)
    label = " ".join((page.category_label or "").split())
    if label:
        what = f"{what} “{label}”" if what else f"“{label}”"
    return what


def agency_html(audit: Audit, agency) -> str:
    rb = audit.rulebook
    s = audit.score(agency.agency_id)
    vmap = {v.criterion: v for v in audit.verdicts_of(agency.agency_id)}
    parts = [f"<h1>{e(agency.agency_name or agency.agency_id)}</h1>",
             f'<p class="meta">{e(L.AGENCY_ID)}: {e(agency.agency_id)} · {e(L.GROUP)}: '
             f'{e(rb.groups.get(agency.group, agency.group))} · {e(L.PERIOD)}: {e(L.vn_date(audit.period[0]))} – '
             f'{e(L.vn_date(audit.period[1]))}'
             + (f" · Ngày nộp phiếu: {e(L.vn_date(s.submitted_at))}" if s and s.submitted_at else "")
             + f" · {e(rb.title)} · {e(L.TIME_NOTE)}</p>"]
    if s is not None:
        if s.ranked:
            parts.append(f'<p class="summary"><span><strong>{e(L.SCORE)}:</strong> {num(s.score)}/{num(s.max_score)} '
                         f'({num(s.percent)}%)</span><span><strong>{e(L.LEVEL)}:</strong> {e(s.level)}</span>'
                         f'<span><strong>{e(L.RANKING)}:</strong> {e(s.rank)}</span></p>')
        else:
            parts.append(f'<p class="summary"><strong>{e(L.NOT_RANKED_HEAD)}:</strong> '
                         f'{e(L.not_ranked_label(s, rb.deadline))} '
                         f'(điểm các tiêu chí: {num(s.total)}/{num(s.max_score)})</p>')
        if s.pending:
            parts.append(f'<p class="flag">{e(s.pending)} tiêu chí đang chờ thẩm định (chưa tính điểm).</p>')
    parts.append(legend(audit, rb.max_points(agency.group, agency.agency_id)))
    rows, sections, fixes = [], [], []
    for i, criterion in enumerate(rb.criteria_for(agency.group, agency.agency_id), start=1):
        v = vmap.get(criterion.id)
        cp = audit.points(agency.agency_id, criterion.id)
        if v is None or cp is None:
            continue
        reported = audit.reported_text(agency.agency_id, criterion.id)
        reported_html = ext_link(reported) if criterion.kind == "website" else e(reported)
        hint = audit_hint(audit, agency.agency_id, criterion.id) if needs_hint(criterion, v, cp) else ""
        if hint:
            fixes.append(f"<li>{local_link('#' + criterion.id, criterion.name)}: {e(hint)}</li>")
        rows.append(f"<tr><td class=\"num\">{i}</td><td>{local_link('#' + criterion.id, criterion.name)}</td>"
                    f"<td class=\"wide\">{reported_html}</td><td>{badge(cp.status, v.reason)}</td>"
                    f"<td class=\"wide\">{e(L.reason_label(v.reason))}</td>"
                    f"<td class=\"num\">{e('' if v.posts_in_year is None else v.posts_in_year)}</td>"
                    f"<td class=\"num\">{num(cp.points)}/{num(cp.max_points)}</td>"
                    f"<td class=\"ev\">{local_link('#' + criterion.id, L.EVIDENCE)}</td></tr>")
        sections.append(_criterion_section(audit, criterion, v, cp, reported_html, hint))
    parts.append(f"<h2>{e(L.RESULT)}</h2>")
    parts.append(table(["STT", L.CRITERION, L.REPORTED, L.RESULT, L.REASON_HEAD, L.POSTS, L.SCORE, L.EVIDENCE],
                       rows, cls="criteria", ident="criteria", num_cols=(0, 5, 6), wide_cols=(2, 4), ev_cols=(7,)))
    if fixes:
        parts.append(f'<h2 id="to-fix">{e(L.TO_FIX)} ({len(fixes)})</h2><ol class="fixes">{"".join(fixes)}</ol>')
    parts.append(f'<p class="onlyprint meta">{e(L.PRINT_EVIDENCE)}</p>')
    parts.append(f'<div class="evidence-sections"><h2>{e(L.EVIDENCE)}</h2>{"".join(sections)}</div>')
    return document(f"{agency.agency_name} – {L.TITLE}", "\n".join(parts), root="../", foot=footer(audit))


def _criterion_section(audit: Audit, criterion, v: Verdict, cp, reported_html: str, hint: str) -> str:
    fetch_ids = audit.fetch_ids(v)
    kv = [
        (L.REPORTED, reported_html or "<em>bỏ trống</em>"),
        (L.RESULT, f"{badge(cp.status, v.reason)} {e(L.reason_label(v.reason))}"),
        (L.SCORE, f"{num(cp.points)}/{num(cp.max_points)}"),
    ]
    if cp.overridden:
        kv.insert(2, ("Kết quả tự động", f"{badge(v.status, v.reason)}"))
    if v.checked_url:
        kv.append((L.CHECKED_URL, ext_link(v.checked_url)))
    seen = _page_seen(v)
    if seen:
        kv.append(("Trang nhận diện", e(seen)))
    if v.posts_in_year is not None:
        kv.append((L.POSTS, e(v.posts_in_year)))
    if v.discovered:
        kv.append((L.DISCOVERED, L.YES))
    if v.checked_at:
        kv.append((L.CHECKED_AT, e(L.vn_datetime(v.checked_at))))
    body = [f'<section class="crit" id="{e(criterion.id)}"><h3>{e(criterion.name)}</h3>{kv_list(kv)}']
    if hint:
        body.append(f'<div class="hint"><strong>{e(L.HINT)}:</strong> {e(hint)}</div>')
    body.append(_override_block(audit, v))
    if v.items:
        found = sum(f.status == "found" for f in v.items)
        body.append(f'<h4>{e(ITEMS_HEAD)} ({found}/{len(v.items)})</h4>{_items_table(v)}')
    if v.content_checks:
        body.append(f"<h4>{e(L.CONTENT_CHECK)}</h4>{_content_table(v)}")
    if v.posts:
        body.append(f'<h4 class="noprint">{e(L.POSTS_LIST)} ({len(v.posts)})</h4>'
                    f'<div class="noprint">{_posts_table(audit, v, fetch_ids)}</div>')
    if v.pages:
        body.append(f'<h4 class="noprint">{e(L.PAGES)}</h4><div class="noprint">{_pages_table(v, fetch_ids)}</div>')
    body.append(tech_block(v.detail, cp.basis))
    body.append("</section>")
    return "\n".join(x for x in body if x)


ITEMS_HEAD = "Các mục trong danh mục đơn vị kê khai"


def _items_table(v: Verdict) -> str:
    """A list's items: each found (the page, the row matched there) or not (how many pages were searched)."""
    rows = []
    for f in v.items:
        where = (ext_link(f.page_url) if f.page_url else "") if f.status == "found" \
            else e(f"đã tìm trong {len(f.searched)} trang")
        rows.append(f"<tr><td>{e(f.item.number)}</td><td class=\"wide\">{e(f.item.title)}</td>"
                    f"<td>{e(L.vn_date(f.item.issued) if f.item.issued else '')}</td>"
                    f"<td>{e(L.ITEM_STATUS[f.status])}</td>"
                    f"<td class=\"wide\">{where}</td><td class=\"wide\">{e(f.matched_text)}</td></tr>")
    return table(["Số ký hiệu", "Trích yếu / Tên", "Ngày ban hành", L.RESULT, "Trang tìm thấy", "Dòng khớp"],
                 rows, cls="items", wide_cols=(1, 4, 5))


# ------------------------------------------------------------------------------------------------ writer

def write_html(audit: Audit, out_dir: Path | str) -> Path:
    """Write DIR/html/ (index.html, ranking.html, agency/*.html, evidence/*.html and *-raw.html); returns the
    index path."""
    root = Path(out_dir) / "html"
    (root / "agency").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(parents=True, exist_ok=True)
    for agency in audit.data.agencies:
        _write(root / agency_page(agency.agency_id), agency_html(audit, agency))
    for fid, fetch in sorted(audit.fetches.items()):
        _write(root / evidence_page(fid), evidence_html(audit, fid, fetch))
        _write(root / raw_page(fid), raw_html(audit, fid, fetch))
    _write(root / RANKING_PAGE, ranking_html(audit))
    if audit.trail or audit.rounds:
        _write(root / TRAIL_PAGE, trail_html(audit))
    index = root / "index.html"
    _write(index, index_page(audit))
    return index


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
