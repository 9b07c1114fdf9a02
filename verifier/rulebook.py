"""The rulebook: one YAML file per province and year (rules/<province>-<year>.yaml)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from verifier.errors import RulebookError, UnknownCriterion

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
DEFAULT_RULEBOOK = RULES_DIR / "caobang-2018.yaml"

WEBSITE_CRITERIA = (
    "gioi-thieu", "tin-tuc-su-kien", "chi-dao-dieu-hanh", "pho-bien-phap-luat",
    "chien-luoc-quy-hoach", "van-ban-phap-luat", "du-an-dau-tu", "khoa-hoc-cong-nghe",
    "lay-y-kien", "thanh-tra", "hoi-dap", "dich-vu-cong", "thong-ke", "ngan-sach",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grade(_Strict):
    """Graded website points: `share` of the points from `min_posts` posts in the period."""
    min_posts: int = Field(ge=1)
    share: float = Field(gt=0, le=1)


class Level(_Strict):
    name: str
    min: float = Field(ge=0, le=100)


class Criterion(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    kind: Literal["website"] = "website"
    groups: tuple[str, ...]
    points: float = Field(ge=0)
    min_posts: int = Field(default=1, ge=1)
    grades: tuple[Grade, ...] = ()
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weak_keywords: tuple[str, ...] = ()
    unit: str | None = None

    @model_validator(mode="after")
    def _grades_descending(self):
        mins = [g.min_posts for g in self.grades]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grades must be listed from the highest min_posts down")
        if self.kind == "website" and not (self.aliases or self.keywords):
            raise ValueError("a website criterion needs aliases or keywords")
        return self


class Rulebook(_Strict):
    province: str
    year: int = Field(ge=2000, le=2100)
    deadline: dt.date
    period: tuple[dt.date, dt.date]
    groups: dict[str, str]
    levels: tuple[Level, ...]
    criteria: tuple[Criterion, ...]
    source: str = ""

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
            raise UnknownCriterion(f"{criterion_id!r} (known: {known})", file=self.source) from None

    def website_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "website"]

    def criteria_for(self, group: str) -> list[Criterion]:
        return [c for c in self.criteria if group in c.groups]

    def max_points(self, group: str) -> float:
        return sum(c.points for c in self.criteria_for(group))


def load_rulebook(path: Path | str = DEFAULT_RULEBOOK) -> Rulebook:
    """Read and validate a rulebook; raises RulebookError naming the file and the key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulebookError("file not found", file=str(path)) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RulebookError(f"not valid YAML ({exc})", file=str(path)) from None
    if not isinstance(raw, dict):
        raise RulebookError("expected a mapping at the top level", file=str(path))
    try:
        return Rulebook.model_validate({**raw, "source": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(_key_name(raw, first["loc"]))
        raise RulebookError(f"{first['msg']}", file=str(path), column=key or None,
                            hint="see rules/caobang-2018.yaml for the expected shape") from None


def _key_name(raw: dict, loc: tuple) -> list[str]:
    """Turn a pydantic location into readable keys, naming criteria by id instead of index."""
    names: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            names[-1:] = [f"{names[-1]}[{item.get('id', part) if isinstance(item, dict) else part}]"]
            node = item
        else:
            names.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return names
