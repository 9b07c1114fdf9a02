"""Every weight and threshold of the extraction core, named, in one record.

The numbers were tuned on the demo portals and checked on the held-out pages in
tests/fixtures/pages (`python -m tests.crawler.fixture_eval`): change one, run
that report.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """The tuning of the extraction core; `WEIGHTS` is the one in use."""

    # -- bounds on the work one page may cost (page.py): a hostile page of 100,000 links is read as far as
    # a reviewer would scroll, not for minutes on the crawl's event loop while other hosts wait
    max_page_elements: int = 50_000     # elements parsed into the reading, in document order (before hidden
                                        # content goes: it bounds that step too); real portal pages have < 5,000
    max_page_links: int = 2_500         # links read once hidden content is gone; real listings have < 300

    # -- votes for the page's own category (label.py)
    breadcrumb_vote: float = 3.0        # the breadcrumb names the page itself
    heading_vote: float = 3.0           # so does the main heading
    box_title_vote: float = 3.0         # the title of the box holding the listing
    title_vote: float = 2.0             # a <title> segment: often the site name, sometimes the category
    og_title_vote: float = 1.0          # og:title when it differs from <title>
    active_menu_vote: float = 1.0       # an active menu entry: themes mark the wrong one often enough
    breadcrumb_tail: int = 2            # only the last crumbs name the page (the first is "Trang chủ")
    active_menu_tail: int = 2           # only the last active entries (the deepest submenu) count
    max_label_tokens: int = 14          # a longer text is a sentence (a post title), not a label

    # -- title links of listing items (listing.py)
    min_title_chars: int = 12           # shorter link texts are "Xem", dates, page numbers
    max_category_name_tokens: int = 8   # category names in menus and widgets are no longer than this
    page_number_run: int = 2            # page-number links side by side make a pager, class or not
    separator_chars: int = 40           # a box title between items is this short
    heading_link_share: float = 0.8     # a heading this much a link elsewhere is a post's title
    badge_chars: int = 4                # a list number or badge before a title ("1 ", "[Mới] " is longer)
    heading_link_boost: float = 1.5     # a link inside a heading is the title rather than a summary link

    # -- what a listing item is (listing.py)
    max_item_links: int = 8             # more links: a box or a menu, not one post
    max_item_chars: int = 1500          # more text: a section or the article, not one post
    max_lone_item_chars: int = 600      # a lone item (a listing of one) is shorter still
    min_mean_title_chars: float = 18    # a group whose link texts are shorter is a menu or a tag cloud
    full_title_chars: float = 40        # mean title length at which a group gets its full score

    # -- scoring groups of items (listing.py)
    main_region_boost: float = 1.5      # inside the main content region
    side_column_factor: float = 0.3     # inside a side column: probably "latest news", not the listing
    own_box_boost: float = 3.0          # a box titled with the page's own category
    single_item_factor: float = 0.5     # a listing of one post is weak evidence
    box_title_levels: int = 4           # ancestors searched for the title of a group's box
    box_title_siblings: int = 4         # preceding siblings searched at each level
    box_heading_slack: int = 40         # a heading's wrapper may hold this many more chars than the heading
    box_heading_children: int = 3       # a heading's wrapper has at most this many children
    lead_siblings: int = 2              # lead ("hot") posts set apart before a list
    min_lead_title_chars: int = 20      # a lead post's title is a real title
    sub_box_levels: int = 7             # ancestors of the listing searched for the boxes of a parent's page
    lead_wrapper_levels: int = 2        # wrappers a list may be the first thing in, its lead before them

    # -- chrome (chrome.py)
    wrapper_share: float = 0.5          # a chrome-named element holding more of the page's text wraps the page
    side_box_title_slack: int = 12      # "Tin mới" + up to this many chars is still a side-box title
    hidden_page_share: float = 0.5      # a hidden element holding more of the page's text and its chrome is
                                        # the page hidden until its scripts run (a preloader), not hidden content

    # -- page kinds (kind.py)
    article_body_chars: int = 600       # running text that makes a page an article
    short_body_chars: int = 150         # enough running text under a sentence-like heading
    min_paragraph_chars: int = 60       # shorter text pieces are captions and labels, not running text
    home_boxes: int = 3                 # boxes of this many categories and no category of its own: a home page
    listing_over_article_meta: int = 5  # items that outweigh article <meta> on a page with little text
    max_article_items: int = 3          # an article has fewer repeated items than this
    sentence_heading_tokens: int = 8    # a heading this long that is no alias reads as a sentence
    soft_404_chars: int = 3000          # only a short page is read for "không tìm thấy"
    soft_404_items: int = 3             # a page with a listing this long is no error page

    # -- dates of listing items (item_dates.py) and articles (article.py)
    date_class_levels: int = 4          # ancestors searched for a date-like class name
    item_date_slack: int = 40           # a text this much longer than its date is a date line
    link_date_slack: int = 4            # a date element inside a title link says little else: "(27/07/2018)"
    item_label_chars: int = 25          # text before a date read for its label
    document_context_chars: int = 60    # text before a date read for a document number or type
    article_date_slack: int = 50        # the same on article pages (labels are longer there)
    article_label_chars: int = 30
    article_max_dates: int = 40         # dates looked at below the headline
    article_container_chars: int = 300  # the headline's container holds the article text
    article_container_levels: int = 4
    jsonld_depth: int = 6               # nesting of JSON-LD walked for dates
    jsonld_list_items: int = 50         # items of a JSON-LD list walked

    # -- pagers (pager.py)
    pager_levels: int = 4               # ancestors searched for a pager class name
    max_page_digits: int = 4            # a numeric link text longer than this is no page number
    last_page: int = 10_000             # page number given to "next" and "last" links


WEIGHTS = Weights()
