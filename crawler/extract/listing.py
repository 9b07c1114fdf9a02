"""The listing: the group of repeated items with title links in the main region.

Every element's children are grouped by signature (tag and stable classes);
a group of small items that each carry a title link is a candidate. Candidates
are scored by size, title length and dates, favoured in the main region and in
a box titled with the page's own category, disfavoured in side columns, and
dropped in chrome, in side boxes ("Tin mới") and in boxes of another
category. The best one takes in its twins (the same list split over columns)
and a lead post set apart before it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from crawler.dates import find_dates
from crawler.extract.chrome import is_chrome_element, is_side_box_title
from crawler.extract.item_dates import item_dates
from crawler.extract.page import INSIDE_H1, INSIDE_H2_H5, INSIDE_TABLE, Page, short_label
from crawler.extract.vocabulary import (
    BOX_HEADING_TAGS,
    FILE_NAME,
    HEADING_TAGS,
    HEADING_WRAPPER_TAGS,
    ITEM_CLASS,
    ITEM_TAGS,
    LIST_TAGS,
    LONE_ITEM_HEADINGS,
    NOT_ITEM_TAGS,
    NOT_LIST_PARENT_TAGS,
    READ_MORE,
    ROW_TAGS,
    SIGNATURE_NOISE,
    SPACER_TAGS,
    TITLE_CLASS,
)
from crawler.extract.weights import WEIGHTS as W
from crawler.records import Post
from crawler.text import clean_space, normalise
from crawler.urls import under


@dataclass(frozen=True)
class Group:
    """Sibling items of one signature under one parent, and what scoring found of them."""

    parent: object
    items: tuple
    signature: tuple
    score: float = 0.0
    box_title: str | None = None
    box_criterion: str | None = None
    further: bool = False       # a "Các tin khác" box of the category's own further posts


def find_groups(page: Page) -> list[Group]:
    """Every group of at least two small items with title links (or one item that looks like a post)."""
    groups = []
    sizes = page.sizes
    for parent in page.body.iter():
        if not isinstance(parent.tag, str) or len(parent) < 1 or parent.tag in NOT_LIST_PARENT_TAGS \
                or not sizes[parent][0]:
            continue        # (an element without a link inside has no item with a title link)
        by_sig: dict[tuple, list] = {}
        segment = 0     # a side-box title between items ("Các tin đã đưa") starts another box
        for child in parent:
            if not isinstance(child.tag, str) or child.tag in NOT_ITEM_TAGS:
                continue
            if _is_box_separator(page, child):
                segment += 1
                continue
            # every child keys its signature (the groups keep the order of their first child); only the
            # small ones with a title link are items
            members = by_sig.setdefault((signature(child), segment), [])
            if sizes[child][0] and is_small(page, child) and title_link(page, child) is not None:
                members.append(child)
        for (sig, _), items in by_sig.items():
            if len(items) >= 2 or (items and _item_like(page, items[0], sig)):
                groups.append(Group(parent, tuple(items), sig))
    return groups


def _is_box_separator(page: Page, el) -> bool:
    """A short title between the items of one container that opens a box of other posts: the items after
    it are that box's ("Các tin đã đưa", "Tin khác" right after the listing, with the listing's classes)."""
    if page.sizes[el][0] > (el.tag == "a") and el.tag not in HEADING_TAGS:
        return False        # a link inside
    text = page.text(el)
    return bool(text) and len(text) <= W.separator_chars and is_side_box_title(text)


def score_groups(page: Page, groups: list[Group], page_category: str | None) -> list[Group]:
    """The groups with their scores (0: not the listing), box titles and box criteria."""
    return [_scored(page, g, page_category) for g in groups]


def _scored(page: Page, g: Group, page_category: str | None) -> Group:
    if page.chrome(g.parent):
        return g
    links = [title_link(page, i) for i in g.items]
    hrefs = {page.abs(a.get("href")) for a in links}
    if len(hrefs) < max(1, len(links) // 2):
        return g        # the items link to a few pages: tabs or a menu, not posts
    mean_len = sum(len(page.text(a)) for a in links) / len(links)
    if mean_len < W.min_mean_title_chars:
        return g
    if sum(1 for a in links if _names_a_category(page, page.text(a))) * 2 > len(links):
        return g        # most titles are category names: a menu or a "Chuyên mục" widget, not posts
    dated = sum(1 for i in g.items if item_has_date(page, i))
    score = len(g.items) * min(1.0, mean_len / W.full_title_chars) * (1 + dated / len(g.items))
    if page.regions.main(g.parent):
        score *= W.main_region_boost
    if page.regions.side(g.parent):
        score *= W.side_column_factor
    box = box_title(page, g)
    box_criterion = None
    further = False
    if box:
        if is_side_box_title(box):
            if not all(h and under(h, page.url) for h in hrefs):
                return replace(g, box_title=box)
            further = True      # every post under the category's own address: its further posts, not a
            # site-wide box ("Các tin khác" on a NukeViet category page lists the next page's posts)
        box_criterion = page.match(box)[0]
        if page_category and normalise(box) in page.sub_categories:
            box_criterion = page_category        # a sub-category's box on its parent's page
        if box_criterion and page_category and box_criterion != page_category:
            # a box of another category (home page, "latest" boxes)
            return replace(g, box_title=box, box_criterion=box_criterion)
        if box_criterion and box_criterion == page_category:
            score *= W.own_box_boost
    if len(g.items) == 1:
        score *= W.single_item_factor
    return replace(g, score=score, box_title=box, box_criterion=box_criterion, further=further)


def best_group(page: Page, groups: list[Group]) -> Group | None:
    """The listing: the best-scored group with its twins and lead post, or None."""
    candidates = sorted((g for g in groups if g.score > 0), key=lambda g: (not g.further, g.score), reverse=True)
    if not candidates:
        return None
    best = _with_sub_boxes(page, _merge_twins(page, candidates[0], candidates), candidates)
    return _with_further(best, [g for g in candidates if g.further and g is not candidates[0]])


def _with_further(best: Group, further: list[Group]) -> Group:
    """The listing's items, then those of the boxes of the category's own further posts after it."""
    items = list(best.items)
    for g in further:
        items.extend(i for i in g.items if i not in items)
    return replace(best, items=tuple(items)) if len(items) > len(best.items) else best


def posts(page: Page, group: Group) -> tuple[Post, ...]:
    """One post per distinct title link of the listing, dated from its own item."""
    out, seen = [], set()
    for item in group.items:
        a = title_link(page, item)
        href = page.abs(a.get("href"))
        title = _without_badge(page.link_text(a), a.get("title"))
        key = href or title
        if key in seen:
            continue
        seen.add(key)
        published, updated, date_text, source = dates_of(page, item)
        title = _without_date(title, date_text)
        out.append(Post(title=title, url=href, published=published, updated=updated,
                        date_source=source, date_text=date_text))
    return tuple(out)


def _without_date(title: str, date_text: str) -> str:
    """The title without the post's own date written after it inside the link: "Tiêu đề (02/09/2017)"."""
    if not date_text:
        return title
    stripped = _strip_end_date(title, date_text)
    return stripped if stripped != title and len(stripped) >= W.min_title_chars else title


