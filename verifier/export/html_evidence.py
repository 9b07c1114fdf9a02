"""The evidence pages of the HTML report: for each fetch, the archived page as the reviewer saw it, in a frame
that runs no script and loads nothing, beside what was read from it (its kind, its category label, the posts and
their dates) and the chain of requests that led to it; and a raw page with the record's headers and source as text.

The frame is an `<iframe sandbox srcdoc=...>` without `allow-scripts` (nor same-origin, forms, popups or top
navigation), and its document opens with a Content-Security-Policy of its own that allows no network at all;
the page's own CSP applies to it as well. The body is decoded as the crawl read it (crawler/charset.py's cascade).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator

from crawler.extract.page import read_text
from crawler.records import Post, Verdict
from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.html_base import badge, document, e, ext_link, footer, kv_list, local_link, table, tech_block
from verifier.export.names import agency_page, raw_page
from verifier.export.warc import READ_ERRORS, ArchivedResponse, read_record, warc_path

FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
FRAME_CHARS = 400_000        # characters of an archived page shown in the frame (the raw page has the rest)
_KEEP = frozenset("\n\t\r")
FRAME_NOTE = ("Trang hiển thị trong khung cách ly: không chạy mã, không tải gì từ mạng (ảnh, kiểu chữ từ máy chủ "
              "khác không hiện); ")
PRINT_NOTE = "Bản in không kèm khung trang đã lưu: xem bản điện tử."


# ------------------------------------------------------------------------------------------------ the chain

@dataclass(frozen=True)
class Exchange:
    """One response (or failure) record of a WARC file, as the chain of requests lists it."""

    offset: int
    record_type: str
    target: str
    status: int | None
    location: str


def _exchanges(path: Path) -> tuple[Exchange, ...]:
    """The response and metadata records of a WARC file, in file order (read once per version of the file)."""
    stat = path.stat()
    return _read_exchanges(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=16)
def _read_exchanges(path: Path, _size: int, _mtime: int) -> tuple[Exchange, ...]:
    out = []
    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                if record.rec_type not in ("response", "metadata"):
                    continue
                http = record.http_headers
                status = None
                if http is not None and record.rec_type == "response":
                    try:
                        status = int(http.get_statuscode())
                    except (TypeError, ValueError):
                        status = None
                out.append(Exchange(it.get_record_offset(), record.rec_type,
                                    record.rec_headers.get_header("WARC-Target-URI") or "", status,
                                    (http.get_header("Location") or "") if http is not None else ""))
    except READ_ERRORS:
        pass                     # a damaged file: the records before the damage stand
    return tuple(out)


def request_chain(path: Path | None, offset: int) -> list[Exchange]:
    """The redirect hops that led to the record at `offset`, then that record: the crawl writes a fetch's hops
    just before its final record, each 3xx answer's Location naming the next request."""
    if path is None or not path.is_file():
        return []
    records = _exchanges(path)
    at = next((i for i, r in enumerate(records) if r.offset == offset), None)
    if at is None:
        return []
    chain = [records[at]]
    for prev in reversed(records[:at]):
        nxt = chain[0]
        if prev.status is None or not 300 <= prev.status < 400 or not prev.location:
            break
        if urljoin(prev.target, prev.location) != nxt.target:
            break
        chain.insert(0, prev)
    return chain


def _chain_html(chain: list[Exchange], fetch: dict) -> str:
    if not chain:
        hop = fetch.get("final_url") or fetch.get("url")
        return f'<ol class="chain"><li>{ext_link(hop)}</li></ol>'
    items = []
    for i, ex in enumerate(chain):
        if ex.record_type == "metadata":
            what = f"không có phản hồi ({e(L.error_label(fetch.get('error')))})"
        elif ex.status is not None and 300 <= ex.status < 400:
            what = f"HTTP {e(ex.status)}, chuyển hướng tới {ext_link(urljoin(ex.target, ex.location))}"
        else:
            what = f"HTTP {e(ex.status)}" + (" (trang đã lưu)" if i == len(chain) - 1 else "")
        items.append(f"<li>{ext_link(ex.target)}: {what}</li>")
    return f'<ol class="chain" id="chain">{"".join(items)}</ol>'


# ------------------------------------------------------------------------------------------------ the frame

