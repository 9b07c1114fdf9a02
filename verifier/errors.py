"""Named errors for bad input. The docstring is the message; details say where."""

from __future__ import annotations


class InputError(Exception):
    """Bad input"""

    def __init__(self, detail: str = "", *, file: str | None = None, row: int | None = None,
                 column: str | None = None, hint: str | None = None):
        self.detail = detail
        self.file = file
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.message())

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(str(self.file))
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


class InputErrors(InputError):
    """Input has errors"""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s)")

    def message(self) -> str:
        return "\n".join(e.message() for e in self.errors)
