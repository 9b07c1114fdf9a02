"""What every page of the HTML report shares: escaping and links, tables, the page frame and its footer.

Every crawled or reported string goes through `e` (escaped, invisible characters shown); links to crawled URLs
are made for http(s) only; each page carries a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.run_info import run_facts
from verifier.export.safe_text import html_text, safe_href

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


@cache
def css() -> str:
    """The report's style sheet (templates/report.css), inlined in every page."""
    return (files("verifier.export") / "templates" / "report.css").read_text(encoding="utf-8")


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


def num(x) -> str:
    return e(L.vn_number(x))


def kv_list(pairs) -> str:
    """A definition list of (label, HTML) pairs; the labels are escaped here, the values are HTML already."""
    return '<dl class="kv">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in pairs) + "</dl>"


def tech_block(*texts: str) -> str:
    """The machine's own words (English), collapsed: for whoever maintains the tool, not for the agency."""
    shown = [t for t in texts if t]
    if not shown:
        return ""
    body = "".join(f"<p>{e(t)}</p>" for t in shown)
    return f'<details class="tech"><summary>{e(L.DETAIL)}</summary>{body}</details>'


def table(head: list[str], rows: list[str], *, cls: str = "", ident: str = "", num_cols=(), wide_cols=(),
          ev_cols=()) -> str:
    """A table; `wide_cols` are hidden on a phone, header and cells alike (their cells carry class "wide"), and
    `ev_cols` (links to the evidence) on paper (class "ev")."""
    def th_class(i):
        names = " ".join(n for n, cols in (("num", num_cols), ("wide", wide_cols), ("ev", ev_cols)) if i in cols)
        return f' class="{names}"' if names else ""
    ths = "".join(f"<th{th_class(i)}>{e(h)}</th>" for i, h in enumerate(head))
    attrs = (f' id="{e(ident)}"' if ident else "") + (f' class="{e(cls)}"' if cls else "")
    body = "".join(rows)
    return f'<div class="scroll"><table{attrs}><thead><tr>{ths}</tr></thead><tbody>{body}</tbody></table></div>'


def legend(audit: Audit, maximum: float | None = None) -> str:
    """The levels and their thresholds, from the rulebook."""
    items = "".join(f"<li><strong>{e(name)}</strong>: {e(words)}</li>"
                    for name, words in L.level_legend(audit.rulebook.levels, maximum))
    return f'<div class="legend"><strong>{e(L.LEVELS)}</strong> ({e(L.PERCENT)}):<ul>{items}</ul></div>'


def _facts(audit: Audit) -> list[tuple[str, str]]:
    """The run's provenance, the rulebook named by its title and its digest (never a file path)."""
    book = audit.provenance.get("rulebook") or {}
    out = []
    for label, value in run_facts(audit):
        if label == L.RULEBOOK and book:
            value = f"{book.get('title') or audit.rulebook.title}; sha256: {book.get('sha256') or L.UNKNOWN}"
        out.append((label, value))
    return out


def footer(audit: Audit) -> str:
    """The footer of every page: when the report's data stands, and how the run was made (its provenance)."""
    facts = "".join(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in _facts(audit))
    return (f'<footer class="meta" id="provenance"><p>{e(L.GENERATED)}: {e(L.vn_datetime(audit.generated_at))} '
            f'· portal-evidence</p>\n'
            f'<details class="tech noprint"><summary>{e(L.RUN_INFO)}</summary><dl class="kv">{facts}</dl></details>'
            "</footer>")


def document(title: str, body: str, *, root: str, foot: str, cls: str = "") -> str:
    body_attr = f' class="{e(cls)}"' if cls else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{e(title)}</title>\n<style>{css()}</style>\n</head>\n<body{body_attr}>\n"
        f"<nav>{local_link(root + 'index.html', 'Trang tổng hợp')} · "
        f"{local_link(root + 'ranking.html', L.RANKING_PAGE)}</nav>\n"
        f"{body}\n{foot}\n"
        "</body>\n</html>\n"
    )
