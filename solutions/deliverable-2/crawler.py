"""Deliverable 2: threaded web crawler with rate limiting, retries and proper synchronisation
(reference solution). Libraries: `requests` for HTTP; the standard library's `html.parser` for HTML.
The API is the starter's docstring.

Design: the thread that calls crawl() coordinates: it alone reads and writes the seen set and the
results, submitting fetches to a ThreadPoolExecutor and, as each completes, submitting the page's new
same-host links. A worker owns one URL from its first attempt to its final answer: it waits for the
site's RateLimiter before EVERY attempt (retries are requests too), retries 5xx answers and transport
errors after exponential backoff, and parses the final page. The counters of stats() change under a
lock. No lock is ever held while sleeping or during a request.
"""
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import requests


class RateLimiter:
    """At most `rate` wait() calls return in any `per` seconds (sliding window). Thread-safe."""

    def __init__(self, rate, per):
        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self._rate = rate
        self._per = per
        self._lock = threading.Lock()
        self._starts = deque()

    def wait(self):
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= self._per:
                    self._starts.popleft()
                if len(self._starts) < self._rate:
                    self._starts.append(now)
                    return
                delay = self._starts[0] + self._per - now
            time.sleep(delay)      # never while holding the lock


@dataclass
class Page:
    url: str
    status: int | None = None
    links: list = field(default_factory=list)
    attempts: int = 0
    error: str | None = None


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value is not None:
                    self.hrefs.append(value)
                    break


def extract_links(base_url, html):
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    seen, out = set(), []
    for href in parser.hrefs:
        url, _fragment = urldefrag(urljoin(base_url, href.strip()))
        if urlsplit(url).scheme in ("http", "https") and url not in seen:
            seen.add(url)
            out.append(url)
    return out


def _host(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class Crawler:
    def __init__(self, max_workers=4, rate=5, per=1.0, retries=3, backoff=0.1, timeout=2.0, site_of=None):
        self.max_workers = max_workers
        self.rate = rate
        self.per = per
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.site_of = site_of or (lambda url: urlsplit(url).netloc)
        self._lock = threading.Lock()          # guards the limiters dict and the counters
        self._limiters = {}
        self._stats = {"requests": 0, "retries": 0, "pages": 0, "failed": 0}

    def _limiter(self, site):
        with self._lock:                       # one limiter per site, even when two threads ask at once
            lim = self._limiters.get(site)
            if lim is None:
                lim = self._limiters[site] = RateLimiter(self.rate, self.per)
            return lim

    def _count(self, **deltas):
        with self._lock:
            for k, d in deltas.items():
                self._stats[k] += d

    def stats(self):
        with self._lock:
            return dict(self._stats)

    def _fetch(self, url):
        limiter = self._limiter(self.site_of(url))
        attempts = 0
        while True:
            limiter.wait()
            attempts += 1
            self._count(requests=1)
            resp, error = None, None
            try:
                resp = requests.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                error = "%s: %s" % (type(exc).__name__, exc)
            transient = resp is None or resp.status_code >= 500
            if not transient or attempts > self.retries:
                break
            self._count(retries=1)
            time.sleep(self.backoff * 2 ** (attempts - 1))
        if resp is None:
            return Page(url, None, [], attempts, error)
        links = []
        if resp.status_code == 200 and "html" in resp.headers.get("content-type", ""):
            links = extract_links(url, resp.text)
        return Page(url, resp.status_code, links, attempts)

    def crawl(self, start_url):
        home = _host(start_url)
        pages = {}
        seen = {start_url}
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            pending = {pool.submit(self._fetch, start_url)}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    page = fut.result()
                    pages[page.url] = page
                    self._count(pages=1, failed=int(page.status is None or page.status >= 500))
                    for link in page.links:
                        if link not in seen and _host(link) == home:
                            seen.add(link)
                            pending.add(pool.submit(self._fetch, link))
        return pages
