"""The exports of a crawl's evidence database, as text to look for a verdict in: report.json's verdicts, the
workbook's cells, the HTML report's pages and each agency's form (phiếu)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from verifier.cli import app


@dataclass(frozen=True)
class Exports:
    verdicts: dict[tuple[str, str], dict]     # report.json, by (agency, criterion)
    xlsx: str
    html: str
    forms: dict[str, str]                     # agency -> its phiếu's cells


def _cells(path: Path) -> str:
    book = load_workbook(path, read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def exports(db: Path, out: Path) -> Exports:
    result = CliRunner().invoke(app, ["report", "--db", str(db), "--out", str(out), "--format", "json,xlsx,html"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    verdicts = {(v["agency_id"], v["criterion"]): v for v in data["verdicts"]}
    html = "\n".join(p.read_text(encoding="utf-8") for p in sorted((out / "html").rglob("*.html")))
    forms = {p.stem: _cells(p) for p in sorted((out / "phieu").glob("*.xlsx"))}
    return Exports(verdicts, _cells(out / "report.xlsx"), html, forms)
