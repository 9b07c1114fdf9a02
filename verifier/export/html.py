"""The HTML audit report (in Vietnamese): an index with the ranking per group and the review queue, one page
per agency with every criterion, and one evidence page per fetch showing the archived response as text.

Every crawled or reported string is escaped; links to crawled URLs are made for http(s) only; each page
carries a Content-Security-Policy that allows no script at all. Readable on a phone, printable.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crawler.extract import decode
from crawler.records import Post, Verdict
from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.names import agency_page, evidence_page
from verifier.export.run_info import run_facts
from verifier.export.safe_text import html_text, safe_href
from verifier.export.warc import read_record, warc_path
from verifier.score import rulebook_label

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
*{box-sizing:border-box}
body{font-family:"Noto Sans","DejaVu Sans","Liberation Sans",Arial,sans-serif;font-size:15px;line-height:1.45;
 color:#1b1b1b;margin:0 auto;max-width:1180px;padding:12px 16px;background:#fff}
h1{font-size:1.45em;margin:.3em 0}h2{font-size:1.2em;margin:1.4em 0 .4em;border-bottom:2px solid #c9d6e3}
h3{font-size:1.05em;margin:1.2em 0 .3em}
nav{font-size:.9em;margin-bottom:.6em}
.meta{color:#555;font-size:.9em}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #d5dbe1;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#e8eef4}
td.num,th.num{text-align:right;white-space:nowrap}
tr.not-ranked td{color:#666;font-style:italic}
.st{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;white-space:nowrap}
.st-pass{background:#dff3e3;color:#185c2b}.st-fail{background:#fbe0e0;color:#8a1c1c}
.st-review{background:#fff1c7;color:#7a5600}.st-exempt{background:#dcecfb;color:#174a7c}
.flag{color:#8a1c1c;font-weight:600}
.crit{border-top:1px solid #c9d6e3;padding-top:.2em;margin-top:1em}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0}
dl.kv dt{font-weight:600;color:#333}dl.kv dd{margin:0;overflow-wrap:anywhere}
.override{background:#fff8e5;border-left:4px solid #e0b000;padding:4px 10px;margin:.5em 0}
pre.archived{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f7;border:1px solid #ddd;padding:8px;
 font-size:.85em;max-height:none}
a{color:#0b57a4}
a[href^="http"],pre,dd{overflow-wrap:anywhere}
.summary span{display:inline-block;margin-right:1em}
@media (max-width:700px){
 body{font-size:14px;padding:8px}
 th,td{padding:3px 4px}
 dl.kv{grid-template-columns:1fr}
 dl.kv dt{margin-top:.4em}
 .wide{display:none}
}
@media print{
 body{max-width:none;font-size:10.5pt;padding:0}
 nav,.noprint{display:none}
 a{color:#000;text-decoration:none}
 .scroll{overflow:visible}
 thead{display:table-header-group}
 tr,.override,dl.kv{break-inside:avoid}
 .crit{break-inside:auto}
 h2,h3{break-after:avoid}
 .st{border:1px solid #999}
 pre.archived{max-height:none;overflow:visible}
}
"""


def e(value) -> str:
    """Escaped text, invisible characters shown (None -> empty)."""
    return html_text(value)


def ext_link(url: str | None, text: str | None = None) -> str:
    """A link to a crawled URL when it is an absolute http(s) URL; otherwise just its escaped text."""
    href = safe_href(url)
    label = e(text if text is not None else (url or "").strip())
    if href is not None:
        return f'<a href="{e(href)}" rel="noopener noreferrer nofollow">{label}</a>'
    return label


def local_link(href: str, text: str, cls: str = "") -> str:
    """A link inside the report (href built from safe names only)."""
    attr = f' class="{cls}"' if cls else ""
    return f'<a href="{e(href)}"{attr}>{e(text)}</a>'


def badge(status: str, reason: str | None = None) -> str:
    return f'<span class="st st-{e(status)}">{e(L.status_label(status, reason))}</span>'


def footer(audit: Audit) -> str:
    """The footer of every page: when the report's data stands, and how the run was made (its provenance)."""
    facts = "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in run_facts(audit))
    return (f'<footer class="meta" id="provenance"><p>{e(L.GENERATED)}: {e(L.vn_moment(audit.generated_at))} · '
            f'portal-evidence</p>\n<h2>{e(L.RUN_INFO)}</h2><dl class="kv">{facts}</dl></footer>')


