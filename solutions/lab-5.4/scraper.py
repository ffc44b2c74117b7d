"""Lab 5.4: an asynchronous web scraper with rate limiting.

Crawl a small web site from one start page with aiohttp: follow its links, fetch each page once, never
more than `rate` requests in any `per` seconds and never more than `max_concurrent` in flight, and stop
cleanly, leaving nothing running, when the crawl is cancelled. The grader relies on exactly this API:

class RateLimiter(rate, per=1.0)
    At most `rate` acquisitions in ANY interval of `per` seconds (a sliding window, not per calendar
    second), shared by every coroutine that holds the limiter. ValueError if rate < 1 or per <= 0.
    async acquire() -> None
        Waits until one more acquisition fits, records it and returns. Waits with
        `await asyncio.sleep(...)`, never time.sleep. Any number of coroutines may wait at once.
    (A token bucket that starts full lets 2 * rate through in the first `per` seconds: it does not meet
    this definition. Keeping the times of the last `rate` acquisitions does, and so does spacing
    acquisitions `per / rate` seconds apart.)

class Page
    What the crawl found at one URL. Attributes (a dataclass is fine):
      url      the URL fetched (absolute, without fragment)
      status   the HTTP status (int) when a response arrived, else None (timeout, connection failure)
      links    for a 200 response: the links of the page, else []. The links are the `href` of every
               <a> tag that has one, resolved against the page's URL with urllib.parse.urljoin, the
               fragment removed (urllib.parse.urldefrag), in document order, duplicates dropped (the
               first kept). Every link, on this site or not. (html.parser.HTMLParser finds them.)

async def scrape(start_url, rate, per=1.0, max_concurrent=4, max_pages=100, request_timeout=5.0)
        -> dict[str, Page]
    Crawls from start_url and returns {url: Page} for every URL it fetched.
      - Fetches start_url, then every link of a fetched 200 page that is on the same site as start_url
        (same scheme, host and port: urllib.parse.urlsplit(url)[:2]); other links are recorded in
        Page.links and never fetched.
      - Each URL is fetched at most once; at most max_pages URLs in all (start_url counts), and exactly
        max_pages when the site has more.
      - Every request, failing ones included, first waits for ONE RateLimiter(rate, per) shared by the
        whole crawl: the server never sees more than `rate` requests start in any `per` seconds.
      - At most `max_concurrent` requests in flight at once, and up to that many while there are enough
        known pages to fetch.
      - ONE aiohttp.ClientSession for the crawl, closed before scrape() returns or raises.
      - A request that takes longer than request_timeout (body included), or fails to connect, gives
        Page(url, None, []); a status other than 200 gives Page(url, status, []). The crawl goes on.
      - Never block the event loop (no requests, urllib or time.sleep in a coroutine).
      - Cancellation: when the task running scrape() is cancelled, scrape() stops at once: no new
        request starts, the session is closed, every task it started has finished (cancel them and
        await them), and CancelledError propagates to the canceller. Never swallow CancelledError
        (no bare `except:` or `except BaseException:` that does not re-raise).
    The grader awaits scrape() on its own event loop (do not call asyncio.run inside).
"""
import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import aiohttp


class RateLimiter:
    def __init__(self, rate, per=1.0):
        if rate < 1:
            raise ValueError("rate must be at least 1, not %r" % (rate,))
        if per <= 0:
            raise ValueError("per must be positive, not %r" % (per,))
        self.rate = rate
        self.per = per
        self._times = deque()        # monotonic times of the acquisitions still inside the window
        self._lock = asyncio.Lock()  # one waiter at a time checks and sleeps: FIFO among waiters

    async def acquire(self):
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._times and now - self._times[0] >= self.per:
                    self._times.popleft()
                if len(self._times) < self.rate:
                    self._times.append(now)
                    return
                await asyncio.sleep(self.per - (now - self._times[0]))


@dataclass
class Page:
    url: str
    status: int | None
    links: list = field(default_factory=list)


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value is not None:
                    self.hrefs.append(value)


def extract_links(page_url, html):
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    links, seen = [], set()
    for href in parser.hrefs:
        url = urldefrag(urljoin(page_url, href.strip())).url
        if url and url not in seen:
            seen.add(url)
            links.append(url)
    return links


def _site(url):
    return urlsplit(url)[:2]


async def scrape(start_url, rate, per=1.0, max_concurrent=4, max_pages=100, request_timeout=5.0):
    if max_concurrent < 1 or max_pages < 1:
        raise ValueError("max_concurrent and max_pages must be at least 1")
    start_url = urldefrag(start_url).url
    site = _site(start_url)
    limiter = RateLimiter(rate, per)
    pages = {}
    seen = {start_url}
    todo = asyncio.Queue()
    todo.put_nowait(start_url)

    async def fetch(session, url):
        await limiter.acquire()
        try:
            async with asyncio.timeout(request_timeout):
                async with session.get(url) as response:
                    if response.status != 200:
                        return Page(url, response.status, [])
                    return Page(url, 200, extract_links(url, await response.text()))
        except (TimeoutError, aiohttp.ClientError):
            return Page(url, None, [])

    async def worker(session):
        while True:
            url = await todo.get()
            try:
                page = pages[url] = await fetch(session, url)
                for link in page.links:
                    if len(seen) >= max_pages:
                        break
                    if link not in seen and _site(link) == site:
                        seen.add(link)
                        todo.put_nowait(link)
            finally:
                todo.task_done()

    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session)) for _ in range(max_concurrent)]
        try:
            await todo.join()
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    return pages
