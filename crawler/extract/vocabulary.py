"""The words and names the extraction core recognises, as Vietnamese portals write them.

Class/id tokens of page chrome, titles of side boxes, link texts, labels before
dates, pager and feed URL shapes. Everything is data: the stages import these
names and hold no word lists of their own. Texts compared against the
accent-folded sets are normalised with `crawler.text.normalise`.
"""

from __future__ import annotations

import re

from crawler.text import normalise

# --- Structure ---------------------------------------------------------------------------------

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A lone item whose title link sits in one of these is a post (a listing of one).
LONE_ITEM_HEADINGS = ("h2", "h3", "h4", "h5")
# Dropped before anything reads the page: never text a reader sees.
# (Elements hidden by the hidden attribute, aria-hidden or an inline style are dropped too: chrome.py.)
UNSEEN_XPATH = "//script|//style|//noscript|//template|//svg|//comment()"
# Class names the CMSes' and CSS frameworks' own stylesheets keep off the screen for good: text for screen
# readers only (Drupal's element-invisible, WordPress's screen-reader-text, Bootstrap's sr-only). Classes that
# scripts toggle ("hidden", "d-none", "hide": NukeViet builds its visible breadcrumb from a "hidden" template)
# are not listed, nor "hidden-xs" and the like, which hide on some screens only.
VISUALLY_HIDDEN_CLASSES = frozenset("""
    element-invisible element-hidden screen-reader-text sr-only visually-hidden visuallyhidden
    show-for-sr screen-reader-only assistive-text hide-accessible
""".split())
# An inline style that hides the element: "display:none", "display : none !important", "visibility: hidden".
HIDING_STYLE = re.compile(r"(?<![\w-])(?:display\s*:\s*none|visibility\s*:\s*hidden)(?![\w-])", re.I)
# Never dropped as hidden: a page hidden until its scripts run is still the page.
NEVER_HIDDEN_TAGS = frozenset({"html", "head", "body"})
# Elements that are chrome whatever their names.
CHROME_TAGS = frozenset({"nav", "footer", "aside"})
# Class/id words of a page footer, where portals print the agency's contact block.
FOOTER_TOKENS = frozenset({"footer", "foot", "bottom", "copyright", "ft"})
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary"})
# A <header> inside one of these is the content's own header, not the page's.
CONTENT_SECTION_TAGS = frozenset({"article", "main", "section"})
MAIN_TAGS = frozenset({"main", "article"})
# Inline and heading elements: their children are never a listing's items.
NOT_LIST_PARENT_TAGS = frozenset({"a", "p", "span", "strong", "em", "b", "i", *HEADING_TAGS, "select"})
NOT_ITEM_TAGS = frozenset({"br", "hr", "script", "style"})
# Rows of one list or table: grouped by tag whatever their alternating classes.
ROW_TAGS = frozenset({"li", "tr", "dt", "dd", "article"})
# Tags that make a lone element a listing of one post.
ITEM_TAGS = frozenset({"li", "tr", "article"})
# Empty spacers between a box title and its list.
SPACER_TAGS = frozenset({"div", "span", "p", "br", "hr"})
# Elements whose own text is running text (the body of an article or static page).
RUNNING_TEXT_TAGS = ("p", "div", "td", "span")
# Containers of rows: a list or table is one box of items, not an item holding a list.
LIST_TAGS = frozenset({"ul", "ol", "table"})
# Wrappers that may hold a box's heading and little else.
HEADING_WRAPPER_TAGS = frozenset({"div", "header", "section"})
BOX_HEADING_TAGS = ("h1", "h2", "h3", "h4")
# The headline of an article.
HEADLINE_TAGS = ("h1", "h2")
# Elements that carry a styled title (a box title, a category name).
TITLE_LIKE_TAGS = ("div", "span", "p", "td")

# --- Class/id vocabulary of page chrome, as portals name it ------------------------------------

