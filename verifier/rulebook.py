"""The rulebook: one YAML file per province and year (rules/<province>-<year>.yaml)."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crawler.content import ContentCheck, ContentRule
from verifier.errors import RulebookError, UnknownCriterion
from verifier.resources import CHECKOUT, bundled

# The bundled rulebooks: rules/ of the repository, installed as the package verifier.rulebooks.
RULES_DIR = bundled("verifier.rulebooks", "rules")
DEFAULT_RULEBOOK = RULES_DIR / "caobang-2018.yaml"
# libyaml's safe loader when PyYAML was built with it (ten times faster: the spot-check loads the rulebook
# on every call), else the pure-Python one; both are safe loaders.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

WEBSITE_CRITERIA = (
    "gioi-thieu", "tin-tuc-su-kien", "chi-dao-dieu-hanh", "pho-bien-phap-luat",
    "chien-luoc-quy-hoach", "van-ban-phap-luat", "du-an-dau-tu", "khoa-hoc-cong-nghe",
    "lay-y-kien", "thanh-tra", "hoi-dap", "dich-vu-cong", "thong-ke", "ngan-sach",
)
# The statuses a reviewer may set on a verdict; a criterion may allow fewer (`override_statuses`).
OVERRIDE_STATUSES = ("pass", "fail", "exempt", "review")
# An `allowed_hosts` entry: a lower-case host name of two labels or more, optionally "*." before it.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ALLOWED_HOST = rf"^(?:\*\.)?{_LABEL}(?:\.{_LABEL})+$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grade(_Strict):
    """Graded website points: `share` of the points from `min_posts` posts in the period."""
    min_posts: int = Field(ge=1)
    share: float = Field(gt=0, le=1)


class Tier(_Strict):
    """Tiered points of a reported figure: `points` when the value is at least `min`."""
    min: float
    points: float = Field(ge=0)


class Level(_Strict):
    name: str
    min: float = Field(ge=0, le=100)


class PhraseDetector(_Strict):
    """Key phrases, any one of which carries the check (matched as category aliases are)."""
    phrases: tuple[str, ...] = Field(min_length=1)


class ContentCheckSpec(_Strict):
    """One named content check of a criterion judged by its content (`requires:`)."""
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str = Field(min_length=1)         # Vietnamese: what the page must carry, as reviewers read it
    detector: Literal["phone", "email", "address", "person_with_title"] | PhraseDetector

    def as_check(self) -> ContentCheck:
        if isinstance(self.detector, PhraseDetector):
            return ContentCheck(self.id, self.label, "phrases", self.detector.phrases)
        return ContentCheck(self.id, self.label, self.detector)


class Criterion(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: Literal["website", "reported", "listed"] = "website"
    groups: tuple[str, ...]
    # `listed` criteria: the list of items (documents, projects, programmes) the agencies of `agencies` send,
    # each looked for on the agency's portal (the reported link is the category the items sit in, recognised
    # by this criterion's own aliases and keywords). `match`: by the item's document number ("15/2018/QĐ-UBND",
    # normalised) or by its title's words (`title_threshold`: the share of the title's words a page line must
    # carry); `scoring`: all_or_nothing (full points only when every item is found) or proportional
    # (points × found / listed); `search_url`: the portal's search, "{q}" standing for the item searched,
    # when its page offers no search form.
    agencies: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    match: Literal["document_number", "title"] | None = None
    scoring: Literal["all_or_nothing", "proportional"] | None = None
    title_threshold: float = Field(default=0.8, gt=0, le=1)
    search_url: str | None = Field(default=None, pattern=r"^/.*\{q\}")
    points: float = Field(ge=0)
    min_posts: int = Field(default=1, ge=1)
    grades: tuple[Grade, ...] = ()
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weak_keywords: tuple[str, ...] = ()
    unit: str | None = None
    # `reported` criteria: a figure from the form, scored by `formula`.
    #   rate:   value/100 × points (or value/<of's value> × points when `of` names the whole);
    #   tiers:  the points of the highest tier whose `min` the value reaches;
    #   yes_no: full points for yes, 0 for no.
    # A reported criterion without a formula is a figure the others refer to (it carries no points).
    formula: Literal["rate", "tiers", "yes_no"] | None = None
    tiers: tuple[Tier, ...] = ()
    of: str | None = None              # rate: the criterion whose value is the whole (e.g. staff count)
    # Logic checks; a value that breaks one is a review/logic_check verdict.
    min: float | None = None           # lowest acceptable value (reported figures default to 0)
    max: float | None = None           # highest acceptable value (a rate in % defaults to 100)
    not_above: str | None = None       # a part is not above its whole (computers <= staff)
    integer: bool = False              # a count of people, machines, services
    section: str | None = None         # heading the criterion is listed under on forms and reports
    # The statuses a reviewer's override may give this criterion (default: all four); e.g. no `exempt` for a
    # category every agency must carry.
    override_statuses: tuple[Literal["pass", "fail", "exempt", "review"], ...] = OVERRIDE_STATUSES
    # Website criteria: hosts besides the agency's portal where a link for this criterion is read and judged on
    # that host (the province's public-service portal), instead of `off_site`. Lower-case host names, no
    # scheme, port or path; "*.example.vn" for its subdomains.
    allowed_hosts: tuple[Annotated[str, Field(pattern=_ALLOWED_HOST)], ...] = ()
    # Website criteria judged by what the page carries instead of how fresh its posts are (an introduction
    # page): `freshness: not_required` with the named checks of `requires`, `min_required` of which must be
    # found (default: all).
    freshness: Literal["required", "not_required"] = "required"
    requires: tuple[ContentCheckSpec, ...] = ()
    min_required: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _grades_descending(self):
        mins = [g.min_posts for g in self.grades]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grades must be listed from the highest min_posts down")
        if self.kind in ("website", "listed") and not (self.aliases or self.keywords):
            raise ValueError(f"a {self.kind} criterion needs aliases or keywords")
        self._check_listed()
        if self.kind == "website" and (self.formula or self.tiers or self.of or self.not_above):
            raise ValueError("formula, tiers, of and not_above belong to reported criteria")
        if self.kind == "reported":
            self._check_reported()
        if self.kind == "listed" and (self.formula or self.tiers or self.of or self.not_above or self.grades):
            raise ValueError("formula, tiers, of, not_above and grades do not belong to listed criteria")
        if self.allowed_hosts and self.kind != "website":
            raise ValueError("allowed_hosts belong to website criteria")
        self._check_content()
        if not self.override_statuses or len(set(self.override_statuses)) != len(self.override_statuses):
            raise ValueError("override_statuses must list at least one status, each once")
        return self

    def _check_listed(self) -> None:
        if self.kind != "listed":
            if self.agencies or self.match or self.scoring or self.search_url:
                raise ValueError("agencies, match, scoring and search_url belong to listed criteria")
            return
        missing = [key for key in ("agencies", "match", "scoring") if not getattr(self, key)]
        if missing:
            raise ValueError(f"a listed criterion needs {', '.join(missing)} (agencies: the agency ids it applies "
                             "to; match: document_number or title; scoring: all_or_nothing or proportional)")
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("agencies must name each agency once")

    def applies_to(self, agency_id: str, group: str) -> bool:
        """Does the criterion apply to this agency of this group (a listed one: only to the agencies it names)?"""
        return group in self.groups and (self.kind != "listed" or agency_id in self.agencies)

    def _check_content(self) -> None:
        if self.kind in ("reported", "listed") and (self.requires or self.freshness != "required" or self.min_required):
            raise ValueError("freshness, requires and min_required belong to website criteria")
        if self.freshness == "not_required" and not self.requires:
            raise ValueError("freshness: not_required needs `requires`, the content the page must carry")
        if self.requires and self.freshness == "required":
            raise ValueError("`requires` is only used with freshness: not_required")
        if self.min_required is not None and not self.requires:
            raise ValueError("min_required is only used with requires")
        if self.min_required is not None and self.min_required > len(self.requires):
            raise ValueError(f"min_required {self.min_required} is more than the {len(self.requires)} checks "
                             "of requires")
        ids = [r.id for r in self.requires]
        if len(set(ids)) != len(ids):
            raise ValueError("each check of requires needs its own id")

    @property
    def content_rule(self) -> ContentRule | None:
        """The content checks the criterion is judged by (None: judged by its posts' freshness)."""
        if self.freshness == "required":
            return None
        return ContentRule(tuple(r.as_check() for r in self.requires), self.min_required or len(self.requires))

    def _check_reported(self) -> None:
        if self.grades:
            raise ValueError("grades belong to website criteria (use tiers for a reported figure)")
        if self.formula is None and self.points:
            raise ValueError("a reported criterion with points needs a formula: rate, tiers or yes_no")
        if self.formula == "tiers":
            if not self.tiers:
                raise ValueError("formula tiers needs a list of tiers")
            mins = [t.min for t in self.tiers]
            if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
                raise ValueError("tiers must be listed from the highest min down, each min once")
            if any(t.points > self.points for t in self.tiers):
                raise ValueError("a tier cannot give more than the criterion's points")
        elif self.tiers:
            raise ValueError("tiers are only used with formula: tiers")
        if self.of and self.formula != "rate":
            raise ValueError("`of` is only used with formula: rate")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")

    @property
    def is_reported(self) -> bool:
        return self.kind == "reported"

    @property
    def lowest(self) -> float:
        """The lowest acceptable reported value."""
        return 0.0 if self.min is None else self.min

    @property
    def highest(self) -> float | None:
        """The highest acceptable reported value: `max`, or 100 for a rate given in percent."""
        if self.max is not None:
            return self.max
        if self.formula == "rate" and not self.of:
            return 100.0
        return None


class Rulebook(_Strict):
    province: str
    year: int = Field(ge=2000, le=2100)
    deadline: dt.date
    period: tuple[dt.date, dt.date]
    groups: dict[str, str]
    levels: tuple[Level, ...]
    criteria: tuple[Criterion, ...]
    source: str = ""
    sha256: str = ""          # of the file as read: the provenance of every export names it

    @property
    def title(self) -> str:
        return f"Bộ tiêu chí {self.province} năm {self.year}"

    @model_validator(mode="after")
    def _consistent(self):
        start, end = self.period
        if start > end:
            raise ValueError("period starts after it ends")
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate criterion ids: {', '.join(dupes)}")
        for c in self.criteria:
            unknown = [g for g in c.groups if g not in self.groups]
            if unknown:
                raise ValueError(f"criterion {c.id}: unknown group(s) {', '.join(unknown)}")
        by_id = {c.id: c for c in self.criteria}
        for c in self.criteria:
            for key in ("of", "not_above"):
                ref = getattr(c, key)
                if ref is None:
                    continue
                other = by_id.get(ref)
                if other is None or other.kind != "reported":
                    raise ValueError(f"criterion {c.id}: {key} {ref!r} is not a reported criterion")
                if ref == c.id:
                    raise ValueError(f"criterion {c.id}: {key} names itself")
                missing = [g for g in c.groups if g not in other.groups]
                if missing:
                    raise ValueError(f"criterion {c.id}: {key} {ref!r} does not apply to group(s) "
                                     f"{', '.join(missing)}")
        return self

    @cached_property
    def by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.criteria}

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id; raises UnknownCriterion."""
        try:
            return self.by_id[criterion_id]
        except KeyError:
            known = ", ".join(self.by_id)
            raise UnknownCriterion(f"{criterion_id!r} (known: {known})", file=rulebook_name(self.source)) from None

    def website_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "website"]

    def listed_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "listed"]

    def criteria_for(self, group: str, agency_id: str | None = None) -> list[Criterion]:
        """The group's criteria; a listed criterion only with the id of an agency it names."""
        return [c for c in self.criteria if group in c.groups and (c.kind != "listed" or agency_id in c.agencies)]

    def max_points(self, group: str, agency_id: str | None = None) -> float:
        return sum(c.points for c in self.criteria_for(group, agency_id))