def _strip_end_date(title: str, date_text: str) -> str:
    r"""The title without `date_text` at its end, with the white space and one bracket around it: what
    re.sub(r"\s*[(\[]?\s*DATE\s*[)\]]?\s*$", "", title) gives, without compiling a pattern per date (the re
    module's cache holds 512, and a crawl meets thousands of dates). str.strip's white space is re's \s."""
    rest = title.rstrip()
    if rest.endswith((")", "]")):
        rest = rest[:-1].rstrip()
    if not rest.endswith(date_text):
        return title
    rest = rest[:-len(date_text)].rstrip()
    if rest.endswith(("(", "[")):
        rest = rest[:-1].rstrip()
    return rest


def _names_a_category(page: Page, text: str) -> bool:
    """A short text that is a category's name (post titles are longer: they are not looked up)."""
    return len(text.split()) <= W.max_category_name_tokens and page.matcher.names(text) is not None


def _without_badge(text: str, title_attr: str | None) -> str:
    """The link text without a list number or badge before the title ("1 Lịch công tác ..." in NukeViet's
    numbered lists) or a date after it, when the link's title attribute gives the title itself."""
    wanted = clean_space(title_attr or "")
    if not wanted or text == wanted:
        return text
    if text.endswith(wanted) and len(text) - len(wanted) <= W.badge_chars:
        return wanted
    rest = text[len(wanted):] if text.startswith(wanted) else ""
    dates = find_dates(rest)
    if len(dates) == 1 and len(rest.strip(" ()[]-–")) - len(dates[0].text) <= W.link_date_slack:
        return wanted       # the date written after the title inside its link: "Tiêu đề (27/07/2018)"
    return text