# An element whose class or id carries one of these tokens is chrome: never a post source.
CHROME_TOKENS = frozenset("""
    header footer menu menus navbar nav navigation breadcrumb breadcrumbs sidebar aside banner
    weblink weblinks lienket counter visitor visitors truycap copyright social share sharing
    marquee slider slideshow carousel quangcao advert adv ads tinmoi newest latest docnhieu
    xemnhieu mostview mostread popular tieudiem
    widget topbar dropdown submenu megamenu mainmenu topmenu toolbar login search
""".split())
# Two-token chrome names that only mean chrome together ("tin-moi", "side-bar").
CHROME_PAIRS = frozenset({
    ("tin", "moi"), ("doc", "nhieu"),
    ("xem", "nhieu"), ("lien", "ket"), ("truy", "cap"), ("side", "bar"), ("web", "link"),
    ("quang", "cao"), ("tieu", "diem"), ("most", "view"),
    ("site", "header"), ("site", "footer"), ("main", "menu"), ("top", "menu"),
})
# Tokens that make "header"-like names part of the content ("page-header", "entry-header").
CONTENT_QUALIFIERS = frozenset("page entry article post content title list view cat category section panel box".split())
# Chrome tokens that a content qualifier beside them turns into content ("list-title-header").
QUALIFIABLE_CHROME = frozenset({"header", "top", "bottom", "info", "meta"})
# Side columns: posts there are probably not the main listing.
# ("related" is chrome on article pages but some NukeViet themes name the main listing so.)
SIDE_TOKENS = frozenset("""right left colright colleft rightcol leftcol thongbao notice related lienquan tinkhac
    othernews""".split())
# Names of the main content region.
MAIN_TOKENS = frozenset("""
    content main maincontent primary center centre noidung article articles list listing news
    category chuyenmuc view views items posts blog region-content danhsach dstin
""".split())
DATE_CLASS = re.compile(r"date|time|ngay|thoigian|thoi-gian|publish|created|posted|updated|meta|info", re.I)
TITLE_CLASS = re.compile(r"title|heading|tieude|tieu-de|header|caption|cat-?name|legend|head\b", re.I)
BREADCRUMB_CLASS = re.compile(r"breadcrumb|duong-?dan|crumb|navigation-path|vi-?tri|pathway|path-?way|location", re.I)
BREADCRUMB_ARIA_LABELS = frozenset({"breadcrumb", "breadcrumbs"})
PAGER_CLASS = re.compile(r"pag|phan-?trang|page-?nav|nav-links|pagenavi|pager|paging|pages\b|page-list", re.I)
ACTIVE_CLASS = re.compile(r"\b(active|current|selected|current-menu-item|is-active)\b", re.I)
# Class names of listing items ("news-item", "tin-bai", "views-row").
ITEM_CLASS = re.compile(r"item|news|post|entry|row|tin|bai|article|record|result", re.I)
# Classes that vary between the items of one list (alternation, position, highlight): not its signature.
SIGNATURE_NOISE = re.compile(
    r"\d|^(clearfix|item-?\d*|row-?\d*|views-row-\w+)$"
    # a state of one item, alone or as a suffix ("sticky", Drupal's "node-sticky", "is-featured")
    r"|(?:^|[-_])(odd|even|first|last|active|current|selected|sticky|featured|promoted|hot|noibat|noi-bat"
    r"|highlight|lead|top|new|moi)$|alt(ernat)?", re.I)
# Where class and id names split into tokens: camelCase humps, and _ - : . and spaces.
NAME_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
NAME_SPLIT = re.compile(r"[\s_\-:.]+")

# --- Titles of side boxes ------------------------------------------------------------------------

# Titles of side boxes on Vietnamese portals (accent-folded, normalised): never the listing.
SIDE_BOX_TITLES = frozenset(t.strip() for t in """
    tin moi|tin moi nhat|tin moi cap nhat|bai moi|tin doc nhieu|doc nhieu|tin xem nhieu|xem nhieu
    |tin noi bat|noi bat|tieu diem|tin tieu diem|thong bao|thong bao moi|van ban moi|van ban moi ban hanh
    |lien ket|lien ket website|lien ket web|tin lien quan|bai viet lien quan|cac tin khac|tin khac
    |cac bai khac|tin cung chuyen muc|cung chuyen muc|bai viet khac|video|thu vien anh|hinh anh
    |thu vien video|quang cao|thong ke truy cap|ho tro truc tuyen|tin anh|chuyen de|su kien noi bat
    |tin trong nganh|thong tin can biet|dang nhap|tim kiem|binh chon|tien ich|lien he
    |cac tin da dua|tin da dua|cac tin cu hon|tin cu hon|tin bai khac|cac bai viet khac|xem them|doc them
    |tin khac cung chuyen muc|cac tin cung chuyen muc|related posts|related articles|related news|other news
    |more news|older news|recent posts|latest news|most read|popular posts
""".replace("\n", "").split("|") if t.strip())