def document(title: str, body: str, *, root: str, foot: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<nav>{local_link(root + 'index.html', 'Trang tổng hợp')}</nav>\n"
        f"{body}\n{foot}\n"
        "</body>\n</html>\n"
    )


def _table(head: list[str], rows: list[str], *, cls: str = "", ident: str = "", num_cols=(), wide_cols=()) -> str:
    """A table; `wide_cols` are hidden on a phone, header and cells alike (their cells carry class "wide")."""
    def th_class(i):
        names = " ".join(n for n, cols in (("num", num_cols), ("wide", wide_cols)) if i in cols)
        return f' class="{names}"' if names else ""
    ths = "".join(f"<th{th_class(i)}>{e(h)}</th>" for i, h in enumerate(head))
    attrs = (f' id="{e(ident)}"' if ident else "") + (f' class="{e(cls)}"' if cls else "")
    body = "".join(rows)
    return f'<div class="scroll"><table{attrs}><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>'


def _num(x) -> str:
    return e(L.vn_number(x))


# ------------------------------------------------------------------------------------------------ index

def index_page(audit: Audit) -> str:
    rb = audit.rulebook
    start, end = audit.period
    parts = [f"<h1>{e(L.TITLE)} năm {e(rb.year)} – {e(rb.province)}</h1>",
             f'<p class="meta">{e(L.RULEBOOK)}: {e(rulebook_label(rb))} · {e(L.PERIOD)}: {e(L.vn_date(start))} – '
             f'{e(L.vn_date(end))} · Hạn nộp phiếu: {e(L.vn_date(rb.deadline))} · '
             f'Lần kiểm tra số {e(audit.run_id)}</p>']
    counts = Counter(v.status for v in audit.data.verdicts)
    parts.append('<p class="summary">' + "".join(
        f"<span>{badge(s)} {counts.get(s, 0)}</span>" for s in ("pass", "fail", "review", "exempt")) + "</p>")
    for gid, gname, members in audit.groups():
        rows = []
        for s in members:
            link = local_link(agency_page(s.agency_id), s.agency_name or s.agency_id)
            if s.ranked:
                rows.append(f"<tr><td class=\"num\">{e(s.rank)}</td><td>{link}</td>"
                            f"<td class=\"num\">{_num(s.score)}/{_num(s.max_score)}</td>"
                            f"<td class=\"num\">{_num(s.percent)}</td><td>{e(s.level)}</td>"
                            f"<td class=\"num\">{e(s.pending or '')}</td></tr>")
            else:
                rows.append(f"<tr class=\"not-ranked\"><td>–</td><td>{link}</td>"
                            f"<td colspan=\"3\">{e(L.NOT_RANKED_HEAD)}: {e(L.not_ranked_label(s, rb.deadline))}</td>"
                            f"<td class=\"num\">{e(s.pending or '')}</td></tr>")
        parts.append(f"<h2 id=\"group-{e(gid)}\">{e(L.RANKING)} – {e(gname)}</h2>")
        parts.append(_table([L.RANKING, L.AGENCY, L.SCORE, L.PERCENT, L.LEVEL, "Cần xem xét"], rows,
                            cls="ranking", ident=f"ranking-{gid}", num_cols=(0, 2, 3, 5)))
    parts.append(f"<h2 id=\"review-queue\">{e(L.REVIEW_QUEUE)}</h2>")
    queue = audit.review_queue()
    if queue:
        names = {a.agency_id: a.agency_name for a in audit.data.agencies}
        rows = []
        for v, _cp in queue:
            view = audit.override(v.agency_id, v.criterion)
            note = f' <span class="flag">{e(L.MACHINE_CHANGED)}</span>' if view and view.machine_changed else ""
            rows.append(f"<tr><td>{local_link(agency_page(v.agency_id), names.get(v.agency_id) or v.agency_id)}</td>"
                        f"<td>{local_link(agency_page(v.agency_id) + '#' + v.criterion, v.criterion)}</td>"
                        f"<td>{badge(v.status, v.reason)}</td><td>{e(L.reason_label(v.reason))}{note}</td>"
                        f"<td class=\"wide\">{e(v.detail)}</td></tr>")
        parts.append(_table([L.AGENCY, L.CRITERION, L.RESULT, L.REASON_HEAD, L.DETAIL], rows, ident="review-table",
                            wide_cols=(4,)))
    else:
        parts.append("<p>Không có tiêu chí nào đang chờ xem xét.</p>")
    overrides = [(k, v) for k, v in audit.data.overrides.items()]
    if overrides:
        rows = []
        for (agency_id, criterion), view in sorted(overrides):
            o = view.override
            flag = f' <span class="flag">{e(L.MACHINE_CHANGED)}</span>' if view.machine_changed else ""
            rows.append(f"<tr><td>{local_link(agency_page(agency_id) + '#' + criterion, agency_id + ' / ' + criterion)}"
                        f"</td><td>{badge(o.status)}</td><td>{e(o.by)}</td><td>{e(L.vn_datetime(o.at))}</td>"
                        f"<td>{e(o.note)}{flag}</td></tr>")
        parts.append(f"<h2 id=\"overrides\">{e(L.OVERRIDE)}</h2>")
        parts.append(_table([f"{L.AGENCY} / {L.CRITERION}", L.RESULT, "Người điều chỉnh", "Thời điểm", "Lý do"], rows))
    return document(f"{L.TITLE} {rb.year}", "\n".join(parts), root="", foot=footer(audit))


