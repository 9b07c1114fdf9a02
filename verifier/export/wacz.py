"""The run's evidence as one WACZ 1.1.1 file (evidence.wacz), which replay tools open as it is.

Inside the zip, entries in name order:
- archive/: the run's WARC files, stored (not deflated: a replay tool reads records at their offsets);
- indexes/index.cdx.gz and indexes/index.idx: the CDXJ index in gzip blocks with its block index
  (cdxj-indexer's compressed output, post-append, as py-wacz writes it);
- pages/pages.jsonl: one page per checked link (the URL fetched first for it, when, and the agency
  and criterion as its title);
- datapackage.json: every file with its sha256 and size, `wacz_version` 1.1.1, `created` from the
  run; datapackage-digest.json: the digest of datapackage.json.
The same run gives the same bytes: fixed zip times, sorted entries, nothing from the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from crawler import __version__
from crawler.records import PURPOSE_LISTING
from verifier.export.warc import _TolerantIndexer, run_warc_files, warc_path

WACZ_VERSION = "1.1.1"
INDEX_LINES = 1024                       # CDXJ lines per gzip block, as py-wacz and ArchiveWeb.page
ZIP_TIME = (1980, 1, 1, 0, 0, 0)         # the zip format's first moment: no clock in the file


@dataclass(frozen=True)
class WaczExport:
    path: Path | None
    missing: list[str]
    damaged: list[str] = field(default_factory=list)
    pages: int = 0


def pages_of(audit) -> list[dict]:
    """One page per checked link: its first listing fetch (else its first fetch), in verdict order."""
    agencies = {a.agency_id: a.agency_name for a in audit.data.agencies}
    out, seen = [], set()
    for v in audit.data.verdicts:
        if not v.pages:
            continue
        page = next((p for p in v.pages if p.purpose == PURPOSE_LISTING), v.pages[0])
        criterion = audit.rulebook.by_id.get(v.criterion)
        title = f"{agencies.get(v.agency_id, v.agency_id)} — {criterion.name if criterion else v.criterion}"
        key = (v.agency_id, v.criterion)
        if key in seen:
            continue
        seen.add(key)
        out.append({"id": f"{v.agency_id}/{v.criterion}", "url": page.url, "ts": _iso(page.fetched_at),
                    "title": title})
    return out


def write_wacz(audit, out_dir: Path | str) -> WaczExport:
    """Write DIR/evidence.wacz from the run's WARC files. Raises OSError when the folder cannot be written.
    A damaged WARC file is packed as it is and indexed up to the damage, which is named in `damaged`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = run_warc_files(audit)
    referenced = {row["warc_file"] for row in audit.fetches.values() if row.get("warc_file")}
    missing = sorted(n for n in referenced if not (p := warc_path(audit.warc_dir, n)) or not p.is_file())
    if not files:
        return WaczExport(None, missing)
    entries: dict[str, bytes | Path] = {f"archive/{p.name}": p for p in files}
    idx, blocks, damaged = _index(files)
    entries["indexes/index.cdx.gz"] = blocks
    entries["indexes/index.idx"] = idx
    pages = pages_of(audit)
    header = {"format": "json-pages-1.0", "id": "pages", "title": f"portal-evidence run {audit.run_id}"}
    entries["pages/pages.jsonl"] = "".join(json.dumps(line, ensure_ascii=False) + "\n"
                                           for line in [header, *pages]).encode("utf-8")
    package = _datapackage(audit, entries)
    entries["datapackage.json"] = package
    entries["datapackage-digest.json"] = json.dumps(
        {"path": "datapackage.json", "hash": _sha256(package)}, indent=2).encode("utf-8")
    path = out / "evidence.wacz"
    tmp = out / "evidence.wacz.tmp"
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in sorted(entries):
                _add(zf, name, entries[name])
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return WaczExport(path, missing, damaged, len(pages))


def _index(files: list[Path]) -> tuple[bytes, bytes, list[str]]:
    """(index.idx, index.cdx.gz, damage found) over the WARC files, by cdxj-indexer."""
    text, blocks = io.StringIO(), io.BytesIO()
    indexer = _TolerantIndexer(text, [str(p) for p in files], post_append=True, sort=True, compress=blocks,
                               lines=INDEX_LINES, data_out_name="index.cdx.gz")
    indexer.process_all()
    return text.getvalue().encode("utf-8"), blocks.getvalue(), indexer.damaged


def _datapackage(audit, entries: dict[str, bytes | Path]) -> bytes:
    resources = []
    for name in sorted(entries):
        digest, size = _digest(entries[name])
        resources.append({"name": Path(name).name.lower(), "path": name, "hash": digest, "bytes": size})
    run = audit.data.run
    package = {
        "profile": "data-package",
        "resources": resources,
        "title": f"portal-evidence run {audit.run_id}",
        "description": "evidence of the e-government website verification",
        "created": _iso_text(run.get("finished_at") or run.get("started_at")),
        "wacz_version": WACZ_VERSION,
        "software": f"portal-evidence/{__version__}",
    }
    return json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")


def _add(zf: zipfile.ZipFile, name: str, data: bytes | Path) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.create_system = 3                     # the same bytes on every OS
    info.external_attr = 0o644 << 16
    # WARCs and the gzip index are read at offsets by replay tools: stored, as the spec recommends
    info.compress_type = zipfile.ZIP_STORED if name.startswith(("archive/", "indexes/index.cdx")) \
        else zipfile.ZIP_DEFLATED
    if isinstance(data, Path):
        with data.open("rb") as src, zf.open(info, "w") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    else:
        zf.writestr(info, data)


def _digest(data: bytes | Path) -> tuple[str, int]:
    if not isinstance(data, Path):
        return _sha256(data), len(data)
    h, size = hashlib.sha256(), 0
    with data.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _iso(value) -> str:
    """A moment as WACZ writes it: UTC, 'YYYY-MM-DDTHH:MM:SSZ'."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_text(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return _iso(dt.datetime.fromisoformat(text))
    except ValueError:
        return text