# --- Title links ---------------------------------------------------------------------------------


def title_link(page: Page, item):
    """The anchor that carries the post title inside a listing item, or None (memoised per item)."""
    links = page.title_links
    if item in links:
        return links[item]
    best, best_score = None, 0.0
    for a in item.iter("a"):
        score = _link_score(page, a)
        if score > best_score:
            best, best_score = a, score
    links[item] = best
    return best


def _link_score(page: Page, a) -> float:
    """How much an anchor looks like a post title (its length, more in a heading); 0 for none."""
    scores = page.link_scores
    score = scores.get(a)
    if score is None:
        score = scores[a] = _title_score(page, a)
    return score


def _title_score(page: Page, a) -> float:
    if page.abs(a.get("href")) is None:
        return 0.0
    text = page.link_text(a)
    if not text or normalise(text, accents=False) in READ_MORE or len(text) < W.min_title_chars \
            or FILE_NAME.search(text):
        return 0.0
    parent = a.getparent()
    boost = W.heading_link_boost if parent is not None and parent.tag in HEADING_TAGS else 1.0
    return len(text) * boost


# --- Items ---------------------------------------------------------------------------------------


def item_has_date(page: Page, item) -> bool:
    return dates_of(page, item).published is not None


def dates_of(page: Page, item):
    """The ItemDates of a listing item, its title link left out."""
    return item_dates(page, item, title_link(page, item))


def signature(el) -> tuple:
    """What the items of one list share: the tag, and the classes that do not alternate."""
    if el.tag in ROW_TAGS:
        return (el.tag, ())         # rows of one list or table, whatever their alternating classes
    return (el.tag, _stable_classes(el.get("class") or ""))


@lru_cache(maxsize=20_000)
def _stable_classes(attr: str) -> tuple[str, ...]:
    """The classes of a class attribute that do not alternate between items, sorted (memoised: a portal's
    class attributes repeat on every page)."""
    return tuple(sorted(c for c in attr.split() if not SIGNATURE_NOISE.search(c.lower())))


def is_small(page: Page, el) -> bool:
    """A listing item holds a few links and a few lines; page sections, boxes and the article hold more."""
    links, size, inside = page.sizes[el]
    if el.tag == "h1" or inside & INSIDE_H1 or links > W.max_item_links or size > W.max_item_chars:
        return False
    if el.tag not in LIST_TAGS and _titled_entries(page).get(el, 0) >= 2:
        return False        # a box with a list of post links inside is a box, not a post
    return True


def _titled_entries(page: Page) -> dict:
    """element -> how many entries of a <ul>/<ol> inside it (not itself) have a title-like link, for every
    element of the body in one pass from the leaves up (memoised on the page)."""
    counts = page.memo.get("titled_entries")
    if counts is None:
        counts = page.memo["titled_entries"] = {}
        for el in reversed(list(page.body.iter())):
            if not isinstance(el.tag, str):
                continue
            n = 0
            for child in el:
                if isinstance(child.tag, str):
                    n += counts.get(child, 0)
                    if child.tag in ("ul", "ol"):
                        n += sum(1 for li in child if li.tag == "li" and _titled(li))
            if n:
                counts[el] = n
    return counts


