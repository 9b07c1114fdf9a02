"""File names inside the report folder, safe whatever an agency id contains."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(text: str) -> str:
    """A file-name-safe form of an id; ids that had to change get a short digest so two never collide."""
    slug = _UNSAFE.sub("_", text).strip("._")[:60] or "x"
    if slug != text:
        slug += "-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return slug


def agency_page(agency_id: str) -> str:
    """The agency's page, relative to the HTML report's root."""
    return f"agency/{safe_name(agency_id)}.html"


def evidence_page(fetch_id: int) -> str:
    """The page showing one archived response, relative to the HTML report's root."""
    return f"evidence/{int(fetch_id)}.html"


def raw_page(fetch_id: int) -> str:
    """The page showing one archived record as text (status line, headers, source), relative to the root."""
    return f"evidence/{int(fetch_id)}-raw.html"


RANKING_PAGE = "ranking.html"
