"""Build the bundled demo: fake Cao Bằng agency portals, the registry, the reports and the truth.

    python data/demo/build.py          # rewrites data/demo/{portals/,agencies.csv,reports.csv,truth.csv}
    python data/demo/build.py --out DIR

One content model (portals → categories → posts, plus the links each agency reported) gives
everything: the pages served by demo/server.py, the inputs of `portal-evidence crawl`,
and truth.csv, the verdict every (agency, criterion) must get, computed here from the model
by the rules of SPEC.md §4, never copied from a crawl's output. Deterministic: the same model
always writes the same bytes (tests/test_demo_server.py checks the committed files).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import shutil
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlencode

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import markup as m  # noqa: E402  (sibling modules, not a package)
from content import AGENCIES, HOSTED, ITEM_ROWS, ITEMS, NO_FORM, PORTALS, REPORTS, SEARCHES, portal_of  # noqa: E402
from model import Category, Portal, Post, slugify  # noqa: E402

RULEBOOK = HERE.parent.parent / "rules" / "caobang-2018.yaml"
PERIOD = (dt.date(2018, 1, 1), dt.date(2018, 12, 31))
MAX_LISTING_PAGES = 12      # crawler/settings.py: the crawl reads at most this many pages of a listing
MAX_ARTICLE_PAGES = 15      # ... and at most this many article pages per link


# -- rendering ------------------------------------------------------------------------

def crumbs(portal: Portal, cat: Category | None, title: str | None = None):
    out = [("Trang chủ", portal.home_path)]
    if cat is not None:
        out.append((cat.label, portal.listing_path(cat, 1) if title else None))
    if title:
        out.append((title, None))
    return out


def listing_html(portal: Portal, cat: Category, n: int, notice: str = "") -> str:
    pages = cat.pages
    hrefs = [portal.listing_path(cat, i) for i in range(1, len(pages) + 1)]
    items = [m.item(portal.platform, p.title, portal.article_path(cat, p), p.date if cat.listing_dates else None,
                    k, p.summary) for k, p in enumerate(pages[n - 1])]
    block = m.listing_block(portal.platform, cat.label, items, m.pager(portal.platform, n, hrefs))
    if (cat.intro or cat.sub_pages) and n == 1:
        links = "".join(f'<li><a href="{portal.sub_page_path(cat, title)}">{m.e(title)}</a></li>'
                        for title, _ in cat.sub_pages)
        block = (f'      <div class="intro"><p>{m.e(cat.intro)}</p>' + (f"<ul>{links}</ul>" if links else "")
                 + f"</div>\n{block}")

    if portal.platform == "webforms":
        block = (f'      <form method="post" action="./{hrefs[0].rsplit("/", 1)[1]}" id="aspnetForm">\n'
                 '      <input type="hidden" name="__VIEWSTATE" value="/wEPDwUKLTEzMjQ1NjA3OA9kFgJmD2QWAgIDD2Q=" />\n'
                 '      <input type="hidden" name="__EVENTVALIDATION" value="/wEWBAKM54rGBgL" />\n'
                 '      <input type="hidden" name="__EVENTTARGET" value="" />\n'
                 '      <input type="hidden" name="__EVENTARGUMENT" value="" />\n'
                 f'{block}\n      </form>')
    head = ""
    if cat.feed:
        head = f'<link rel="alternate" type="application/rss+xml" title="{m.e(cat.label)}" href="{portal.feed_path(cat)}">'
    text = m.page(portal, title=cat.label + (f" - Trang {n}" if n > 1 else ""), main=block,
                  crumbs=crumbs(portal, cat), head=head, notice=notice, charset_meta=not cat.charset_in_meta_only)
    return unicodedata.normalize("NFD", text) if cat.nfd else text


def article_html(portal: Portal, cat: Category, post: Post) -> str:
    date = post.date if cat.article_dates else None
    head = (f'<meta property="article:published_time" content="{post.date.isoformat()}T08:15:00+07:00">'
            if date and portal.platform in ("wordpress", "nukeviet") else "")
    body = (f"{post.summary} Văn bản được đăng tải để các cơ quan, đơn vị và nhân dân được biết, thực hiện. "
            "Ngày 05/3/2018, Ủy ban nhân dân tỉnh đã có văn bản chỉ đạo các sở, ngành liên quan.")
    return m.page(portal, title=post.title, main=m.article_block(portal.platform, post.title, date, body, cat.label),
                  crumbs=crumbs(portal, cat, post.title), head=head)


def search_html(portal: Portal, query: str, results: list[tuple[str, str]]) -> str:
    rows = "\n".join(f'          <li><a href="{m.e(href)}">{m.e(title)}</a></li>' for title, href in results)
    main = (f'      <div class="search-results">\n        <h1>Kết quả tìm kiếm: {m.e(query)}</h1>\n'
            f'        <ul>\n{rows}\n        </ul>\n      </div>')
    return m.page(portal, title="Kết quả tìm kiếm", main=main, crumbs=[("Trang chủ", portal.home_path),
                                                                       ("Tìm kiếm", None)])


def home_html(portal: Portal) -> str:
    return m.page(portal, title="Trang chủ", main=m.home_block(portal), crumbs=[("Trang chủ", None)])


def not_found_html(portal: Portal) -> str:
    return m.page(portal, title="Không tìm thấy trang", main=m.not_found_block(), crumbs=crumbs(portal, None))


def feed_xml(portal: Portal, cat: Category) -> str:
    if cat.feed == "dead":
        posts = [Post(f"Thông báo số {i}/TB-SYT năm 2016", dt.date(2016, 6, 1) - dt.timedelta(days=30 * i), 70000 + i)
                 for i in range(1, 6)]
    else:
        posts = cat.posts
    items = []
    for p in posts:
        when = dt.datetime.combine(p.date, dt.time(9, 0)) if p.date else None
        pub = f"\n    <pubDate>{when:%a, %d %b %Y %H:%M:%S} +0700</pubDate>" if when else ""
        items.append(f"  <item>\n    <title>{m.e(p.title)}</title>\n    <link>{m.e(portal.url(portal.article_path(cat, p)))}"
                     f"</link>{pub}\n  </item>")
    newest = max((p.date for p in posts if p.date), default=dt.date(2016, 1, 1))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n  <title>{m.e(cat.label)}</title>\n'
            f'  <link>{m.e(portal.url(portal.listing_path(cat, 1)))}</link>\n'
            f"  <lastBuildDate>{newest:%a, %d %b %Y} 09:00:00 +0700</lastBuildDate>\n" + "\n".join(items)
            + "\n</channel>\n</rss>\n")


TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_text(text: str) -> str:
    """Vietnamese the way windows-1258 stores it: letters with their shape (â ă ê ô ơ ư) precomposed,
    tone marks as separate combining characters (the code page has no precomposed toned letters)."""
    out, tones = [], []
    for ch in unicodedata.normalize("NFD", text):
        if ch in TONE_MARKS:
            tones.append(ch)
        elif unicodedata.combining(ch):
            out[-1] = unicodedata.normalize("NFC", out[-1] + ch)
        else:
            out.extend(tones)
            tones = []
            out.append(ch)
    return "".join(out + tones)


def files_of(portal: Portal) -> tuple[dict[str, bytes], list[dict]]:
    """The files and the routes of one portal's site.yaml."""
    files: dict[str, bytes] = {}
    routes: list[dict] = []

    def add(path: str, name: str, text: str, **route):
        encoding = route.pop("encoding", "utf-8")
        files[name] = text.encode(encoding, "xmlcharrefreplace")
        routes.append({"path": path, "file": name, **route})

    add(portal.home_path, "home.html", home_html(portal))
    if portal.prefix:
        routes.append({"path": portal.prefix + "/trang-chu", "status": 301, "location": portal.prefix})
    for cat in portal.categories:
        base = slugify(cat.label)
        for n in range(1, len(cat.pages) + 1):
            notice = ('<div class="messages error">Thông báo lỗi<br><b>Notice</b>: Undefined offset: 1 in '
                      '<b>/var/www/sites/all/modules/views/views.module</b> on line <b>1872</b></div>'
                      if portal.platform == "drupal" and cat.key == "chi-dao" and n == 1 else "")
            text = listing_html(portal, cat, n, notice)
            extra: dict = {}
            if cat.fail_times and n == 1:
                extra["fail_times"] = cat.fail_times
            if cat.charset_in_meta_only:
                extra["content_type"] = "text/html"
            if cat.legacy:
                extra.update(encoding=cat.legacy, content_type=f"text/html; charset={cat.legacy}")
                text = cp1258_text(text.replace('<meta charset="utf-8">', f'<meta charset="{cat.legacy}">'))
            if portal.platform == "webforms" and n > 1:
                target = "ctl00$noidung$gvDanhSach"
                add(portal.listing_path(cat, 1), f"{base}-p{n}.html", text, method="POST",
                    form={"__EVENTTARGET": target, "__EVENTARGUMENT": f"Page${n}"})
            else:
                add(portal.listing_path(cat, n), f"{base}-p{n}.html", text, **extra)
        for title, text in cat.sub_pages:
            add(portal.sub_page_path(cat, title), f"{base}-{slugify(title)}.html",
                m.page(portal, title=title, main=m.article_block(portal.platform, title, None, text, cat.label),
                       crumbs=crumbs(portal, cat, title)))
        for k, post in enumerate(cat.posts):
            if k < 3 or not cat.listing_dates:
                add(portal.article_path(cat, post), f"{base}-{post.id}.html", article_html(portal, cat, post))
        if cat.feed:
            add(portal.feed_path(cat), f"rss-{base}.xml", feed_xml(portal, cat),
                content_type="application/rss+xml; charset=utf-8")
    for k, (query, results) in enumerate(SEARCHES.get(portal.host, []) if not portal.prefix else []):
        # the header's search form (GET {root}/tim-kiem?q=...) answers this query with these results
        add(f"{portal.root_path}/tim-kiem?{urlencode({'q': query})}", f"tim-kiem-{k + 1}.html",
            search_html(portal, query, results))
    for route in portal.extra_routes:
        route = dict(route)
        if route.pop("soft_404", False):    # this portal's "Không tìm thấy trang" page, served with 200
            name = route.pop("name")
            files[name] = not_found_html(portal).encode()
            route["file"] = name
        if "endless" in route:
            spec = route["endless"] = dict(route["endless"])
            label = spec.pop("label")
            block = m.listing_block(portal.platform, label, ["{{ITEMS}}"], '      <div class="pagination">{{NEXT}}</div>')
            files[spec["template"]] = m.page(portal, title=label, main=block, crumbs=[("Trang chủ", portal.home_path),
                                                                                   (label, None)]).encode()
        routes.append(route)
    return files, routes


