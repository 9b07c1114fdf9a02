"""Named errors for bad input. The docstring is the message; details say where."""

from __future__ import annotations


class InputError(Exception):
    """Bad input"""

    def __init__(self, detail: str = "", *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None, table: int | None = None):
        self.detail = detail
        self.file = file
        self.table = table      # a Word document's table (1-based), where the row and column are
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.message())

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.table is not None:
            parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def message(self) -> str:
        head = (type(self).__doc__ or "Bad input").strip()
        where = self.where()
        text = f"{where}: {head}" if where else head
        return f"{text}: {self.detail}" if self.detail else text


class RulebookError(InputError):
    """Invalid rulebook"""


class UnknownCriterion(InputError):
    """Criterion not in rulebook"""


class MalformedURL(InputError):
    """Malformed URL"""


class MalformedDate(InputError):
    """Malformed date"""


MAX_SHOWN = 20      # problems listed one per line; the rest are counted (a million bad rows are not a million lines)
MAX_KEPT = 1000     # problems kept in memory; beyond that only counted


class Problems(list):
    """A list of InputError that keeps the first MAX_KEPT and counts every one (`total`)."""

    def __init__(self, errors=()):
        super().__init__()
        self.total = 0
        self.extend(errors)

    def append(self, error: InputError) -> None:
        self.total += 1
        if len(self) < MAX_KEPT:
            super().append(error)

    def extend(self, errors) -> None:
        for error in errors:
            self.append(error)


class InputErrors(InputError):
    """Input has errors"""

    def __init__(self, errors: list[InputError]):
        self.errors = list(errors)
        self.total = getattr(errors, "total", len(self.errors))
        super().__init__(f"{self.total} problem(s)")
        # one hint for all when the problems share one (e.g. every bad byte: "save the file as CSV UTF-8")
        hints = {e.hint for e in self.errors if e.hint}
        self.hint = hints.pop() if len(hints) == 1 else None

    def message(self) -> str:
        lines = [e.message() for e in self.errors[:MAX_SHOWN]]
        more = self.total - len(lines)
        if more > 0:
            lines.append(f"... and {more} more problem(s) not shown ({self.total} in all)")
        return "\n".join(lines)