def _titled(li) -> bool:
    """A list entry whose link reads like a post title (not "Read more", "Log in", a tag or a date)."""
    for a in li.iter("a"):
        text = " ".join(t.strip() for t in a.itertext() if t.strip())
        if len(text) >= W.min_title_chars and normalise(text, accents=False) not in READ_MORE:
            return True
    return False


def _item_like(page: Page, el, sig) -> bool:
    """Can this lone element be a listing of one post (not a wrapper of the page)?"""
    inside = page.sizes[el][2]
    if not (sig[0] in ITEM_TAGS or _item_classes(sig[1]) or (inside & INSIDE_H2_H5 and _headed_here(page, el))):
        return False
    # a list of post links or a table inside: a box; a date line written as a list ("⏰ 08/08/2018 · 145") is not
    # (its own entries, and those of the lists inside it)
    if inside & INSIDE_TABLE or _titled_entries(page).get(el, 0) \
            or any(_titled(li) for li in el if li.tag == "li"):
        return False
    return len(page.text(el)) < W.max_lone_item_chars


@lru_cache(maxsize=20_000)
def _item_classes(classes: tuple[str, ...]) -> bool:
    """Does one of these classes name a post item?"""
    return any(ITEM_CLASS.search(c) for c in classes)


def _headed_here(page: Page, el) -> bool:
    """A linked headline to a post under the category's own address ("op=du-an-dau-tu/<post>.html")."""
    for tag in LONE_ITEM_HEADINGS:
        for a in el.iterfind(f".//{tag}/a"):
            href = page.abs(a.get("href"))
            if href and under(href, page.url):
                return True
    return False


# --- Box titles ----------------------------------------------------------------------------------


def box_title(page: Page, group: Group) -> str | None:
    """The title of the box a group sits in: the nearest heading before it, a few levels up."""
    node = group.parent
    first_item = group.items[0]
    # a heading inside the parent, before the first item
    for child in node:
        if child is first_item:
            break
        text = _heading_text(page, child)
        if text:
            return text
    for _ in range(W.box_title_levels):
        sib = node.getprevious()
        steps = 0
        while sib is not None and steps < W.box_title_siblings:
            text = _heading_text(page, sib)
            if text:
                return text
            if sib.tag not in SPACER_TAGS or page.text(sib):
                break
            sib = sib.getprevious()
            steps += 1
        node = node.getparent()
        if node is None or node is page.body:
            break
    return None


def _heading_text(page: Page, el) -> str | None:
    """The text of a heading, a title-classed element, or a wrapper holding little but a heading."""
    if not isinstance(el.tag, str):
        return None
    if el.tag in HEADING_TAGS or TITLE_CLASS.search(el.get("class", "") or "") or el.tag == "legend":
        text = page.text(el)
        if text and short_label(text):
            return text
    if el.tag not in HEADING_WRAPPER_TAGS or len(el) > W.box_heading_children:
        return None
    for tag in BOX_HEADING_TAGS:
        inner = el.find(f".//{tag}")
        if inner is not None:
            text = page.text(inner)
            if text and short_label(text) and len(page.text(el)) <= len(text) + W.box_heading_slack:
                return text
    return None


# --- Twins and lead ------------------------------------------------------------------------------


def _merge_twins(page: Page, best: Group, candidates: list[Group]) -> Group:
    """Items split over sibling containers of one listing (two columns), and a lead item before it."""
    led = _with_lead(page, best)
    grand = best.parent.getparent()
    twins = [g for g in candidates if g is not best and g.signature == best.signature
             and g.parent.getparent() is grand and grand is not None
             and signature(g.parent) == signature(best.parent)]
    if not twins:
        return led
    best = led
    items = list(best.items)
    for g in twins:
        items.extend(g.items)
    order = {el: i for i, el in enumerate(grand.iter())}
    items.sort(key=lambda el: order.get(el, 0))
    return replace(best, items=tuple(items))