def site_yaml(sites: list[Portal], routes: list[dict]) -> str:
    portal = sites[0]
    robots = "User-agent: *\nDisallow: /admin/\n" + "".join(f"Disallow: {p}\n" for s in sites for p in s.robots_disallow)
    cfg = {"host": portal.host, "platform": portal.platform, "server": SERVER[portal.platform],
           "robots": robots, "not_found": "not-found.html", "routes": routes}
    return ("# Generated by data/demo/build.py from its content model: edit content.py, then rebuild.\n"
            + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False, width=120))


SERVER = {"drupal": "Apache/2.4.29 (Ubuntu)", "sharepoint": "Microsoft-IIS/8.5", "liferay": "Apache-Coyote/1.1",
          "nukeviet": "nginx/1.14.0", "wordpress": "nginx", "vendor": "Microsoft-IIS/10.0", "3cms": "Apache",
          "webforms": "Microsoft-IIS/7.5"}


# -- the truth -----------------------------------------------------------------------

def listing_truth(cat: Category, criterion: str, min_posts: int) -> tuple[str, str, str]:
    """(status, reason, posts_in_year) of a category listing reported for `criterion` (SPEC.md §4)."""
    if cat.criterion != criterion:
        return "fail", "wrong_category", ""
    if criterion in CONTENT_CRITERIA:
        # judged by its content: an introduction text carries the six items, or its sub-pages carry what it
        # lacks (functions, organisation, leaders with a phone); without either, the page has its posts'
        # titles (functions, organisation) and the footer's address and e-mail, but no leader named and no
        # phone number (the footer's is a placeholder): two missing, one more than allowed
        return ("pass", "content_ok", "") if cat.intro or cat.sub_pages else ("fail", "missing_content", "")
    posts = [p for page in cat.pages[:MAX_LISTING_PAGES] for p in page]
    if cat.listing_dates or cat.feed == "live":     # dated by the listing, or by the feed it links
        seen = posts
    elif cat.article_dates:
        seen = []
        for p in posts[:MAX_ARTICLE_PAGES]:      # articles are opened newest first, until one is older
            seen.append(p)
            if p.date and p.date < PERIOD[0]:
                break
    else:
        seen = []
    dated = [p for p in seen if p.date]
    n = sum(PERIOD[0] <= p.date <= PERIOD[1] for p in dated)
    if n >= min_posts:
        return "pass", "ok", str(n)
    if posts and not dated:
        return "review", "undated", "0"
    return "fail", "no_posts_in_year", str(n)


