"""The extraction core's readings of every bench page set, frozen: a faster core must read the same.

Each page of the four sets (the bench farm's sample, the held-out fixtures, the demo portals and the lab's
recorded CMS pages) is read with `read_page` and `page_text`, and the whole reading (kind, title, category,
posts with their dates and date sources, pager and postback forms, feeds, article dates, nav links, encoding,
notes) is stored as one JSON line, with the page's text for content checks and the rulebook's content
checks found in it. tests/crawler/test_core_readings.py reads every page again and compares line by line.

    python -m tests.core_readings            # check: every reading equal to the stored one (exit 1 if not)
    python -m tests.core_readings --write    # store today's readings (only when a reading is meant to change)
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STORED = HERE / "fixtures" / "core_readings.jsonl.gz"   # one JSON line per page, gzipped


def page_sets() -> dict[str, list[tuple[str, bytes, dict, int]]]:
    """Every page set the bench times the core on, by name: (url, body, headers, status)."""
    from bench.run import core_sets

    return core_sets()


def _plain(value):
    """A reading as JSON-ready data: dataclasses as dicts, dates in ISO, bytes in base64."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _content_rules():
    from verifier.rulebook import load_rulebook

    rules = []
    for criterion in load_rulebook().criteria:
        rule = getattr(criterion, "content_rule", None)
        if rule is not None and rule.checks:
            rules.append((criterion.id, rule))
    return rules


def readings(sets: dict | None = None):
    """(set name, url, the reading as data) for every page, in a fixed order."""
    from crawler.content import find_content
    from crawler.extract import page_text, read_page
    from tests.crawler.fixture_eval import matcher

    rules = _content_rules()
    for name, pages in (sets or page_sets()).items():
        for url, body, headers, status in pages:
            reading = read_page(url, body, headers, matcher(), status=status)
            text = page_text(url, body, headers)
            content = {cid: [c.id for c in find_content(rule, text).found] for cid, rule in rules}
            yield name, url, {"reading": _plain(reading),
                              "text": {"main": _digest(text.main), "main_chars": len(text.main),
                                       "footer": _digest(text.footer), "footer_chars": len(text.footer)},
                              "content": content}


def line(name: str, url: str, data: dict) -> str:
    return json.dumps({"set": name, "url": url, **data}, ensure_ascii=False, sort_keys=True)


def stored() -> list[str]:
    return gzip.decompress(STORED.read_bytes()).decode("utf-8").splitlines()


def differences(limit: int = 10) -> list[str]:
    """What differs between today's readings and the stored ones, field by field, at most `limit` pages; pages
    are paired by their set and URL, so a page added to (or gone from) a set is named as such."""
    def keyed(lines):
        return {(d["set"], d["url"]): (ln, d) for ln in lines for d in (json.loads(ln),)}

    want, got = keyed(stored()), keyed(line(*r) for r in readings())
    out = [f"{s} {u}: not stored" for s, u in sorted(set(got) - set(want))]
    out += [f"{s} {u}: stored, not read" for s, u in sorted(set(want) - set(got))]
    for key in sorted(set(want) & set(got)):
        (w, wd), (g, gd) = want[key], got[key]
        if w == g:
            continue
        fields = [k for k in sorted(set(wd) | set(gd)) if wd.get(k) != gd.get(k)]
        sub = [f"reading.{k}" for k in sorted(set(wd.get("reading", {})) | set(gd.get("reading", {})))
               if wd.get("reading", {}).get(k) != gd.get("reading", {}).get(k)]
        out.append(f"{key[0]} {key[1]}: {', '.join(sub or fields)} differ")
    return out[:limit]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="store today's readings")
    args = ap.parse_args(argv)
    if args.write:
        lines = [line(*r) for r in readings()]
        STORED.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), 9, mtime=0))
        counts = {}
        for ln in lines:
            s = json.loads(ln)["set"]
            counts[s] = counts.get(s, 0) + 1
        print(f"{STORED}: {len(lines)} readings ({', '.join(f'{k} {v}' for k, v in counts.items())})")
        return 0
    diff = differences()
    for d in diff:
        print(d)
    print("every reading equal" if not diff else f"{len(diff)} difference(s) shown")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
