"""The run's WARC files copied beside the report, with a CDXJ index (cdxj-indexer); and reading one record back.

The index is what `cdxj-indexer -s -p` prints over the copied files: sorted, and post-append, so
each ASP.NET postback page (a POST to the same URL with another form body) gets its own key.

Only the files the run's fetch rows point at are the run's: a folder may also hold the files of
a deleted database's run of the same number. A damaged file (a torn gzip member after a
`kill -9`, a corrupted copy) is copied as it is and indexed up to the damage, which is named.
"""

from __future__ import annotations

import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

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


# What a damaged WARC file raises while it is read (warcio, gzip, a truncated member).
READ_ERRORS = (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError, OSError, ValueError)


@dataclass(frozen=True)
class WarcExport:
    copied: list[Path]
    index: Path | None
    missing: list[str]                                   # files the run points at that are not there
    damaged: list[str] = field(default_factory=list)     # what is wrong with a file, one line each


def run_warc_files(audit) -> list[Path]:
    """The WARC files the run's fetch rows point at (the existing ones), in name order."""
    names = {row["warc_file"] for row in audit.fetches.values() if row.get("warc_file")}
    paths = {warc_path(audit.warc_dir, n) for n in names}
    return sorted((p for p in paths if p and p.is_file()), key=lambda p: p.name)


class _TolerantIndexer(CDXJIndexer):
    """cdxj-indexer's indexer, going on past a damaged file: its records up to the damage are indexed,
    and the damage is noted (file, offset of the record that could not be read, why)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.damaged: list[str] = []
        self._records = 0
        self._it = None

    def _create_record_iter(self, input_):
        self._it = super()._create_record_iter(input_)
        return self._it

    def process_index_entry(self, it, record, filename, output):
        super().process_index_entry(it, record, filename, output)
        self._records += 1

    def process_one(self, input_, output, filename):
        self._records = 0
        try:
            super().process_one(input_, output, filename)
        except READ_ERRORS as exc:
            where = getattr(self._it, "offset", None)    # where the last whole record ended
            at = f" at offset {where}" if where is not None else ""
            said = "".join(c if c.isprintable() and c.isascii() else "?" for c in str(exc))[:80]
            self.damaged.append(f"{Path(filename).name}: unreadable record{at} ({type(exc).__name__}: {said}); "
                                f"{self._records} record(s) before it indexed")


def gzip_damage(path: Path, chunk: int = 1 << 20) -> tuple[int, str] | None:
    """(offset of the first gzip member that does not decompress whole, why), or None for a sound file.

    Every record of our WARC files is a gzip member of its own. warcio reads past some damage,
    printing a message and going on, so its iterator alone cannot be trusted to notice: each member
    is decompressed here (its output dropped, a bounded piece at a time) with its checksum verified,
    and a member cut short (a torn file) counts."""
    member_start, in_member, decoder = 0, False, None
    position = 0                                  # the file offset of the next byte read
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            base, data = position, block          # base: the file offset of data[0]
            position += len(block)
            while data:
                if not in_member:
                    member_start, in_member = base, True
                    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
                try:
                    decoder.decompress(data, 1 << 16)
                    while decoder.unconsumed_tail and not decoder.eof:
                        decoder.decompress(decoder.unconsumed_tail, 1 << 16)
                except zlib.error as exc:
                    return member_start, f"zlib: {exc}"
                if not decoder.eof:
                    break
                rest = decoder.unused_data
                base += len(data) - len(rest)
                data, in_member = rest, False
    if in_member:
        return member_start, "the last record is cut short"
    return None


def write_warc(audit, out_dir: Path | str) -> WarcExport:
    """Copy the run's WARC files to DIR/warc/ and index them in DIR/warc/index.cdxj.

    A damaged file does not stop the export: it is copied, indexed up to the damage, and named in
    `damaged`. Raises OSError when the report folder cannot be written."""
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
        return WarcExport([], None, missing)
    index = out / "index.cdxj"
    tmp = out / "index.cdxj.tmp"
    try:
        # post-append, as `cdxj-indexer -s -p`: a form post (a WebForms page) is keyed by its body too
        indexer = _TolerantIndexer(str(tmp), [str(p) for p in copied], sort=True, post_append=True)
        indexer.process_all()
        tmp.replace(index)
    finally:
        tmp.unlink(missing_ok=True)
    damaged = list(indexer.damaged)
    for path in copied:
        if any(line.startswith(f"{path.name}:") for line in damaged):
            continue
        found = gzip_damage(path)
        if found is not None:
            damaged.append(f"{path.name}: unreadable record at offset {found[0]} ({found[1]}); "
                           f"the records before it indexed")
    return WarcExport(copied, index, missing, damaged)