CONTENT_CRITERIA: set[str] = set()    # the rulebook's criteria judged by their content (truth_rows fills it)

TARGET_TRUTH = {   # what a reported URL points at -> its verdict, whatever the criterion
    "off_site": ("fail", "off_site"), "redirect_off_site": ("fail", "off_site"),
    "dead_host": ("fail", "unreachable"), "always_503": ("fail", "unreachable"), "too_slow": ("fail", "unreachable"),
    "oversized": ("fail", "unreachable"),
    "not_found": ("fail", "not_found"), "soft_404": ("fail", "not_found"), "redirect_home": ("fail", "not_found"),
    "article": ("fail", "wrong_category"), "home": ("fail", "wrong_category"),
    "robots": ("review", "robots_disallowed"),
}


def truth_rows(rulebook: dict) -> list[dict]:
    criteria = {c["id"]: c for c in rulebook["criteria"]}
    CONTENT_CRITERIA.update(cid for cid, c in criteria.items() if c.get("freshness") == "not_required")
    rows = []
    for agency in AGENCIES:
        if agency["agency_id"] in NO_FORM:
            continue
        reports = {r["criterion"]: r for r in REPORTS if r["agency_id"] == agency["agency_id"]}
        portal = portal_of(agency["agency_id"])
        for cid, c in criteria.items():
            if agency["group"] not in c["groups"]:
                continue
            r = reports.get(cid)
            row = {"agency_id": agency["agency_id"], "criterion": cid, "posts_in_year": "", "discovered": ""}
            if c.get("kind") == "listed":
                if agency["agency_id"] not in c["agencies"]:
                    continue
                row.update(listed_truth(c, ITEMS.get(agency["agency_id"], {}).get(cid, []), r))
            elif c.get("kind", "website") == "reported":
                row.update(zip(("status", "reason"), reported_truth(r)))
            elif r and r.get("not_applicable"):
                row.update(zip(("status", "reason"), not_applicable_truth(r)))
            elif r and r.get("target"):
                target = r["target"]
                if target[0] in ("listing", "flaky"):
                    status, reason, n = listing_truth(portal.cat(target[1]), cid, c.get("min_posts", 1))
                    row.update(status=status, reason=reason, posts_in_year=n)
                elif target[0] == "hosted":      # on a host the rulebook allows for the criterion
                    cat = HOSTED[target[1]].cat(target[2])
                    status, reason, n = listing_truth(cat, cid, c.get("min_posts", 1))
                    if reason != "wrong_category" and f"donvi={agency['agency_id']}" not in (cat.path or ""):
                        # the right category, but filtered for another agency or none: not the agency's page
                        status, reason, n = "fail", "not_agency_page", ""
                    row.update(status=status, reason=reason, posts_in_year=n)
                elif target[0] == "endless":     # every page older than the period: paging stops at once
                    row.update(status="fail", reason="no_posts_in_year", posts_in_year="0")
                else:
                    row.update(zip(("status", "reason"), TARGET_TRUTH[target[0]]))
            elif portal is None:
                row.update(status="fail", reason="unreachable")       # the home page cannot be fetched
            else:
                found = next((cat for cat in portal.categories if cat.in_menu and cat.criterion == cid), None)
                if found is None:
                    row.update(status="fail", reason="no_link")
                else:
                    status, reason, n = listing_truth(found, cid, c.get("min_posts", 1))
                    row.update(status=status, reason=reason, posts_in_year=n, discovered="true")
            rows.append(row)
    return rows


