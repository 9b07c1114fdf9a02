"""What a running crawl shows: plain log lines for cron, a progress bar on a terminal."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from verifier.export.safe_text import SafeConsole, console_text


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Progress:
    """Plain log lines on stderr (cron); the CLI swaps in a rich progress bar on a terminal.

    Counts links done of total, pages fetched, errors, and the links still queued per host."""

    def __init__(self, total: int, done: int = 0, stream=None, every: int = 25):
        self.total = total                              # the run's links
        self.done = done                                # of them verified, those before a resume included
        self.before = done                              # verified before this process started (a resume)
        self._shown: int | None = None                  # `done` at the last line printed
        self.pages = 0
        self.errors = 0
        self.stream = stream
        self.every = every
        self.queue: Counter = Counter()                 # host -> links not finished
        self._host_of: dict[tuple[str, str], str] = {}

    def expect(self, key: tuple[str, str], host: str) -> None:
        """A link about to be crawled, on that host."""
        self._host_of[key] = host
        self.queue[host] += 1

    def queue_text(self, n: int = 3) -> str:
        busiest = [(h, k) for h, k in self.queue.most_common() if k > 0][:n]
        return ", ".join(f"{console_text(h)} {k}" for h, k in busiest)      # host names come from the reports

    def fetched(self, fetch) -> None:
        self.pages += 1
        if fetch.error or (fetch.status or 0) >= 400:
            self.errors += 1

    def link_done(self, verdict) -> None:
        self.done += 1
        host = self._host_of.pop((verdict.agency_id, verdict.criterion), None)
        if host is not None:
            self.queue[host] -= 1
        if self.stream is not None and (self.done % self.every == 0 or self.done == self.total):
            self._line()

    def _line(self) -> None:
        queued = self.queue_text()
        before = f" ({self.before} verified before the resume)" if self.before else ""
        print(f"{_stamp()} {self.done}/{self.total} links{before}, {self.pages} pages, {self.errors} errors"
              + (f"; queued: {queued}" if queued else ""), file=self.stream, flush=True)
        self._shown = self.done

    def close(self) -> None:
        """The closing line, where the last one printed is not the crawl's end (stopped, or nothing was left)."""
        if self.stream is not None and self._shown != self.done:
            self._line()


class TerminalProgress(Progress):
    """A rich progress bar: links done of total, pages fetched, errors, the busiest hosts' queues."""

    def __init__(self, total, done=0, stream=None):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        super().__init__(total, done=done)
        self.bar = Bar(TextColumn("links"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[info]}", markup=False),
                       TimeElapsedColumn(), console=SafeConsole(file=stream, stderr=stream is None), transient=False)
        self.task = self.bar.add_task("crawl", total=total, completed=done, info="")
        self.bar.start()

    def _show(self):
        queued = self.queue_text()
        self.bar.update(self.task, completed=self.done,
                        info=f"{self.pages} pages, {self.errors} errors" + (f" | queued: {queued}" if queued else ""))

    def fetched(self, fetch):
        super().fetched(fetch)
        self._show()

    def link_done(self, verdict):
        super().link_done(verdict)
        self._show()

    def close(self):
        self.bar.stop()
