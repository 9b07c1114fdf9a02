"""The dates of one listing item, read from the item itself only.

A date beside another post, in a side box or in the page footer never dates
this item: the item's subtree is all that is read, its title link left out
(a title may quote a date: "Kế hoạch ngày 05/3/2018").
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from crawler.dates import find_dates, parse_machine_date
from crawler.extract.page import Page, has_date_class, text_nodes
from crawler.extract.vocabulary import DOCUMENT_DATE, UPDATED_LABEL
from crawler.extract.weights import WEIGHTS as W
from crawler.text import clean_space, fold_accents


class ItemDates(NamedTuple):
    published: dt.date | None
    updated: dt.date | None
    text: str               # the date as written ("" without one)
    source: str | None      # "time", "listing", or None without a date


NO_DATES = ItemDates(None, None, "", None)


def item_dates(page: Page, item, title_link) -> ItemDates:
    """Published and updated dates of a listing item, most trustworthy source first (memoised per item)."""
    memo = page.item_dates
    if item not in memo:
        memo[item] = (
            _time_element_dates(item)                  # <time datetime> is explicit
            or _visible_dates(item, title_link)        # "05/03/2018" on a date-classed line, then nearby text
            or _date_inside_link(title_link)           # "<a>Tiêu đề <em>(27/07/2018)</em></a>"
            # a lead headline's date is on the lines after it ("<h2>title</h2><div>10/01/2019</div>")
            or next((d for line in page.lead_lines.get(item, ())
                     if (d := _time_element_dates(line) or _visible_dates(line, None))), None)
            or NO_DATES
        )
    return memo[item]


def _time_element_dates(item) -> ItemDates | None:
    for t in item.iter("time"):
        value = parse_machine_date(t.get("datetime") or "") if t.get("datetime") else None
        if value:
            return ItemDates(value, None, clean_space(t.get("datetime")), "time")
    return None


def _date_inside_link(link) -> ItemDates | None:
    """A date on its own element inside the title link (a date line in a card that is one link, a date in
    brackets after the title): the date is all that element says, so it is not a date quoted by the title."""
    if link is None:
        return None
    for node, text in text_nodes(link):
        if node is link:
            continue
        matches = find_dates(text)
        if len(matches) == 1 and len(text) - len(matches[0].text) <= W.link_date_slack:
            return ItemDates(matches[0].value, None, matches[0].text, "listing")
    return None


def _visible_dates(item, title_link) -> ItemDates | None:
    """The best-placed written date: on a date-classed element, then alone on a line, then in running text.

    An "updated" label before a date makes it the updated date; an item with only an updated date is
    published then."""
    found = []   # (priority, order, date, updated?, text)
    previous = ""   # the text piece before, where a label in its own element stands ("Cập nhật: " | "25/06/2018")
    for node, text in text_nodes(item, skip=title_link):
        matches = find_dates(text)
        if not matches:
            previous = text
            continue
        date_classed = has_date_class(node, item)
        for m in matches:
            if not date_classed and DOCUMENT_DATE.search(
                    fold_accents(text[max(0, m.start - W.document_context_chars):m.start]).lower()):
                continue        # "Kế hoạch số 28/KH-SYT ngày 10/3/2017": the document's date, not the post's
            if date_classed:
                priority = 0
            elif len(text) - len(m.text) <= W.item_date_slack:
                priority = 1        # the date is (nearly) all the line says
            else:
                priority = 2        # a date in a summary ("Ngày 05/3, UBND ..."): the last resort
            before = text[max(0, m.start - W.item_label_chars):m.start]
            if not before.strip():
                before = previous[-W.item_label_chars:]
            before = fold_accents(before).lower()
            found.append((priority, len(found), m.value, bool(UPDATED_LABEL.search(before)), m.text))
        previous = text
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1]))
    best_priority = found[0][0]
    published = next((f[2] for f in found if f[0] == best_priority and not f[3]), None)
    updated = next((f[2] for f in found if f[3]), None)
    if published is None:
        published, updated = updated, None
    text = next(f[4] for f in found if f[0] == best_priority)
    return ItemDates(published, updated, text, "listing")
