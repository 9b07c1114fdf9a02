"""Answers a firewall gives in place of the page: a 403 to a client that is not a browser, a captcha, an
"access denied" page, a challenge that needs script. Pure (a Fetch in, a detail or None out).

Such an answer says nothing of what the agency published, so its verdict is `review/blocked`, never a
`fail`: a reviewer opens the page in a browser. The detail keeps the status and a bounded excerpt of what
the server answered (the WARC keeps the whole answer). The User-Agent stays the tool's own: nothing here
tries to pass for a browser.
"""

from __future__ import annotations

import html
import re

from crawler.records import Fetch

SCAN_BYTES = 64 * 1024        # markers are looked for in the answer's first 64 KiB
EXCERPT_CHARS = 200           # of the answer's visible text, in the detail
SHORT_TEXT = 400              # visible characters: a script challenge shows next to nothing
BLOCK_PAGE_TEXT = 1500        # visible characters: a 2xx page longer than this is a page, whatever its widgets

FORBIDDEN = 403               # what firewalls answer a client they do not take for a browser

_CAPTCHA = re.compile(
    r"g-recaptcha|grecaptcha|google\.com/recaptcha|h-captcha|hcaptcha\.com|cf-turnstile|"
    r"challenges\.cloudflare\.com/turnstile|\bcaptcha\b|not a robot|không phải (?:là )?(?:người máy|robot)",
    re.IGNORECASE)
_DENIED = re.compile(
    r"access denied|request rejected|requested url was rejected|you have been blocked|"
    r"your request has been blocked|attention required!? \| cloudflare|web application firewall|"
    r"incapsula incident id|sucuri website firewall|truy cập bị từ chối|từ chối truy cập|"
    r"đã bị chặn|bị chặn truy cập",
    re.IGNORECASE)
_CHALLENGE = re.compile(
    r"just a moment\.\.\.|checking your browser|cf_chl_opt|cf-browser-verification|_incapsula_resource|"
    r"enable javascript and cookies to continue|this site requires javascript to work|slowaes\.decrypt|"
    r"__jsl_clearance|ddos protection by|vui lòng bật javascript",
    re.IGNORECASE)
# a page that sets a cookie by script and loads itself again: a challenge, whatever its wording
_COOKIE_SET = re.compile(r"document\.cookie\s*=", re.IGNORECASE)
_RELOAD = re.compile(r"location\.(?:reload|replace|href)|location\s*=", re.IGNORECASE)

_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def visible_text(body: bytes) -> str:
    """The answer's text without markup or scripts, spaces collapsed (its first SCAN_BYTES read)."""
    text = body[:SCAN_BYTES].decode("utf-8", errors="replace")
    text = html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", text)))
    return _SPACE.sub(" ", _CONTROL.sub(" ", text)).strip()


def block_kind(fetch: Fetch) -> str | None:
    """What kind of block the answer is ("captcha", "access denied", "script challenge", "forbidden"), or None."""
    if fetch.error is not None or fetch.status is None:
        return None
    if (fetch.headers.get("cf-mitigated") or "").lower() == "challenge":     # Cloudflare says so itself
        return "script challenge"
    head = fetch.body[:SCAN_BYTES].decode("utf-8", errors="replace")
    if 200 <= fetch.status < 300 and len(visible_text(fetch.body)) > BLOCK_PAGE_TEXT:
        return None             # a portal page with a captcha in its comment box or poll is that page
    if _CHALLENGE.search(head):
        return "script challenge"
    if _CAPTCHA.search(head):
        return "captcha"
    if _DENIED.search(head):
        return "access denied"
    if _COOKIE_SET.search(head) and _RELOAD.search(head) and len(visible_text(fetch.body)) < SHORT_TEXT:
        return "script challenge"
    if fetch.status == FORBIDDEN:
        return "forbidden"
    return None


def blocked_detail(fetch: Fetch, kind: str) -> str:
    """The verdict's detail of a blocked answer: status, kind, and what the server answered (bounded)."""
    excerpt = visible_text(fetch.body)[:EXCERPT_CHARS] or "(no text)"
    return f"blocked: HTTP {fetch.status}, {kind}; the server answered: “{excerpt}”"
