"""Listings filled in by script: when the need shows, the page is rendered in headless Chromium (Debian's
package) and its DOM read by the same extraction core. One renderer serves both paths (Playwright's sync API,
in the caller's thread: the spot-check's own, a worker thread of the crawl's), so both read the same DOM.

The need (`render_need`) is detected on a listing page fetched plainly that shows its category but no post:
an empty list container, a framework bootstrapping the page, or a JSON endpoint in its scripts. Rendering is
off otherwise (RunOptions.render "auto"; "off" never renders; "always" renders every first listing page).

The browser stays inside the same bounds as a fetch: the agency's portal only (every request it makes is
routed here first; anything off the portal, and images, fonts, media and style sheets, is refused), the host
name mapped to the address the policy checked (Chromium resolves nothing else) or sent to the proxy, the
run's User-Agent, at most RENDER_MAX_REQUESTS requests, the DOM within the download bound, the whole render
within the exchange's time. The Fetch it returns holds the rendered DOM as its body, says so in its header
note, and lists the requests the page made (`rendered`) for the evidence.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
from dataclasses import replace
from urllib.parse import urlsplit

from crawler import transport as T
from crawler.proxy import proxy_for
from crawler.records import ERR_RENDER, ERR_TOO_LARGE, Fetch
from crawler.settings import RunOptions
from crawler.urls import Scope

CHROMIUM = "/usr/bin/chromium"
RENDER_MAX_REQUESTS = 40
RENDER_SETTLE_MS = 1500                  # after load, how long the page may go on fetching its posts
_REFUSED_TYPES = frozenset({"image", "media", "font", "stylesheet", "websocket", "eventsource", "manifest"})
RENDER_NOTE = "rendered by headless Chromium: the body is the page's DOM after its scripts ran"

# what a page that loads its posts by script shows before they come
_EMPTY_CONTAINER = re.compile(
    r"<(?:ul|ol|div|section|tbody)\b[^>]*(?:id|class)=[\"'][^\"']*(?:list|news|posts?|items?|articles?|"
    r"results?|app|root)[^\"']*[\"'][^>]*>\s*</(?:ul|ol|div|section|tbody)>", re.IGNORECASE)
_FRAMEWORK = re.compile(
    r"\bng-app\b|\bdata-v-app\b|\bv-cloak\b|\bx-data=|id=[\"']__next[\"']|__NEXT_DATA__|__NUXT__|"
    r"\bdata-reactroot\b|(?:react|vue|angular|alpine)(?:\.production)?(?:\.min)?\.js", re.IGNORECASE)
_ENDPOINT = re.compile(
    r"(?:fetch|axios\.(?:get|post)|\$\.(?:get|getJSON|ajax|post)|\.open)\s*\(\s*[\"'`][^\"'`]*"
    r"(?:/api/|\.json|json|/ajax|/services?/)", re.IGNORECASE)


def render_need(body: bytes) -> str | None:
    """Why a listing page with no post seems to load them by script (its words for the evidence), or None."""
    text = body[:512 * 1024].decode("utf-8", errors="replace")
    found = []
    if _EMPTY_CONTAINER.search(text):
        found.append("an empty list container")
    if _FRAMEWORK.search(text):
        found.append("a script framework bootstrapping the page")
    endpoint = _ENDPOINT.search(text)
    if endpoint:
        found.append("a JSON endpoint in its scripts")
    return ", ".join(found) or None


def render(url: str, scope: Scope | None, options: RunOptions, *, need: str = "",
           deadline: T.Deadline | None = None) -> Fetch:
    """The page at url as headless Chromium renders it, within the run's bounds (see the module's docstring)."""
    limits = options.limits
    fetched_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    within = deadline
    made: list[str] = []

    def failed(error: str, detail: str) -> Fetch:
        return T.failed_fetch(url, url, error, f"rendering in headless Chromium: {detail}", fetched_at=fetched_at,
                              elapsed=time.monotonic() - started)

    parts = urlsplit(url)
    host, port = (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
    proxy = proxy_for(url)
    args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability", "--no-pings",
            "--disable-client-side-phishing-detection", "--disable-breakpad"]
    names = [host] if host.startswith("www.") else [host, f"www.{host}"]
    if proxy is not None:
        # the portal's names go to the proxy; any other name, the browser's own update and sign-in calls
        # included, goes nowhere (no resolution below)
        test = " || ".join(f'host == "{n}"' for n in names)
        pac = (f'function FindProxyForURL(url, host) {{ if ({test}) return "PROXY {_proxy_hostport(proxy)}"; '
               'return "DIRECT"; }')
        args.append("--proxy-pac-url=data:application/x-ns-proxy-autoconfig;base64,"
                    + base64.b64encode(pac.encode("ascii")).decode("ascii"))
        args.append(f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {urlsplit(_with_scheme(proxy)).hostname}")
    else:
        try:
            addresses = T.checked_addresses(host, port, allow_private=options.allow_private)
        except (T.AddressRefused, T.ResolveFailed) as exc:
            return failed(ERR_RENDER, exc.detail)
        _family, addr = addresses[0]
        mapped = f"[{addr}]" if ":" in addr else addr
        # Chromium resolves the portal's name to the checked address, and no other name at all
        args.append(f"--host-resolver-rules=MAP {host} {mapped}, MAP * ~NOTFOUND")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    def route(r):
        request = r.request
        if len(made) >= RENDER_MAX_REQUESTS or request.resource_type in _REFUSED_TYPES \
                or not request.url.startswith(("http://", "https://")) \
                or (scope is not None and not scope.owns(request.url)):
            made.append(f"{request.method} {request.url} (refused)")
            r.abort()
            return
        made.append(f"{request.method} {request.url}")
        r.continue_()

    deadline = T.Deadline.after(limits.exchange_seconds, within=within)

    def ms(bound: float | None) -> float:
        return max(1.0, (deadline.bound(bound) or bound or 1.0) * 1000)

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args,
                                         timeout=max(1.0, (within.bound(30.0) if within else 30.0) * 1000))
            # the page's own bound starts once the browser is up: the exchange's time, as a fetch's
            deadline = T.Deadline.after(limits.exchange_seconds, within=within)
            try:
                context = browser.new_context(user_agent=options.user_agent, ignore_https_errors=True,
                                              service_workers="block", accept_downloads=False,
                                              extra_http_headers={"Accept-Language": T.ACCEPT_LANGUAGE})
                context.route("**/*", route)
                page = context.new_page()
                response = page.goto(url, wait_until="load", timeout=ms(limits.exchange_seconds))
                try:
                    page.wait_for_load_state("networkidle", timeout=ms(RENDER_SETTLE_MS / 1000))
                except PlaywrightTimeout:
                    pass                    # still fetching: what came is what is read
                dom = page.content().encode("utf-8")
                status = response.status if response is not None else 200
                final = page.url
            finally:
                browser.close()
    except PlaywrightTimeout:
        return failed(ERR_RENDER, f"no complete page within {limits.exchange_seconds:.0f} s")
    except PlaywrightError as exc:
        return failed(ERR_RENDER, str(exc).splitlines()[0][:300])
    if len(dom) > limits.max_bytes:
        return failed(ERR_TOO_LARGE, f"rendered page larger than {limits.max_bytes} bytes")
    if scope is not None and not scope.owns(final):
        return failed(ERR_RENDER, f"the page moved off the portal to {final}")
    headers = {"content-type": "text/html; charset=utf-8"}
    fetch = T.response_fetch(url, final, status, headers, dom, fetched_at=fetched_at,
                             elapsed=time.monotonic() - started,
                             header_note=RENDER_NOTE, raw_headers=(("Content-Type", headers["content-type"]),))
    return replace(fetch, rendered=tuple(made), render_need=need)


def _with_scheme(proxy: str) -> str:
    return proxy if "://" in proxy else f"http://{proxy}"


def _proxy_hostport(proxy: str) -> str:
    parts = urlsplit(_with_scheme(proxy))
    return f"{parts.hostname}:{parts.port or 80}"
