"""Match a page's own category label to a rulebook criterion.

Three kinds of evidence, strongest first: the label equals an alias (after
normalisation); the label contains the criterion's key phrases; weak phrases
only break ties. A label is a heading, breadcrumb item or title segment, never
the page's menu. Matching is done twice, with and without accents, because
portals (and reports) sometimes drop them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crawler.text import tokens

ALIAS_SCORE = 10.0
WEAK_WEIGHT = 0.3
MAX_LABEL_TOKENS = 14          # longer texts are sentences (article titles), not category labels
# A label names a category when the category's key phrases cover at least this share of its words:
# "Tin hoạt động", "Văn bản chỉ đạo, điều hành" do; a post title that merely contains a key phrase
# ("Kế hoạch bảo trì đường bộ năm 2019") does not.
MIN_LABEL_COVERAGE = 0.5
LONG_LABEL_TOKENS = 8          # a label longer than this is a title unless the key phrases cover most of it
LONG_LABEL_COVERAGE = 0.75
MEMO_LABELS = 20_000           # labels whose answers a matcher keeps (then it starts again)


@dataclass(frozen=True)
class CategorySpec:
    """What the matcher needs of a criterion."""

    id: str
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    weak_keywords: tuple[str, ...] = ()


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    if not n or n > len(haystack):
        return False
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


class CategoryMatcher:
    """Scores a label against every criterion; `match` returns the clear winner or None."""

    def __init__(self, specs: Iterable[CategorySpec]):
        self.specs = tuple(specs)
        self._prepared = []
        for spec in self.specs:
            prepared = {}
            for accents in (True, False):
                keywords = [tokens(k, accents=accents) for k in spec.keywords]
                prepared[accents] = (
                    {tokens(a, accents=accents) for a in spec.aliases},
                    keywords,
                    [tokens(k, accents=accents) for k in spec.weak_keywords],
                    # the first words of the key phrases: a label with none of them contains none
                    frozenset(k[0] for k in keywords if k),
                )
            self._prepared.append((spec.id, prepared))
        # label -> what match and names answered: a portal's menus, boxes and breadcrumbs repeat on every
        # page, and the matcher answers the same for the same label whatever page it is on
        self._matched: dict[str, tuple[str | None, float]] = {}
        self._named: dict[str, str | None] = {}

    def forget(self) -> None:
        """Empty the answers kept per label (a benchmark's pass starts as a new process would)."""
        self._matched.clear()
        self._named.clear()

    @classmethod
    def from_rulebook(cls, rulebook) -> CategoryMatcher:
        return cls(
            CategorySpec(c.id, tuple(c.aliases), tuple(c.keywords), tuple(c.weak_keywords))
            for c in rulebook.website_criteria()
        )

    def scores(self, label: str) -> dict[str, float]:
        """Score of every criterion for this label (0 = no evidence)."""
        out: dict[str, float] = {}
        for accents in (True, False):
            toks = tokens(label, accents=accents)
            if not toks or len(toks) > MAX_LABEL_TOKENS:
                return {}
            words = set(toks)
            for cid, prepared in self._prepared:
                aliases, keywords, weak, firsts = prepared[accents]
                if toks in aliases:
                    score = ALIAS_SCORE
                elif firsts.isdisjoint(words):
                    score = 0.0
                else:
                    strong = [k for k in keywords if _contains(toks, k)]
                    # overlapping phrases ("chỉ đạo" inside "văn bản chỉ đạo") count by covered tokens
                    score = float(_covered(toks, strong))
                    if score:
                        score += WEAK_WEIGHT * _covered(toks, [k for k in weak if _contains(toks, k)])
                        score = min(score, ALIAS_SCORE - 0.5)
                if score > out.get(cid, 0.0):
                    out[cid] = score
            if out:
                return out
        return out

    def match(self, label: str) -> tuple[str | None, float]:
        """The criterion this label names, with its score; (None, 0) when none, a tie, or when the key
        phrases cover too little of the label to be its name (a sentence that mentions a category)."""
        try:
            return self._matched[label]
        except KeyError:
            pass
        if len(self._matched) >= MEMO_LABELS:
            self._matched.clear()
        out = self._matched[label] = self._match(label)
        return out

    def _match(self, label: str) -> tuple[str | None, float]:
        ranked = sorted(self.scores(label).items(), key=lambda kv: kv[1], reverse=True)
        if not ranked or ranked[0][1] <= 0:
            return None, 0.0
        if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
            return None, 0.0
        cid, score = ranked[0]
        if score < ALIAS_SCORE:
            n = len(tokens(label))
            needed = MIN_LABEL_COVERAGE if n <= LONG_LABEL_TOKENS else LONG_LABEL_COVERAGE
            if self._coverage(label, cid) < needed * n:
                return None, 0.0
        return cid, score

    def names(self, label: str) -> str | None:
        """The criterion whose name this label is, strictly: an alias, or every word one of its key phrases'
        (a menu entry "Tuyên truyền pháp luật" is; a post title "Công khai dự toán ngân sách năm 2018",
        which uses the category's words with others, is not)."""
        try:
            return self._named[label]
        except KeyError:
            pass
        if len(self._named) >= MEMO_LABELS:
            self._named.clear()
        out = self._named[label] = self._names(label)
        return out

    def _names(self, label: str) -> str | None:
        cid, score = self.match(label)
        if cid is None or score >= ALIAS_SCORE:
            return cid
        return cid if self._coverage(label, cid) >= len(tokens(label)) else None

    def _coverage(self, label: str, cid: str) -> int:
        """How many of the label's tokens the criterion's key and weak phrases cover (with accents or without)."""
        best = 0
        for spec_id, prepared in self._prepared:
            if spec_id != cid:
                continue
            for accents in (True, False):
                toks = tokens(label, accents=accents)
                _, keywords, weak, _ = prepared[accents]
                best = max(best, _covered(toks, [k for k in (*keywords, *weak) if _contains(toks, k)]))
        return best


def _covered(toks: tuple[str, ...], phrases: list[tuple[str, ...]]) -> int:
    """How many tokens of the label the phrases cover."""
    covered: set[int] = set()
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(toks) - n + 1):
            if toks[i:i + n] == phrase:
                covered.update(range(i, i + n))
    return len(covered)