def _char_ref(ch: str) -> str:
    return f"&#x{ord(ch):x};" if ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") else ch


def srcdoc(text: str) -> str:
    """The archived page as a srcdoc attribute value: its own CSP first, then the page, escaped for a quoted
    attribute; invisible characters written as character references (the frame shows them as the page had)."""
    doc = f'<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">' + text
    escaped = escape(doc, quote=True)
    if escaped.isprintable():
        return escaped
    return "".join(_char_ref(ch) for ch in escaped)


def archived_frame(record: ArchivedResponse) -> tuple[str, str]:
    """(the frame, a note on how the page was read)."""
    decoded = read_text(record.body, dict(record.headers))
    text = decoded.text
    cut = record.truncated or len(text) > FRAME_CHARS
    notes = [f"bảng mã: {decoded.encoding}"]
    if decoded.legacy:
        notes.append(f"trang dùng bảng mã cũ {decoded.legacy}: chữ tiếng Việt hiển thị sai như trên trang gốc")
    if cut:
        notes.append("trang quá dài, chỉ hiển thị phần đầu")
    frame = (f'<iframe class="archived-frame" id="archived" title="{e(L.EVIDENCE)}: bản lưu trang" sandbox '
             f'referrerpolicy="no-referrer" srcdoc="{srcdoc(text[:FRAME_CHARS])}"></iframe>')
    return frame, "; ".join(notes)


# ------------------------------------------------------------------------------------------------ the pages

def fetch_verdict(audit: Audit, fetch: dict) -> Verdict | None:
    return next((v for v in audit.verdicts_of(fetch.get("agency_id") or "")
                 if v.criterion == fetch.get("criterion")), None)


def evidence_for_post(post: Post, verdict: Verdict, fetch_ids) -> int | None:
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


def _posts_read(audit: Audit, verdict: Verdict | None, fetch_id: int) -> str:
    if verdict is None:
        return ""
    ids = audit.fetch_ids(verdict)
    posts = [p for p in verdict.posts if evidence_for_post(p, verdict, ids) == fetch_id]
    if not posts:
        return f"<p>{e('Không có bài viết nào được đọc từ trang này.')}</p>"
    rows = []
    for post in posts:
        inside = post.within(audit.period)
        cls = ' class="in-period"' if inside else ""
        rows.append(f"<tr{cls}><td>{ext_link(post.url, post.title or post.url or '')}</td>"
                    f"<td>{e(L.vn_date(post.published))}</td><td>{e(L.vn_date(post.updated))}</td>"
                    f"<td>{e(L.YES if inside else '')}</td></tr>")
    counted = sum(p.within(audit.period) for p in posts)
    return (f"<p>{e(f'{len(posts)} bài viết đọc được, {counted} bài trong kỳ đánh giá (tô màu).')}</p>"
            + table(["Tiêu đề", "Ngày đăng", "Ngày cập nhật", L.IN_PERIOD], rows, cls="posts", ident="posts"))


def archived_record(audit: Audit, fetch: dict) -> tuple[Path | None, ArchivedResponse | None]:
    path = warc_path(audit.warc_dir, fetch.get("warc_file"))
    if not path or not path.is_file():
        return path, None
    return path, read_record(path, int(fetch.get("warc_offset") or 0))


def _http(fetch: dict) -> str:
    if fetch.get("status") is not None:
        return str(fetch["status"])
    return L.error_label(fetch.get("error")) if fetch.get("error") else ""


