"""The run's WARC files copied beside the report, with a CDXJ index (cdxj-indexer); and reading one record back."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cdxj_indexer.main import write_cdx_index
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

MAX_BODY = 2_000_000          # bytes of an archived body shown on an evidence page


@dataclass(frozen=True)
class ArchivedResponse:
    """One WARC record as an evidence page shows it."""

    record_type: str
    target_uri: str
    warc_date: str
    status_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool


def warc_path(warc_dir: Path | None, name: str | None) -> Path | None:
    """Where a fetch's WARC file is: absolute as stored, or under the run's WARC folder."""
    if not name:
        return None
    path = Path(name)
    if path.is_absolute() or warc_dir is None:
        return path
    return Path(warc_dir) / path


def read_record(path: Path, offset: int, *, limit: int = MAX_BODY) -> ArchivedResponse | None:
    """The WARC record starting at `offset` (a gzip member of its own), or None if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for record in ArchiveIterator(fh):
                http = record.http_headers
                body = record.content_stream().read(limit + 1)
                return ArchivedResponse(
                    record_type=record.rec_type,
                    target_uri=record.rec_headers.get_header("WARC-Target-URI") or "",
                    warc_date=record.rec_headers.get_header("WARC-Date") or "",
                    status_line=f"{http.protocol or ''} {http.statusline}".strip() if http else "",
                    headers=tuple(http.headers) if http else (),
                    body=body[:limit], truncated=len(body) > limit)
    except (OSError, ArchiveLoadFailed, ValueError, EOFError):
        return None
    return None


def run_warc_files(audit) -> list[Path]:
    """The WARC files the run's fetches point at (existing ones), plus any other WARC of the run's folder
    named after the run, in name order."""
    names = {row["warc_file"] for row in audit.fetches.values() if row.get("warc_file")}
    paths = {warc_path(audit.warc_dir, n) for n in names}
    if audit.warc_dir and Path(audit.warc_dir).is_dir():
        paths.update(Path(audit.warc_dir).glob(f"run-{audit.run_id}-*.warc.gz"))
    return sorted((p for p in paths if p and p.is_file()), key=lambda p: p.name)


def write_warc(audit, out_dir: Path | str) -> tuple[list[Path], Path | None, list[str]]:
    """Copy the run's WARC files to DIR/warc/ and index them in DIR/warc/index.cdxj.

    Returns (copied files, index path or None, missing file names)."""
    out = Path(out_dir) / "warc"
    out.mkdir(parents=True, exist_ok=True)
    files = run_warc_files(audit)
    referenced = {row["warc_file"] for row in audit.fetches.values() if row.get("warc_file")}
    missing = sorted(n for n in referenced if not (p := warc_path(audit.warc_dir, n)) or not p.is_file())
    copied = []
    for src in files:
        dst = out / src.name
        shutil.copyfile(src, dst)
        copied.append(dst)
    if not copied:
        return [], None, missing
    index = out / "index.cdxj"
    tmp = out / "index.cdxj.tmp"
    write_cdx_index(str(tmp), [str(p) for p in copied], {"sort": True})
    tmp.replace(index)
    return copied, index, missing