# ------------------------------------------------------------------------------------------------ agency

def _evidence_for_post(post: Post, verdict: Verdict, fetch_ids) -> int | None:
    """The fetch a post's date rests on: its own article page, the feed for a feed date, else the listing."""
    pairs = list(zip(verdict.pages, fetch_ids))
    for page, fid in pairs:
        if fid is not None and post.url and post.url in (page.url, page.final_url) and page.purpose == "article":
            return fid
    if post.date_source == "feed":
        for page, fid in pairs:
            if fid is not None and page.purpose == "feed":
                return fid
    for page, fid in pairs:
        if fid is not None and page.purpose == "listing":
            return fid
    return next((fid for _, fid in pairs if fid is not None), None)


def _posts_table(audit: Audit, verdict: Verdict, fetch_ids) -> str:
    start, end = audit.period
    rows = []
    for post in verdict.posts:
        inside = any(start <= d <= end for d in post.dates)
        fid = _evidence_for_post(post, verdict, fetch_ids)
        ev = local_link("../" + evidence_page(fid), L.EVIDENCE) if fid is not None else ""
        rows.append(f"<tr><td>{ext_link(post.url, post.title or post.url or '')}</td>"
                    f"<td>{e(L.vn_date(post.published))}</td><td>{e(L.vn_date(post.updated))}</td>"
                    f"<td class=\"wide\">{e(post.date_source)}</td><td>{L.YES if inside else ''}</td>"
                    f"<td>{ev}</td></tr>")
    return _table(["Tiêu đề", "Ngày đăng", "Ngày cập nhật", "Nguồn ngày", "Trong kỳ", L.EVIDENCE], rows,
                  cls="posts", wide_cols=(3,))


def _pages_table(verdict: Verdict, fetch_ids) -> str:
    rows = []
    for page, fid in zip(verdict.pages, fetch_ids):
        status = page.status if page.status is not None else (page.error or "")
        ev = local_link("../" + evidence_page(fid), "Xem bản lưu", "evidence") if fid is not None else e(
            page.warc_record or "")
        rows.append(f"<tr><td>{e(L.PURPOSE.get(page.purpose, page.purpose))}</td><td>{e(status)}</td>"
                    f"<td class=\"wide\">{e(page.kind)}</td><td>{e(page.category_label or page.category)}</td>"
                    f"<td class=\"num\">{e(page.posts)}</td><td>{ext_link(page.final_url or page.url)}</td>"
                    f"<td>{e(L.vn_datetime(page.fetched_at))}</td><td>{ev}</td></tr>")
    return _table(["Mục đích", "HTTP", "Loại trang", "Chuyên mục nhận diện", "Số bài", "URL", L.CHECKED_AT,
                   L.EVIDENCE], rows, cls="pages", num_cols=(4,), wide_cols=(2,))


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