def listed_truth(criterion: dict, items: list[dict], report: dict | None) -> dict:
    """A list's verdict: its items published in the reported category, found by the portal's search or among
    the posts of the agency's other listings (docs/verdicts.md, listed criteria); the share in `items_found`."""
    if not items:
        return {"status": "fail", "reason": "no_items", "items_found": ""}
    assert report and report.get("target", ("",))[0] == "listing", "the demo reports a list's category"
    found = sum(item["where"] in ("listing", "search", "other_listing") for item in items)
    share = f"{found}/{len(items)}"
    if found == len(items):
        return {"status": "pass", "reason": "ok", "items_found": share}
    if found and criterion["scoring"] == "proportional":
        return {"status": "pass", "reason": "items_missing", "items_found": share}
    return {"status": "fail", "reason": "items_missing", "items_found": share}


def not_applicable_truth(report: dict) -> tuple[str, str]:
    return ("exempt", "not_applicable") if report.get("note") else ("review", "not_applicable_unexplained")


def reported_truth(report: dict | None) -> tuple[str, str]:
    if report is None or not (report.get("value") or report.get("not_applicable")):
        return "fail", "blank"
    if report.get("not_applicable"):
        return not_applicable_truth(report)
    return ("review", "logic_check") if report.get("breaks") else ("pass", "scored")