def evidence_html(audit: Audit, fid: int, fetch: dict) -> str:
    """The evidence page of one fetch."""
    names = {a.agency_id: a.agency_name for a in audit.data.agencies}
    agency_id, criterion_id = fetch.get("agency_id") or "", fetch.get("criterion") or ""
    criterion = audit.rulebook.by_id.get(criterion_id)
    verdict = fetch_verdict(audit, fetch)
    back = local_link("../" + agency_page(agency_id) + "#" + criterion_id,
                      f"{names.get(agency_id) or agency_id} – {criterion.name if criterion else criterion_id}")
    path, record = archived_record(audit, fetch)
    category = fetch.get("category")
    label = " ".join((fetch.get("category_label") or "").split())
    seen = e(label) if label else "<em>không nhận ra tên chuyên mục</em>"
    if category in audit.rulebook.by_id:
        seen += f" (ứng với tiêu chí “{e(audit.rulebook.by_id[category].name)}”)"
    kv = [
        ("Đơn vị / tiêu chí", back),
        ("Kết quả của tiêu chí", badge(verdict.status, verdict.reason) + " " + e(L.reason_label(verdict.reason))
         if verdict else ""),
        ("Mục đích", e(L.PURPOSE.get(fetch.get("purpose") or "", fetch.get("purpose") or ""))),
        ("Loại trang nhận diện", e(L.kind_label(fetch.get("kind"))) or "<em>không xác định</em>"),
        ("Chuyên mục nhận diện (tên trên trang)", seen),
        ("Số bài viết đọc được", e(fetch.get("posts") or 0)),
        ("URL yêu cầu", ext_link(fetch.get("url"))),
        ("URL cuối cùng", ext_link(fetch.get("final_url"))),
        ("HTTP", e(_http(fetch))),
        (L.CHECKED_AT, e(L.vn_datetime(_moment(fetch.get("fetched_at"))))),
        ("Mã băm nội dung", e(fetch.get("digest"))),
        ("Bản lưu WARC", e(f"{fetch.get('warc_file') or ''} @ {fetch.get('warc_offset') or 0} "
                           f"(+{fetch.get('warc_length') or 0} byte)") + " · "
         + local_link(raw_page(fid).rsplit("/", 1)[1], "Xem bản lưu gốc (mã nguồn)", "raw")),
    ]
    side = [f"<h2>{e('Chuỗi yêu cầu')}</h2>",
            _chain_html(request_chain(path, int(fetch.get("warc_offset") or 0)) if record else [], fetch),
            f"<h2>{e('Bài viết đọc được từ trang này')}</h2>", _posts_read(audit, verdict, fid)]
    if record is None:
        frame = f'<p class="flag">{e("Không đọc được bản lưu trong tệp WARC.")}</p>'
    elif record.record_type != "response" or not record.body:
        frame = f"<p>{e('Không có nội dung trang để hiển thị (máy chủ không trả về trang).')}</p>"
    else:
        shown, note = archived_frame(record)
        said = FRAME_NOTE + note
        frame = (f'<p class="meta">{e(said)}.</p>{shown}'
                 f'<p class="onlyprint meta">{e(PRINT_NOTE)}</p>')
    parts = [f"<h1>{e(L.EVIDENCE)}: bản lưu trang đã kiểm tra</h1>",
             f'<p class="meta">{e(L.TIME_NOTE)}</p>', kv_list(kv),
             tech_block(fetch.get("error_detail") or ""),
             f'<div class="evidence-grid"><div>{frame}</div><div>{"".join(side)}</div></div>']
    return document(f"{L.EVIDENCE} {fid}", "\n".join(p for p in parts if p), root="../", foot=footer(audit))


def raw_html(audit: Audit, fid: int, fetch: dict) -> str:
    """The archived record as text: status line, headers and the source of the page, all escaped."""
    _, record = archived_record(audit, fetch)
    parts = [f"<h1>{e(L.EVIDENCE)}: bản lưu gốc (mã nguồn)</h1>",
             f"<p>{local_link(str(int(fid)) + '.html', 'Quay lại trang bằng chứng')} · {e(L.TIME_NOTE)}</p>"]
    if record is None:
        parts.append(f'<p class="flag">{e("Không đọc được bản lưu trong tệp WARC.")}</p>')
    else:
        headers = "\n".join(f"{k}: {v}" for k, v in record.headers)
        decoded = read_text(record.body, dict(record.headers)) if record.body else None
        parts.append(f'<p class="meta">{e(record.target_uri)} · {e(record.warc_date)}; '
                     f'{e("bảng mã: " + decoded.encoding if decoded else "không có nội dung")}'
                     f'{e("; đã cắt bớt vì quá dài" if record.truncated else "")}.</p>')
        parts.append(f'<pre class="archived" id="headers">{e(record.status_line)}\n{e(headers)}</pre>')
        parts.append(f'<pre class="archived" id="body">{e(decoded.text if decoded else "")}</pre>')
    return document(f"{L.EVIDENCE} {fid}", "\n".join(parts), root="../", foot=footer(audit))


def _moment(text):
    import datetime as dt
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