def agency_html(audit: Audit, agency) -> str:
    rb = audit.rulebook
    s = audit.score(agency.agency_id)
    vmap = {v.criterion: v for v in audit.verdicts_of(agency.agency_id)}
    parts = [f"<h1>{e(agency.agency_name or agency.agency_id)}</h1>",
             f'<p class="meta">{e(L.AGENCY_ID)}: {e(agency.agency_id)} · {e(L.GROUP)}: '
             f'{e(rb.groups.get(agency.group, agency.group))} · {e(L.PERIOD)}: {e(L.vn_date(audit.period[0]))} – '
             f'{e(L.vn_date(audit.period[1]))}'
             + (f" · Ngày nộp phiếu: {e(L.vn_date(s.submitted_at))}" if s and s.submitted_at else "") + "</p>"]
    if s is not None:
        if s.ranked:
            parts.append(f'<p class="summary"><span><strong>{e(L.SCORE)}:</strong> {_num(s.score)}/{_num(s.max_score)} '
                         f'({_num(s.percent)}%)</span><span><strong>{e(L.LEVEL)}:</strong> {e(s.level)}</span>'
                         f'<span><strong>{e(L.RANKING)}:</strong> {e(s.rank)}</span></p>')
        else:
            parts.append(f'<p class="summary"><strong>{e(L.NOT_RANKED_HEAD)}:</strong> '
                         f'{e(L.not_ranked_label(s, rb.deadline))} '
                         f'(điểm các tiêu chí: {_num(s.total)}/{_num(s.max_score)})</p>')
        if s.pending:
            parts.append(f'<p class="flag">{e(s.pending)} tiêu chí đang chờ thẩm định (chưa tính điểm).</p>')
    rows, sections = [], []
    for i, criterion in enumerate(rb.criteria_for(agency.group), start=1):
        v = vmap.get(criterion.id)
        cp = audit.points(agency.agency_id, criterion.id)
        if v is None or cp is None:
            continue
        reported = audit.reported_text(agency.agency_id, criterion.id)
        reported_html = ext_link(reported) if criterion.kind == "website" else e(reported)
        rows.append(f"<tr><td class=\"num\">{i}</td><td>{local_link('#' + criterion.id, criterion.name)}</td>"
                    f"<td class=\"wide\">{reported_html}</td><td>{badge(cp.status, v.reason)}</td>"
                    f"<td class=\"wide\">{e(L.reason_label(v.reason))}</td>"
                    f"<td class=\"num\">{e('' if v.posts_in_year is None else v.posts_in_year)}</td>"
                    f"<td class=\"num\">{_num(cp.points)}/{_num(cp.max_points)}</td>"
                    f"<td>{local_link('#' + criterion.id, L.EVIDENCE)}</td></tr>")
        sections.append(_criterion_section(audit, criterion, v, cp, reported_html))
    parts.append(f"<h2>{e(L.RESULT)}</h2>")
    parts.append(_table(["STT", L.CRITERION, L.REPORTED, L.RESULT, L.REASON_HEAD, L.POSTS, L.SCORE, L.EVIDENCE],
                        rows, cls="criteria", ident="criteria", num_cols=(0, 5, 6), wide_cols=(2, 4)))
    parts.append(f"<h2>{e(L.EVIDENCE)}</h2>")
    parts.extend(sections)
    return document(f"{agency.agency_name} – {L.TITLE}", "\n".join(parts), root="../", foot=footer(audit))