# -- writing ---------------------------------------------------------------------------

def csv_text(header: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def build(out: Path) -> list[Path]:
    """Write the whole demo under `out`; returns the files written."""
    rulebook = yaml.safe_load(RULEBOOK.read_text(encoding="utf-8"))
    written = []
    portals_dir = out / "portals"
    shutil.rmtree(portals_dir, ignore_errors=True)
    hosts: dict[str, list[Portal]] = {}
    for portal in PORTALS:
        hosts.setdefault(portal.host, []).append(portal)
    for host, sites in hosts.items():        # several agencies can share a host (Liferay /web/<site>)
        directory = portals_dir / host
        directory.mkdir(parents=True, exist_ok=True)
        routes, files = [], {"not-found.html": not_found_html(sites[0]).encode()}
        for portal in sites:
            prefix = f"{portal.prefix.rsplit('/', 1)[1]}-" if portal.prefix else ""
            its_files, its_routes = files_of(portal)
            files.update({prefix + name: data for name, data in its_files.items()})
            for route in its_routes:
                if "file" in route:
                    route["file"] = prefix + route["file"]
                if "endless" in route:
                    route["endless"]["template"] = prefix + route["endless"]["template"]
                routes.append(route)
        (directory / "site.yaml").write_text(site_yaml(sites, routes), encoding="utf-8")
        written.append(directory / "site.yaml")
        for name, data in sorted(files.items()):
            (directory / name).write_bytes(data)
            written.append(directory / name)
    texts = {
        "agencies.csv": csv_text(["agency_id", "agency_name", "group", "portal"], AGENCIES),
        "reports.csv": csv_text(["agency_id", "criterion", "url", "value", "not_applicable", "note", "submitted_at"],
                                [dict(r, not_applicable=r.get("not_applicable", "")) for r in REPORTS]),
        "items.csv": csv_text(["agency_id", "criterion", "number", "title", "issued", "url"], ITEM_ROWS),
        # items_found: a list's items found / listed ("4/5"), blank for every other criterion
        "truth.csv": csv_text(["agency_id", "criterion", "status", "reason", "posts_in_year", "discovered",
                               "items_found"], truth_rows(rulebook)),
    }
    for name, text in texts.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    written = build(args.out)
    print(f"{len(written)} files written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