def rulebook_name(path: Path | str) -> str:
    """A rulebook as messages and exports name it: a bundled one as rules/<file>, where it sits in the repository
    (the same name from a checkout and from an installed package); one inside the checkout relative to it;
    any other as given."""
    path = Path(path)
    try:
        where = path.resolve()
    except OSError:
        return str(path)
    if where.parent == RULES_DIR.resolve():
        return f"rules/{where.name}"
    if (CHECKOUT / "pyproject.toml").is_file() and where.is_relative_to(CHECKOUT):
        return where.relative_to(CHECKOUT).as_posix()
    return str(path)


def load_rulebook(path: Path | str = DEFAULT_RULEBOOK) -> Rulebook:
    """Read and validate a rulebook; raises RulebookError naming the file and the key."""
    path = Path(path)
    name = rulebook_name(path)
    try:
        data = path.read_bytes()
        raw = yaml.load(data.decode("utf-8"), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise RulebookError("file not found", file=name) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RulebookError(f"not valid YAML ({exc})", file=name) from None
    if not isinstance(raw, dict):
        raise RulebookError("expected a mapping at the top level", file=name)
    try:
        return Rulebook.model_validate({**raw, "source": str(path), "sha256": hashlib.sha256(data).hexdigest()})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(_key_name(raw, first["loc"]))
        raise RulebookError(f"{first['msg']}", file=name, column=key or None,
                            hint="see rules/caobang-2018.yaml for the expected shape") from None


def _key_name(raw: dict, loc: tuple) -> list[str]:
    """Turn a pydantic location into readable keys, naming criteria by id instead of index."""
    names: list[str] = []
    node = raw
    for part in loc:
        if isinstance(node, str | int | float | bool):
            break           # past the value itself: pydantic's names of union branches ("literal['phone', ...]")
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            names[-1:] = [f"{names[-1]}[{item.get('id', part) if isinstance(item, dict) else part}]"]
            node = item
        else:
            names.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return names