def _criterion_section(audit: Audit, criterion, v: Verdict, cp, reported_html: str) -> str:
    fetch_ids = audit.fetch_ids(v)
    kv = [
        (L.REPORTED, reported_html or "<em>bỏ trống</em>"),
        (L.RESULT, f"{badge(cp.status, v.reason)} {e(L.reason_label(v.reason))}"),
        (L.SCORE, f"{_num(cp.points)}/{_num(cp.max_points)} <span class=\"meta\">({e(cp.basis)})</span>"),
    ]
    if cp.overridden:
        kv.insert(2, ("Kết quả tự động", f"{badge(v.status, v.reason)}"))
    if v.checked_url:
        kv.append((L.CHECKED_URL, ext_link(v.checked_url)))
    if v.posts_in_year is not None:
        kv.append((L.POSTS, e(v.posts_in_year)))
    if v.discovered:
        kv.append((L.DISCOVERED, L.YES))
    if v.checked_at:
        kv.append((L.CHECKED_AT, e(L.vn_datetime(v.checked_at))))
    if v.detail:
        kv.append((L.DETAIL, e(v.detail)))
    dl = "".join(f"<dt>{e(k)}</dt><dd>{val}</dd>" for k, val in kv)
    body = [f'<section class="crit" id="{e(criterion.id)}"><h3>{e(criterion.name)}</h3><dl class="kv">{dl}</dl>',
            _override_block(audit, v)]
    if v.posts:
        body.append(f"<h4>{e(L.POSTS_LIST)} ({len(v.posts)})</h4>" + _posts_table(audit, v, fetch_ids))
    if v.pages:
        body.append(f"<h4>{e(L.PAGES)}</h4>" + _pages_table(v, fetch_ids))
    body.append("</section>")
    return "\n".join(x for x in body if x)


# ------------------------------------------------------------------------------------------------ evidence

def evidence_html(audit: Audit, fetch: dict) -> str:
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    agency_id, criterion = fetch.get("agency_id") or "", fetch.get("criterion") or ""
    back = local_link("../" + agency_page(agency_id) + "#" + criterion,
                      f"{names.get(agency_id) or agency_id} – {criterion}")
    path = warc_path(audit.warc_dir, fetch.get("warc_file"))
    record = read_record(path, int(fetch.get("warc_offset") or 0)) if path and path.is_file() else None
    kv = [
        ("Đơn vị / tiêu chí", back),
        ("URL yêu cầu", ext_link(fetch.get("url"))),
        ("URL cuối cùng", ext_link(fetch.get("final_url"))),
        ("HTTP", e(fetch.get("status") if fetch.get("status") is not None else fetch.get("error") or "")),
        (L.CHECKED_AT, e(L.vn_moment(fetch.get("fetched_at")))),
        ("Mã băm nội dung", e(fetch.get("digest"))),
        ("Bản lưu WARC", e(f"{fetch.get('warc_file') or ''} @ {fetch.get('warc_offset') or 0} "
                           f"(+{fetch.get('warc_length') or 0} byte)")),
    ]
    parts = [f"<h1>{e(L.EVIDENCE)}: bản lưu trang đã kiểm tra</h1>",
             '<dl class="kv">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in kv) + "</dl>"]
    if record is None:
        parts.append("<p class=\"flag\">Không đọc được bản lưu trong tệp WARC.</p>")
    else:
        headers = "\n".join(f"{k}: {v}" for k, v in record.headers)
        text, encoding = decode(record.body, dict(record.headers)) if record.body else ("", "")
        parts.append(f"<h2>Phản hồi đã lưu ({e(record.record_type)}, {e(record.warc_date)})</h2>")
        parts.append("<p class=\"meta\">Nội dung hiển thị dưới dạng văn bản thuần (không chạy mã, không tải tài "
                     f"nguyên); mã hóa: {e(encoding)}"
                     + ("; đã cắt bớt vì quá dài" if record.truncated else "") + ".</p>")
        parts.append(f'<pre class="archived" id="headers">{e(record.status_line)}\n{e(headers)}</pre>')
        parts.append(f'<pre class="archived" id="body">{e(text)}</pre>')
    return document(f"{L.EVIDENCE} {fetch.get('id')}", "\n".join(parts), root="../", foot=footer(audit))


# ------------------------------------------------------------------------------------------------ writer

def write_html(audit: Audit, out_dir: Path | str) -> Path:
    """Write DIR/html/ (index.html, agency/*.html, evidence/*.html); returns the index path."""
    root = Path(out_dir) / "html"
    (root / "agency").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(parents=True, exist_ok=True)
    for agency in audit.data.agencies:
        _write(root / agency_page(agency.agency_id), agency_html(audit, agency))
    for fid, fetch in sorted(audit.fetches.items()):
        _write(root / evidence_page(fid), evidence_html(audit, fetch))
    index = root / "index.html"
    _write(index, index_page(audit))
    return index


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
