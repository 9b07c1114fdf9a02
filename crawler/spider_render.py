"""The crawl's side of crawler.render: a request the investigation wants rendered is answered by the same
renderer as on the spot-check (in a worker thread), so both paths read the same DOM and record the same
requests; a render that fails is final (ERR_RENDER: the investigation then judges the page as fetched)."""

from __future__ import annotations

import asyncio

from scrapy.http import HtmlResponse

from crawler.render import render


class RenderMiddleware:
    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        from crawler.spider import Refused

        want = request.meta.get("want")
        if want is None or not want.render:
            return None
        options = self.crawler.settings["PORTAL_EVIDENCE_OPTIONS"]
        fetch = await asyncio.to_thread(render, want.url, request.meta.get("scope"), options, need=want.render_need)
        if fetch.error:
            raise Refused(fetch.error, fetch.error_detail)
        request.meta["rendered_fetch"] = fetch
        return HtmlResponse(url=fetch.final_url, status=fetch.status or 200, body=fetch.body, encoding="utf-8",
                            headers={"Content-Type": fetch.headers.get("content-type", "text/html")},
                            request=request)
