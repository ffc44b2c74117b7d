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
import asyncio  # noqa: F401  (you will need these)
import time  # noqa: F401
from collections import deque  # noqa: F401
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit  # noqa: F401

import aiohttp  # noqa: F401


class RateLimiter:
    def __init__(self, rate, per=1.0):
        # TODO: validate; keep the times of the recent acquisitions (a deque) and an asyncio.Lock.
        raise NotImplementedError("RateLimiter.__init__")

    async def acquire(self):
        # TODO: under the lock: drop the times older than `per`; if fewer than `rate` remain, record now
        # and return; else `await asyncio.sleep(...)` until the oldest is `per` old, and check again.
        raise NotImplementedError("RateLimiter.acquire")


@dataclass
class Page:
    url: str
    status: int | None
    links: list = field(default_factory=list)


class _Anchors(HTMLParser):
    """Collects the href of every <a> tag: _Anchors().feed(html), then .hrefs."""

    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value is not None:
                    self.hrefs.append(value)


def extract_links(page_url, html):
    # TODO: every href, resolved with urljoin(page_url, href), fragment dropped with urldefrag, in
    # document order, duplicates dropped (first kept).
    raise NotImplementedError("extract_links")


async def scrape(start_url, rate, per=1.0, max_concurrent=4, max_pages=100, request_timeout=5.0):
    # TODO: one RateLimiter and one aiohttp.ClientSession for the crawl; an asyncio.Queue of URLs to
    # fetch and a set of URLs seen (mark a URL seen when you queue it, and count it against max_pages);
    # max_concurrent worker tasks: take a URL, wait for the limiter, fetch it under
    # asyncio.timeout(request_timeout), record its Page, queue its new same-site links, task_done().
    # Wait for queue.join(); in a finally, cancel the workers and await them. Return {url: Page}.
    raise NotImplementedError("scrape")