# --- Link texts ---------------------------------------------------------------------------------

# Link texts that are not post titles.
READ_MORE = frozenset(normalise(t, accents=False) for t in (
    "Xem tiếp", "Xem thêm", "Chi tiết", "Đọc tiếp", "Đọc thêm", "Xem chi tiết", "Tải về", "Download",
    "Tải xuống", "Xem", "Read more", "more", "...", "»", "Tiếp",
))
# Link texts of a file (a download, not a post): "bao-cao.pdf".
FILE_NAME = re.compile(r"^\S+\.(pdf|docx?|xlsx?|zip|rar|jpe?g|png|pptx?)$", re.I)
NEXT_WORDS = frozenset(normalise(t, accents=False) for t in (
    "Trang sau", "Sau", "Tiếp", "Tiếp theo", "Trang tiếp", "Next", "»", "›", ">", ">>", "Cuối", "Trang cuối", "Last",
    "Xem tiếp", "Tin cũ hơn", "Bài cũ hơn", "Older posts",
))
PREV_WORDS = frozenset(normalise(t, accents=False) for t in (
    "Trang trước", "Trước", "Previous", "Đầu", "Trang đầu", "First", "Tin mới hơn", "Newer posts",
))
# Pager arrows, compared as written: normalising folds them to "".
NEXT_ARROWS = frozenset({"»", "›", ">", ">>"})
PREV_ARROWS = frozenset({"«", "‹", "<", "<<"})

# --- Breadcrumbs and titles ---------------------------------------------------------------------

# A breadcrumb piece that is only separators.
BREADCRUMB_SEPARATORS = re.compile(r"[›»>/|\-→\s]+")
# Where a breadcrumb written as one text splits into its pieces.
BREADCRUMB_SPLIT = re.compile(r"\s[›»>/|→]\s|\s-\s(?=\S)")
# "Bạn đang ở: Trang chủ > ..." before the first piece.
BREADCRUMB_PREFIX = re.compile(r"^(bạn đang ở|vị trí|you are here)\s*:?\s*", re.I)
# Where a <title> splits into its parts ("Chỉ đạo điều hành | Sở Tư pháp").
TITLE_SPLIT = re.compile(r"\s+[|–—»]\s+|\s*::\s*|\s+>\s+")

# --- Page kinds ---------------------------------------------------------------------------------

# "Không tìm thấy" pages served with status 200, in the <title> or the main heading (accent-folded, normalised).
SOFT_404 = re.compile(
    r"khong tim thay (trang|noi dung|bai viet|du lieu yeu cau|duong dan)|trang (ban )?(yeu cau|tim|truy cap) "
    r"(khong ton tai|khong tim thay|da bi xoa)|khong ton tai|page not found|\b404\b|not found|loi 404"
    r"|duong dan khong hop le|noi dung (nay )?(khong ton tai|da bi xoa|da bi go)",
)
# The same in the text of a short page: narrower, since running text may quote "không tồn tại".
SOFT_404_TEXT = re.compile(r"khong tim thay trang|trang (ban )?(yeu cau|tim|truy cap) khong ton tai"
                           r"|page not found|loi 404|404 not found|noi dung khong ton tai")
# JSON-LD that says the page is one article.
ARTICLE_JSONLD_TYPE = re.compile(r'"@type"\s*:\s*"(News)?Article|BlogPosting"')
# Microdata types of one article (a single such element on the page).
ARTICLE_ITEMTYPE = re.compile(r"schema\.org/(News|Blog)?(Article|Posting)\b|schema\.org/BlogPosting", re.I)
# <body> classes the CMSes give a single post's page: WordPress "single-post", Drupal "node-type-article"
# with "page-node-12", Joomla "view-article", DNN/others "article-detail".
# The <body> class CMSes give the front page, at whatever address it answers (WordPress "home" on an unknown
# path under plain permalinks, Drupal "front"); "not-front" and "blog" are other pages
HOME_BODY_CLASS = re.compile(r"(?:^|\s)(?:home|front|frontpage|home-page|page-home)(?:\s|$)", re.I)
# The <body> class CMSes give a static page (WordPress's pages, Drupal's basic pages): an introduction, a
# contact page, never a post, even where the same CMS marks posts with a class the article rule reads
STATIC_PAGE_BODY_CLASS = re.compile(r"(?:^|\s)(?:page-id-\d+|page-template-default|node-type-page)(?:\s|$)", re.I)
ARTICLE_BODY_CLASS = re.compile(
    r"(?:^|\s)(?:single-post|single-format-\w+|postid-\d+|page-node-\d+|view-article|article-detail"
    r"|news-detail|detail-page)(?:\s|$)", re.I)
