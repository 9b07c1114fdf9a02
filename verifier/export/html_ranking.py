"""The ranking page of the HTML report: one A4 landscape page per group, its table beside a bar chart of the
scores drawn here as inline SVG (no script), the levels' thresholds marked, and the agencies not ranked with
their reason in words."""

from __future__ import annotations

from verifier.export import labels as L
from verifier.export.audit import Audit
from verifier.export.html_base import document, e, footer, legend, local_link, num, table
from verifier.export.names import agency_page

LANDSCAPE = "@page{size:A4 landscape;margin:10mm}"
CHART_WIDTH = 560
LABEL_WIDTH = 215          # the agency names left of the bars
BAR_AREA = CHART_WIDTH - LABEL_WIDTH - 45
MAX_CHART_HEIGHT = 440     # a big group gets thinner bars, so the page stays one page
TOP = 22                   # the levels' names above the bars
# a level's band behind the bars, and its bars, from the highest level down
LEVEL_COLOURS = (("#e3f2e5", "#2e7d32"), ("#e3edf9", "#1565c0"), ("#fdf0dc", "#d97a00"), ("#fbe4e4", "#c62828"))


def _short(name: str, limit: int = 32) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _x(percent: float) -> float:
    return LABEL_WIDTH + BAR_AREA * max(0.0, min(100.0, percent)) / 100


def bar_chart(audit: Audit, members) -> str:
    """The ranked agencies' percentages as horizontal bars over the levels' bands (name above, threshold
    below), drawn as inline SVG: no script, and printed as it is shown."""
    ranked = [s for s in members if s.ranked]
    if not ranked:
        return ""
    bar = max(8, min(24, (MAX_CHART_HEIGHT - TOP - 24) // len(ranked) - 6))
    step = bar + 6
    bottom = TOP + step * len(ranked) + 4
    height = bottom + 16
    levels = sorted(audit.rulebook.levels, key=lambda lv: -lv.min)
    colours = {lv.name: LEVEL_COLOURS[min(i, len(LEVEL_COLOURS) - 1)] for i, lv in enumerate(levels)}
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
             f'role="img" aria-label="{e(L.SCORE)} ({e(L.PERCENT)})">']
    upper = 100.0
    for lv in levels:
        left, right = _x(lv.min), _x(upper)
        band, _ = colours[lv.name]
        parts.append(f'<rect x="{left:.1f}" y="{TOP - 4}" width="{right - left:.1f}" height="{bottom - TOP + 4}" '
                     f'fill="{band}"/>')
        parts.append(f'<text x="{(left + right) / 2:.1f}" y="{TOP - 8}" font-size="10" text-anchor="middle" '
                     f'fill="#444">{e(lv.name)}</text>')
        parts.append(f'<text x="{left:.1f}" y="{bottom + 12}" font-size="9" text-anchor="middle" fill="#555">'
                     f'{e(L.vn_number(lv.min))}%</text>')
        upper = lv.min
    parts.append(f'<text x="{_x(100):.1f}" y="{bottom + 12}" font-size="9" text-anchor="middle" '
                 'fill="#555">100%</text>')
    for i, s in enumerate(ranked):
        y = TOP + i * step
        width = _x(s.percent or 0) - LABEL_WIDTH
        _, fill = colours.get(s.level, LEVEL_COLOURS[-1])
        baseline = y + bar * 0.5 + 4
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{baseline:.1f}" font-size="11" text-anchor="end">'
                     f'{e(s.rank)}. {e(_short(s.agency_name or s.agency_id))}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{bar}" '
                     f'fill="{fill}"/>')
        parts.append(f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{baseline:.1f}" font-size="11">'
                     f'{e(L.vn_number(s.percent))}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def ranking_html(audit: Audit) -> str:
    rb = audit.rulebook
    start, end = audit.period
    sections = []
    for gid, gname, members in audit.groups():
        rows, unranked = [], []
        for s in members:
            link = local_link(agency_page(s.agency_id), s.agency_name or s.agency_id)
            if s.ranked:
                rows.append(f'<tr><td class="num">{e(s.rank)}</td><td>{link}</td>'
                            f'<td class="num">{num(s.score)}/{num(s.max_score)}</td>'
                            f'<td class="num">{num(s.percent)}</td><td>{e(s.level)}</td></tr>')
            else:
                unranked.append(f"<li>{link}: {e(L.not_ranked_label(s, rb.deadline))}</li>")
        not_ranked = (f'<h3>{e(L.NOT_RANKED_HEAD)}</h3><ul class="not-ranked" id="not-ranked-{e(gid)}">'
                      f'{"".join(unranked)}</ul>' if unranked else "")
        sections.append(
            f'<section class="group" id="group-{e(gid)}"><h1>{e(L.RANKING)} năm {e(rb.year)} – {e(gname)}</h1>'
            f'<p class="meta">{e(rb.title)} · {e(L.PERIOD)}: {e(L.vn_date(start))} – {e(L.vn_date(end))} · '
            f'{e(L.GENERATED)}: {e(L.vn_datetime(audit.generated_at))} ({e(L.TIME_NOTE)})</p>'
            f'<div class="ranking-page"><div>'
            + table([L.RANKING, L.AGENCY, L.SCORE, L.PERCENT, L.LEVEL], rows, cls="ranking",
                    ident=f"ranking-{gid}", num_cols=(0, 2, 3))
            + f"{not_ranked}{legend(audit)}</div><div>{bar_chart(audit, members)}</div></div></section>")
    body = "\n".join(sections) or f"<p>{e('Chưa có đơn vị nào được chấm điểm.')}</p>"
    page = document(f"{L.RANKING} {rb.year}", body, root="", foot=footer(audit), cls="ranking-doc")
    return page.replace("</style>", LANDSCAPE + "</style>", 1)
