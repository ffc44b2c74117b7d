"""Lab 2.3: web scraper with a thread pool (reference solution).

Libraries: `requests` for HTTP and the standard library's `html.parser` for HTML (bs4, which the
starter also allows, parses the same links; this one starts faster). The API is the starter's docstring.

Design: the main thread is the only one that touches the crawl's bookkeeping (`seen`, `pages`): it
submits fetches to a ThreadPoolExecutor and, as each one completes, records the page and submits the
page's new same-host links. Workers only fetch and parse. So deciding "not seen yet" and marking it
seen is one step of one thread: no URL can be submitted twice. Politeness is a per-site sliding-window
limiter shared by the workers; it holds its lock only to read and update the window, never while it
sleeps or while a request is in flight.
"""
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import requests


@dataclass
class Page:
    url: str
    status: int | None = None
    links: list = field(default_factory=list)
    error: str | None = None


class _Anchors(HTMLParser):
    """Collects the href of every <a> tag, in document order."""

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
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        out.append(url)
    return out


class SiteRateLimiter:
    """At most `rate` acquire(site) calls return in any `per` seconds, for each site."""

    def __init__(self, rate, per):
        self._rate = rate
        self._per = per
        self._lock = threading.Lock()
        self._starts = {}          # site -> deque of the start times inside the current window

    def acquire(self, site):
        while True:
            with self._lock:
                now = time.monotonic()
                window = self._starts.setdefault(site, deque())
                while window and now - window[0] >= self._per:
                    window.popleft()
                if len(window) < self._rate:
                    window.append(now)
                    return
                delay = window[0] + self._per - now
            time.sleep(delay)      # outside the lock: other sites (and threads) go on


def _host(url):
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _fetch(url, limiter, site, timeout):
    limiter.acquire(site)
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return Page(url, None, [], "%s: %s" % (type(exc).__name__, exc))
    links = []
    if resp.status_code == 200 and "html" in resp.headers.get("content-type", ""):
        links = extract_links(url, resp.text)
    return Page(url, resp.status_code, links)


def crawl(start_url, max_workers=4, rate=5, per=1.0, site_of=None, timeout=5.0):
    site_of = site_of or (lambda url: urlsplit(url).netloc)
    home = _host(start_url)
    limiter = SiteRateLimiter(rate, per)
    pages = {}
    seen = {start_url}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        pending = {pool.submit(_fetch, start_url, limiter, site_of(start_url), timeout)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                page = fut.result()
                pages[page.url] = page
                for link in page.links:
                    if link not in seen and _host(link) == home:
                        seen.add(link)
                        pending.add(pool.submit(_fetch, link, limiter, site_of(link), timeout))
    return pages