# The container of one post's full text, as CMSes name it: Liferay's asset publisher in full view, Joomla's
# item-page, Drupal 8's full view mode, vendor portals' "chi tiết tin" (one such element on the page).
ARTICLE_CONTAINER_CLASS = re.compile(
    r"(?:^|\s)(?:asset-full-content|item-page|node--view-mode-full|news-detail|news_detail|detail-news"
    r"|chitiet-tin|chi-tiet-tin|chitiettin|post-detail|article-detail)(?:\s|$)", re.I)
# The words before a document's own date in a summary (accent-folded, lower case): a document number
# ("số 28/KH-SYT ngày", "15/2018/QĐ-UBND ngày") or a document type ("Quyết định ... ngày"), then "ngày".
DOCUMENT_DATE = re.compile(
    r"(?:\b\d+\s*/\s*(?:\d{4}\s*/\s*)?[a-z]{1,}[\w\-]*"
    r"|\b(?:quyet dinh|ke hoach|cong van|thong bao|nghi quyet|chi thi|thong tu|nghi dinh|to trinh|bao cao"
    r"|huong dan|ket luan|giay moi|cong dien)\b[^.;:]{0,40}?)"
    r",?\s+(?:ban hanh\s+)?ngay\s*$")
# What an existing category with nothing in it says (accent-folded, normalised): "Chưa có bài viết",
# "Nothing here", Drupal's "There is currently no content classified with this term."
EMPTY_LISTING = re.compile(
    r"\b(?:chua|khong) co (?:bai viet|tin|tin bai|du lieu|noi dung|van ban|muc nao|bai nao|thong tin)\b"
    r"|\b(?:du lieu|noi dung|thong tin) dang (?:duoc )?cap nhat\b|\bdang cap nhat (?:du lieu|noi dung)\b"
    r"|\bnothing (?:here|found)\b|\bno (?:posts|articles|items|entries|content|results)(?: (?:found|yet))?\b"
    r"|there is currently no content classified with this term|\bit seems we can t find what you re looking for\b")

# --- Dates --------------------------------------------------------------------------------------

# The label before an updated date ("Cập nhật: 05/07/2018").
UPDATED_LABEL = re.compile(r"cap nhat|sua doi|chinh sua|updated|modified", re.I)
# The label just before a publication date ("Ngày đăng: 05/07/2018").
PUBLISHED_LABEL = re.compile(
    r"(ngay dang|dang ngay|ngay dang tai|thoi gian dang|ngay xuat ban|ngay phat hanh|posted|published|"
    r"ngay cap nhat|cap nhat|ngay tao|dang luc|dang tai|publish(?:ed)? (?:date|on)|posted (?:date|on)"
    r"|date posted|date published|created(?: on)?)\s*:?\s*$",
    re.I,
)
# Characters stripped from the text before a date before looking for its label.
LABEL_PUNCTUATION = " :|-("
# <meta> names of the publication and update dates, most specific first.
PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
                  "dc.date.issued", "date")
UPDATED_META = ("article:modified_time", "og:updated_time", "datemodified", "last-modified")
META_DATE_ITEMPROPS = "//*[@itemprop='datePublished' or @itemprop='dateModified']"

# --- Links --------------------------------------------------------------------------------------

# hrefs that lead nowhere.
NOT_A_LINK = ("#", "javascript:", "mailto:", "tel:", "data:")
PAGE_PARAM = re.compile(
    r"(?:^|[?&;])(?:page|p|pg|paged|start|limitstart|trang|pageindex|pagenum|pageno|offset|cur|\w+_cur|curpage)=(\d+)",
    re.I,
)
PAGE_PATH = re.compile(r"/(?:page|trang|p)[-/]?(\d+)(?:/|\.html?$|$)|trang-(\d+)\.html?$"
                       r"|/PhanTrang/(?:[^/]+/)?(\d+)", re.I)
POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")
POSTBACK_NUMBER = re.compile(r"(\d+)")
FEED_HREF = re.compile(r"(/rss(/|\.|$)|\.rss$|/feed/?$|/atom(\.xml)?$|rss\.aspx|[?&]format=feed)", re.I)
XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
