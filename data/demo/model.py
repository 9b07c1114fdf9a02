"""The demo's content model: a portal, its categories, their posts; and each platform's URL style."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

PER_PAGE = 10               # posts per listing page


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60]


@dataclass
class Post:
    title: str
    date: dt.date | None            # the post's own date (None: it has none anywhere)
    id: int
    summary: str = ""


@dataclass
class Category:
    key: str                        # the model's name for it (used by content.py)
    criterion: str | None           # the criterion it is the category of (None: none of the 14)
    label: str
    posts: list[Post]
    listing_dates: bool = True      # the listing shows dates
    article_dates: bool = True      # the article pages show dates
    feed: str | None = None         # None, "live" (dates of every post) or "dead" (items of 2016 only)
    in_menu: bool = True            # linked from the home page's main menu
    charset_in_meta_only: bool = False
    nfd: bool = False
    legacy: str | None = None       # a legacy encoding the listing is served in
    fail_times: int = 0             # the first page answers 503 this many times, then the page
    path: str | None = None         # a one-page listing's own address instead of the platform's (a query filter)
    # an introduction's own text above its listing (functions, organisation, leaders, contacts: what the
    # rulebook's content checks look for); "" for none: the page then carries only its posts' titles
    intro: str = ""
    # (title, text) of the sub-pages its introduction text links to (not its menus): functions, organisation,
    # leaders, each a page of its own below the category, as district portals lay out their introduction
    sub_pages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> list[list[Post]]:
        return [self.posts[i:i + PER_PAGE] for i in range(0, len(self.posts), PER_PAGE)] or [[]]


@dataclass
class Portal:
    host: str
    platform: str
    name: str
    prefix: str = ""                # Liferay sites: /web/<site>
    categories: list[Category] = field(default_factory=list)
    extra_routes: list[dict] = field(default_factory=list)
    robots_disallow: list[str] = field(default_factory=list)
    address: str = "Phường Hợp Giang, thành phố Cao Bằng, tỉnh Cao Bằng"
    counter: str = "1.234.567"
    ids: dict = field(default_factory=dict)

    @property
    def email(self) -> str:
        return f"{self.host.split('.')[0]}@caobang.gov.vn"

    @property
    def root_path(self) -> str:
        return self.prefix

    @property
    def home_path(self) -> str:
        return self.prefix or "/"

    def cat(self, key: str) -> Category:
        return next(c for c in self.categories if c.key == key)

    def cid(self, cat: Category) -> int:
        return self.ids.setdefault(cat.key, 10 + self.categories.index(cat) * 7)

    def listing_path(self, cat: Category, n: int) -> str:
        if cat.path and n == 1:
            return cat.path
        slug, cid, p = slugify(cat.label), self.cid(cat), self.platform
        if p == "drupal":
            return f"/taxonomy/term/{cid}" + (f"?page={n - 1}" if n > 1 else "")
        if p == "sharepoint":
            name = "-".join(w.capitalize() for w in slug.split("-"))
            return (f"/Pages/ChuyenMuc/{cid}/{name}.html" if n == 1 else f"/Pages/ChuyenMuc/PhanTrang/{cid}/{n}/{name}.html")
        if p == "liferay":
            return f"{self.prefix}/{slug}" + (f"?_101_INSTANCE_q{cid}x_cur={n}" if n > 1 else "")
        if p == "nukeviet":
            return f"/index.php?language=vi&nv=news&op={slug}" + (f"/page-{n}" if n > 1 else "")
        if p == "wordpress":
            return f"/category/{slug}/" + (f"page/{n}/" if n > 1 else "")
        if p == "vendor":
            return f"/chuyen-muc/{slug}.html" if n == 1 else f"/chuyen-muc/{slug}/trang-{n}.html"
        if p == "3cms":
            return f"/3cms/{slug}.htm" + (f"?page={n}" if n > 1 else "")
        if p == "webforms":
            name = "".join(w.capitalize() for w in slug.split("-"))
            return f"/Pages/{name}.aspx"
        raise ValueError(p)

    def sub_page_path(self, cat: Category, title: str) -> str:
        """A sub-page of the category: its listing's address with the title's slug, before the extension."""
        base = self.listing_path(cat, 1)
        stem, dot, ext = base.rpartition(".")
        if dot and "/" not in ext:
            return f"{stem}-{slugify(title)}.{ext}"
        return f"{base.rstrip('/')}/{slugify(title)}"

    def article_path(self, cat: Category, post: Post) -> str:
        slug, p = slugify(post.title), self.platform
        if p == "drupal":
            return f"/node/{post.id}"
        if p == "sharepoint":
            return f"/Lists/TinTuc/View_detail.aspx?ItemID={post.id}"
        if p == "liferay":
            return f"{self.prefix}/-/asset_publisher/q{self.cid(cat)}x/content/{slug}-{post.id}"
        if p == "nukeviet":
            return f"/index.php?language=vi&nv=news&op={slugify(cat.label)}/{slug}-{post.id}.html"
        if p == "wordpress":
            year = post.date.year if post.date else 2018
            return f"/{year}/{slug}-{post.id}/"
        if p == "vendor":
            return f"/{slug}-{post.id}.html"
        if p == "3cms":
            return f"/3cms/{slug}-{post.id}.htm"
        if p == "webforms":
            return f"/Pages/ChiTiet.aspx?id={post.id}"
        raise ValueError(p)

    def feed_path(self, cat: Category) -> str:
        return f"/rss/{slugify(cat.label)}/"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def menu(self) -> list[tuple[str, str]]:
        items = [("Trang chủ", self.home_path)]
        items += [(c.label, self.listing_path(c, 1)) for c in self.categories if c.in_menu]
        return items

    def side_posts(self) -> list[tuple[str, str, dt.date]]:
        """The "Tin mới" box: the newest posts of the portal, of every category, with fresh dates."""
        fresh = [(p.title, self.article_path(c, p), p.date) for c in self.categories for p in c.posts[:2] if p.date]
        fresh.sort(key=lambda x: x[2], reverse=True)
        return [(t, h, dt.date(2019, 2, 18) - dt.timedelta(days=i)) for i, (t, h, _) in enumerate(fresh[:5])]


