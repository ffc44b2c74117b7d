"""Deliverable 2: threaded web crawler with rate limiting, retries and proper synchronisation.

It builds on lab 2.3's scraper and adds what a crawler meets on a real network: answers that fail
(500s, connection resets, servers that never answer, bodies that trickle in).

Libraries: `requests` for HTTP; for HTML the standard library's `html.parser.HTMLParser` (the
reference uses it) or `beautifulsoup4` (`from bs4 import BeautifulSoup`), both installed;
`concurrent.futures.ThreadPoolExecutor` for the workers. The grader runs your code against its own
local web server, which injects the failures, and relies on exactly this API:

class RateLimiter(rate: int, per: float)
    A sliding-window rate limiter, safe to share between threads. ValueError if rate < 1 or per <= 0.
    wait() -> None
        Blocks until a request may start, then records it: returns at once while fewer than `rate`
        wait() calls returned in the last `per` seconds, else as soon as the oldest of those is `per`
        seconds old. Read the time with time.monotonic() and sleep with time.sleep() (the grader
        replaces both with a virtual clock to test it), and never sleep while holding a lock.

class Page (a dataclass, given below: keep its fields)
    url       str: the absolute URL (its key in crawl()'s result)
    status    int | None: the status of the FINAL answer (after retries); None if the last attempt
              got no answer (reset, timeout, broken body)
    links     list[str]: extract_links() of the page when the final status is 200 and the
              Content-Type contains "html"; [] otherwise
    attempts  int: requests made for this URL (1 + the retries)
    error     str | None: when status is None, the last error (e.g. "ConnectionError: ..."), else None

extract_links(base_url: str, html: str) -> list[str]
    As in lab 2.3: every <a href> (no other tag), urljoin(base_url, href.strip()), fragment removed
    (urldefrag), http and https only, each URL once, in order of first appearance.

class Crawler(max_workers=4, rate=5, per=1.0, retries=3, backoff=0.1, timeout=2.0, site_of=None)
    crawl(start_url: str) -> dict[str, Page]
        As lab 2.3's crawl(): fetch start_url, then every link on the same host (scheme and
        host:port) not fetched yet, until none is left; returns {url: Page} for every URL fetched
        (and only those). Links of other hosts are listed, never fetched. Each URL is fetched (with
        its retries) by one worker only, however many pages link to it, even at the same moment.
        - At most max_workers requests in flight (a ThreadPoolExecutor(max_workers)).
        - Rate limit: one RateLimiter(rate, per) per site, site_of(url) naming the site (default:
          urlsplit(url).netloc; the grader names sites by the first path segment). EVERY request
          waits on its site's limiter first - a retry is a request too.
        - Every request has timeout=timeout seconds (requests.get(url, timeout=...)).
        - Retries: an attempt fails when it raises requests.RequestException (connection refused or
          reset, timeout, body cut off) or answers 500-599. A failed attempt is retried up to
          `retries` times (so at most 1 + retries requests per URL); before retry k (k = 1, 2, ...)
          the worker sleeps backoff * 2 ** (k - 1) seconds, holding no lock (jitter that lengthens
          the sleep by up to 50% is allowed). Other answers (200, 3xx, 404 and every other 4xx) are
          final at once. A failure is recorded in the Page, never raised: the crawl goes on.
        - Each Crawler is used for one crawl() (the grader makes a new one each time).
    stats() -> dict
        Counters since the Crawler was made, exact even while workers update them:
          "requests": HTTP requests made (every attempt), "retries": attempts after the first,
          "pages": Pages in the result, "failed": Pages whose final status is None or >= 500.
"""
import threading  # noqa: F401  (you will need these)
import time  # noqa: F401
from collections import deque  # noqa: F401
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait  # noqa: F401
from dataclasses import dataclass, field
from html.parser import HTMLParser  # noqa: F401
from urllib.parse import urldefrag, urljoin, urlsplit  # noqa: F401

import requests  # noqa: F401


class RateLimiter:
    def __init__(self, rate, per):
        # TODO: validate; a lock and a deque of recent start times
        raise NotImplementedError("RateLimiter")

    def wait(self):
        # TODO: under the lock, drop start times older than `per`; if fewer than `rate` remain, record
        #       now and return; else compute how long until the oldest expires, release the lock, sleep
        #       that long and try again.
        raise NotImplementedError("RateLimiter.wait")


@dataclass
class Page:
    url: str
    status: int | None = None
    links: list = field(default_factory=list)
    attempts: int = 0
    error: str | None = None


def extract_links(base_url, html):
    # TODO: as in lab 2.3
    raise NotImplementedError("extract_links")


class Crawler:
    def __init__(self, max_workers=4, rate=5, per=1.0, retries=3, backoff=0.1, timeout=2.0, site_of=None):
        # TODO: keep the settings; a lock for the shared state (limiters per site, counters)
        raise NotImplementedError("Crawler")

    def crawl(self, start_url):
        # TODO:
        #  1. fetch(url), run by the workers: for each attempt wait on the site's limiter, GET with the
        #     timeout, retry 5xx and RequestException with exponential backoff, count every request;
        #     return the Page.
        #  2. the coordinator (this thread): submit start_url; as fetches complete, record each Page and
        #     submit its same-host links that were never submitted before.
        raise NotImplementedError("Crawler.crawl")

    def stats(self):
        # TODO: a consistent copy of the counters, read under the lock
        raise NotImplementedError("Crawler.stats")