def _with_sub_boxes(page: Page, best: Group, candidates: list[Group]) -> Group:
    """A parent category's page: a box of the parent's own posts and a box per sub-category, side by side
    with the same markup. When the page's menus nest one of the boxes' titles under the page's own entry,
    the posts of every sibling box still scored as this page's (own or sub-category titles, or none) are
    the listing's, each box with its lead post."""
    alike = [g for g in candidates if g.signature == best.signature]
    box = best.parent
    for _ in range(W.sub_box_levels):
        parent = box.getparent()
        if parent is None or parent is page.body:
            return best
        inside = {sib: [g for g in alike if _within(g.parent, sib)]
                  for sib in parent if isinstance(sib.tag, str) and signature(sib) == signature(box)}
        if sum(1 for groups in inside.values() if groups) >= 2:
            break
        box = parent
    else:
        return best
    titled = [g for gs in inside.values() for g in gs if g.box_title and normalise(g.box_title) in page.sub_categories]
    if not titled:
        return best
    items = list(best.items)
    for groups in inside.values():
        for g in groups:
            if g.items[0] not in items:
                items.extend(_with_lead(page, g).items)
    order = {el: i for i, el in enumerate(parent.iter())}
    items.sort(key=lambda el: order.get(el, 0))
    return replace(best, items=tuple(dict.fromkeys(items)))


def _within(el, ancestor) -> bool:
    return el is ancestor or any(a is ancestor for a in el.iterancestors())


def _with_lead(page: Page, best: Group) -> Group:
    """A lead ("hot", "featured") post set apart just before the list belongs to the listing."""
    known = {page.abs(title_link(page, i).get("href")) for i in best.items}
    # a lead card before the first item in the same container (a grid's larger first card), or just
    # before the container (or before the wrapper the container is the first thing in)
    container = best.parent
    for _ in range(W.lead_wrapper_levels):
        if container.getprevious() is not None or container.getparent() is None:
            break
        container = container.getparent()
    lead = _lead_before(page, best.items[0].getprevious(), known) or _lead_before(page, container.getprevious(), known)
    if not lead:
        return best
    return replace(best, items=tuple(lead) + best.items)


def _lead_before(page: Page, sib, known: set) -> list:
    """Up to `lead_siblings` elements before `sib`'s position that are each one post with its own link;
    a linked headline with its date and summary lines after it (a featured post) is one too."""
    lead = []
    for _ in range(W.lead_siblings):
        sib = _headline_before(page, sib)
        if sib is None or not isinstance(sib.tag, str):
            break
        if sib.tag in HEADING_TAGS and not lead:
            links = [a for a in sib.iter("a") if page.abs(a.get("href"))]
            if len(links) == 1 and page.abs(links[0].get("href")) not in known \
                    and len(page.text(links[0])) >= W.min_lead_title_chars:
                lead.insert(0, sib)
            break
        if sib.tag in HEADING_TAGS:
            break
        link = title_link(page, sib) if is_small(page, sib) and not is_chrome_element(sib) else None
        hrefs = {page.abs(a.get("href")) for a in sib.iter("a") if page.abs(a.get("href"))}
        if link is None or len(hrefs) != 1 or hrefs <= known or len(page.text(link)) < W.min_lead_title_chars:
            break
        lead.insert(0, sib)
        sib = sib.getprevious()
    return lead


def _headline_before(page: Page, sib):
    """`sib`, or the linked headline a few lines before it when those lines (a date, a summary, a rule)
    hold no link."""
    node, lines = sib, []
    while node is not None and isinstance(node.tag, str) and node.tag not in HEADING_TAGS \
            and node.find(".//a") is None and len(lines) < W.lead_siblings + 2:
        lines.insert(0, node)
        node = node.getprevious()
    if node is not None and isinstance(node.tag, str) and node.tag in HEADING_TAGS and lines:
        page.lead_lines[node] = tuple(lines)
        return node
    return sib
