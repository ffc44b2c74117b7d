"""Checks for lab-5.4: an asynchronous web scraper with rate limiting (aiohttp).

The student's API is the docstring of starter/lab-5.4/scraper.py: RateLimiter(rate, per) with acquire(),
Page(url, status, links) and scrape(start_url, rate, per, max_concurrent, max_pages, request_timeout).

Every page is a route of the grader's own HTTP server (ctx.http): a site generated per run from the run's
seed, whose pages link to each other in every form a page can (relative, root-relative, absolute, with a
fragment, twice), to pages that do not exist, to a page whose connection is reset, to one that never
answers, and off the site. The check knows the answer: which pages a crawl reaches and each page's links.
The rate, the concurrency bound and what happens after a cancellation are measured from the server's
side. Every call of the student's code goes through ctx.run_async, so a blocking call in a coroutine, a
never-awaited coroutine, an unretrieved task exception or a task left pending fails the item with the
student's line.

Standard library only.
"""
import asyncio
import time
from urllib.parse import urldefrag, urljoin, urlsplit

# A step of a coroutine that runs longer than this without yielding is a blocking call (run_async's
# slow_ms). Above run_async's default of 100 ms: on a loaded machine a debug-mode step that starts a
# dozen tasks has taken over 100 ms. A time.sleep-based limiter blocks for `per` (0.3 s in `limiter`).
SLOW_MS = 200

HINT_LIMITER = ("keep the monotonic times of the last `rate` acquisitions (a deque); a caller may go when the "
                "oldest is at least `per` old, else it sleeps until then and checks again; an asyncio.Lock around "
                "the check makes concurrent callers queue up")
HINT_RATE = ("every request must first `await limiter.acquire()` on ONE RateLimiter shared by the whole crawl; "
             "a per-worker sleep lets every worker go at once")
HINT_BOUND = ("run max_concurrent worker tasks that take URLs from an asyncio.Queue (or take an "
              "asyncio.Semaphore(max_concurrent) around each request), and keep that many busy")
HINT_CANCEL = ("in scrape(), cancel the worker tasks in a `finally:` and await them (asyncio.gather(..., "
               "return_exceptions=True)); let CancelledError propagate: never catch it (or BaseException) "
               "without re-raising")


def _module(ctx):
    mod = ctx.student("scraper")
    for name in ("RateLimiter", "Page", "scrape"):
        ctx.expect(hasattr(mod, name), "scraper.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return mod


# -- the generated site -----------------------------------------------------------------------------------

class Site:
    """A site of n pages under /site/ (index.html links to the first `fanout`, each other page has a parent
    among the earlier ones, plus `extra` random links), with its routes and the crawl's known answer."""

    def __init__(self, ctx, n, fanout, extra, latency_ms, missing=0, broken=0, held=0, hold_ms=3000,
                 offsite=True):
        rng = ctx.rng
        self.base = ctx.http.base
        self.start_path = "/site/index.html"
        self.paths = [self.start_path] + ["/site/p%d-%03x.html" % (i, rng.getrandbits(12)) for i in range(1, n)]
        targets = {p: [] for p in self.paths}           # page -> paths it links to (on the site)
        for i in range(1, n):
            parent = 0 if i <= fanout else rng.randrange(1, i)
            targets[self.paths[parent]].append(self.paths[i])
        for p in self.paths:
            for _ in range(extra):
                targets[p].append(rng.choice(self.paths))
        self.failing = {}                                # path -> "missing" | "broken" | "held"
        for kind, count in (("missing", missing), ("broken", broken), ("held", held)):
            for k in range(count):
                path = "/site/%s-%d.html" % (kind, k)
                self.failing[path] = kind
                targets[rng.choice(self.paths)].append(path)
        self.hrefs = {}                                  # page -> hrefs in document order
        self.routes = []
        for i, p in enumerate(self.paths):
            hrefs = [self._href(rng, p, t) for t in targets[p]]
            if targets[p] and rng.random() < 0.5:        # the same page twice, once with a fragment
                t = rng.choice(targets[p])
                hrefs.insert(rng.randrange(len(hrefs) + 1), self._href(rng, p, t, fragment=True))
            if offsite and rng.random() < 0.6:
                hrefs.insert(rng.randrange(len(hrefs) + 1), "http://localhost:1/elsewhere-%d.html" % i)
            self.hrefs[p] = hrefs
            self.routes.append({"path": p, "body": _html(rng, i, hrefs), "latency_ms": latency_ms})
        for path, kind in self.failing.items():
            if kind == "missing":
                self.routes.append({"path": path, "status": 404, "body": "not found", "latency_ms": latency_ms})
            elif kind == "broken":
                self.routes.append({"path": path, "fail": {"with": "reset"}})
            else:
                self.routes.append({"path": path, "fail": {"with": "timeout", "slow_ms": hold_ms}})

    def _href(self, rng, page, target, fragment=False):
        name = target.rsplit("/", 1)[1]
        form = rng.randrange(4)
        if form == 0:
            href = name
        elif form == 1:
            href = "./" + name
        elif form == 2:
            href = target
        else:
            href = self.base + target
        return href + ("#part-%d" % rng.randrange(1, 4) if fragment or rng.random() < 0.15 else "")

    def url(self, path):
        return self.base + path

    @property
    def start_url(self):
        return self.url(self.start_path)

    def links(self, path):
        """The expected Page.links of a 200 page."""
        out, seen = [], set()
        page_url = self.url(path)
        for href in self.hrefs[path]:
            u = urldefrag(urljoin(page_url, href)).url
            if u not in seen:
                seen.add(u)
                out.append(u)
        return out

    def expected(self):
        """{url: (status or None, links)} for every page a full crawl fetches (breadth-first)."""
        site = urlsplit(self.base)[:2]
        want = {}
        frontier = [self.start_url]
        seen = {self.start_url}
        while frontier:
            nxt = []
            for url in frontier:
                path = urlsplit(url).path
                kind = self.failing.get(path)
                if kind == "missing":
                    want[url] = (404, [])
                    continue
                if kind is not None:
                    want[url] = (None, [])
                    continue
                links = self.links(path)
                want[url] = (200, links)
                for link in links:
                    if link not in seen and urlsplit(link)[:2] == site:
                        seen.add(link)
                        nxt.append(link)
            frontier = nxt
        return want


def _html(rng, i, hrefs):
    items = []
    for k, href in enumerate(hrefs):
        attrs = 'href="%s"' % href if rng.random() < 0.7 else 'class="nav" href="%s" title="link %d"' % (href, k)
        items.append('    <li><a %s>link %d</a> and some text</li>' % (attrs, k))
    return ('<!DOCTYPE html>\n<html><head><title>Page %d</title></head>\n<body>\n<h1><a id="top"></a>Page %d</h1>\n'
            '<p>Welcome to page %d.</p>\n<ul>\n%s\n</ul>\n</body></html>\n' % (i, i, i, "\n".join(items)))


# -- running the student's code -----------------------------------------------------------------------------

def _scrape(ctx, mod, site, timeout, allow=(), **kw):
    """scrape(site.start_url, **kw) on a watched loop: (pages, wall seconds)."""
    box = {}

    async def main():
        t0 = time.monotonic()
        box["pages"] = await mod.scrape(site.start_url, **kw)
        box["wall"] = time.monotonic() - t0

    ctx.run_async(main, timeout=timeout, slow_ms=ctx.params.get("slow_ms", SLOW_MS), allow=allow)
    pages = box["pages"]
    ctx.expect(isinstance(pages, dict), "scrape() returned %s, not a dict {url: Page}" % type(pages).__name__,
               hint="return the dict of pages fetched, keyed by URL")
    return pages, box["wall"]


def _page_fields(ctx, url, page):
    for name in ("url", "status", "links"):
        ctx.expect(hasattr(page, name), "the Page for %s has no attribute %r" % (url, name),
                   hint="return Page objects as the starter's docstring defines them")


def _check_pages(ctx, site, pages, want):
    """Every expected page with its status and links, nothing else."""
    got_keys, want_keys = set(pages), set(want)
    extra = sorted(got_keys - want_keys)
    if extra:
        offsite = [u for u in extra if urlsplit(u)[:2] != urlsplit(site.base)[:2]]
        if offsite:
            ctx.fail("scrape() fetched %s, which is not on the site of the start URL (%s)" % (offsite[0], site.base),
                     hint="follow only links whose urlsplit(link)[:2] (scheme, host:port) is the start URL's")
        ctx.fail("scrape() returned %d page(s) that no crawl reaches, e.g. %s" % (len(extra), extra[0]),
                 hint="follow only the links of pages that answered 200")
    missing = sorted(want_keys - got_keys)
    if missing:
        ctx.fail("scrape() did not return %d of the %d pages reachable from the start URL, e.g. %s"
                 % (len(missing), len(want), site_path(missing[0])),
                 hint="resolve every href with urljoin(page_url, href) and drop the fragment (urldefrag); "
                      "wait until every queued page is done before returning")
    for url in sorted(want):
        page = pages[url]
        _page_fields(ctx, url, page)
        status, links = want[url]
        path = site_path(url)
        ctx.expect(page.url == url, "the Page under key %s has url %r" % (path, page.url))
        if status is None:
            ctx.expect(page.status is None, "%s never answers properly (reset or held past request_timeout): its "
                       "Page should have status None, got %r" % (path, page.status),
                       hint="a timeout or a connection error gives Page(url, None, [])")
        else:
            ctx.expect(page.status == status, "the Page for %s has status %r, the server answered %d"
                       % (path, page.status, status))
        got_links = list(page.links) if page.links is not None else None
        if got_links != links:
            _links_differ(ctx, path, got_links, links)


def _links_differ(ctx, path, got, want):
    if not want:
        ctx.fail("the Page for %s should have no links (it did not answer 200), got %r" % (path, got[:3]))
    if got is None:
        ctx.fail("the Page for %s has links None" % path)
    if set(got) == set(want):
        if len(got) != len(want):
            ctx.fail("the links of %s contain duplicates: %d links, %d distinct" % (path, len(got), len(set(got))),
                     hint="keep the first occurrence of each link (after dropping the fragment)")
        ctx.fail("the links of %s are not in document order" % path, hint="keep them in the order of the page")
    lost = [u for u in want if u not in got]
    odd = [u for u in got if u not in want]
    ctx.fail("the links of %s differ from the page's: %s%s" % (
        path, ("missing %s" % lost[0]) if lost else "", (("; unexpected %r" % odd[0]) if odd else "")),
        hint="every <a href>, resolved with urljoin(page_url, href), fragment dropped (urldefrag), on this site "
             "or not")


def _where(findings):
    return "; ".join("%s at %s:%d in %s" % (f.get("name") or f.get("message", "task"), f["file"], f["line"],
                                            f["function"]) if f.get("file") else (f.get("name") or f.get("message"))
                     for f in findings[:2])


def site_path(url):
    return urlsplit(url).path or url


def _fetched_once(ctx, site, reqs):
    counts = {}
    for r in reqs:
        counts[r["path"]] = counts.get(r["path"], 0) + 1
    for path, n in sorted(counts.items()):
        if site.failing.get(path) == "broken":
            continue  # aiohttp itself retries a reset on a reused connection once
        ctx.expect(n == 1, "the server saw %d requests for %s: each page must be fetched once" % (n, path),
                   hint="mark a URL as seen when you queue it, before any await, not when you fetch it")


def _window_violation(times, window, limit):
    """(count, first time) of the most events within any `window` (half-open), if over `limit`."""
    times = sorted(times)
    j = 0
    best = (0, None)
    for i, t in enumerate(times):
        while t - times[j] >= window:
            j += 1
        if i - j + 1 > best[0]:
            best = (i - j + 1, times[j])
    return best if best[0] > limit else None


# -- items ------------------------------------------------------------------------------------------------

def _limiter_part(ctx, mod, p):
    """RateLimiter alone: concurrent callers never exceed `rate` in any `per`, and are not held back more."""
    for bad in ((0, 1.0), (3, 0)):
        try:
            mod.RateLimiter(*bad)
        except ValueError:
            pass
        else:
            ctx.fail("RateLimiter%r did not raise ValueError" % (bad,), hint="validate rate >= 1 and per > 0")
    rate, per, n = p["rate"], p["per"], p["callers"]
    box = {}

    async def main():
        lim = mod.RateLimiter(rate, per)
        times = []

        async def caller():
            await lim.acquire()
            times.append(time.monotonic())

        t0 = time.monotonic()
        await asyncio.gather(*(caller() for _ in range(n)))
        box["times"] = [t - t0 for t in times]

    ctx.run_async(main, timeout=p["timeout"], slow_ms=p["slow_ms"])
    times = box["times"]
    window = per * p["window_factor"]
    bad = _window_violation(times, window, rate)
    if bad:
        ctx.fail("RateLimiter(%d, %.2f): %d concurrent callers; %d acquisitions returned within %.0f ms (from %.3f s "
                 "after the start): at most %d may return in any %.2f s"
                 % (rate, per, n, bad[0], window * 1000, bad[1], rate, per), hint=HINT_LIMITER)
    last = max(times)
    most = (n / rate) * per + p["slack_s"]
    ctx.expect(last <= most, "RateLimiter(%d, %.2f): %d concurrent callers took %.2f s to all get through; the rate "
               "allows it in about %.2f s" % (rate, per, n, last, (n / rate - 1) * per),
               hint="sleep only as long as needed: until the oldest acquisition in the window is `per` old")


def scrape_correct(ctx):
    """A full crawl: every reachable page with its status and links, each fetched once, nothing off-site;
    then max_pages."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["pages"], p["fanout"], p["extra"], p["latency_ms"], missing=p["missing"],
                broken=p["broken"], held=p["held"], hold_ms=p["hold_ms"])
    ctx.http.configure(site.routes)
    want = site.expected()
    kw = dict(rate=p["rate"], per=p["per"], max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
              request_timeout=p["request_timeout"])
    # tasks left running or failing unawaited are judged after the pages, so that a crawl that returned too
    # early is named as such
    pages, _ = _scrape(ctx, mod, site, p["timeout"], allow=("pending", "unretrieved"), **kw)
    found = ctx.last_async
    if set(pages) != set(want) and (found.pending or found.unretrieved):
        why = []
        if found.pending:
            why.append("%d of its task(s) were still running (%s)" % (len(found.pending), _where(found.pending)))
        if found.unretrieved:
            why.append("%d task(s) failed with nobody awaiting them (%s)" % (len(found.unretrieved),
                                                                           _where(found.unretrieved)))
        ctx.fail("scrape() returned %d of the %d reachable pages while %s: it returned before the crawl was done"
                 % (len(set(pages) & set(want)), len(want), " and ".join(why)),
                 hint="await every task you create: workers on an asyncio.Queue with queue.join(), or gather the "
                      "tasks of each level of the crawl before starting the next; a list that grows after "
                      "gather() was called is not awaited")
    found = ctx.last_async.first_failure(set())
    if found:
        ctx.fail(found[0], found[1])
    _check_pages(ctx, site, pages, want)
    _fetched_once(ctx, site, ctx.http.requests())

    # max_pages: exactly that many fetched, the start page among them
    ctx.http.configure(site.routes)
    small = p["small_max_pages"]
    kw["max_pages"] = small
    pages, _ = _scrape(ctx, mod, site, p["timeout"], **kw)
    # distinct pages: aiohttp itself retries a reset on a reused connection once (see _fetched_once)
    reqs = sorted({r["path"] for r in ctx.http.requests()})
    ctx.expect(len(reqs) == small, "scrape(max_pages=%d) on a site of %d reachable pages requested %d pages"
               % (small, len(want), len(reqs)),
               hint="count a URL against max_pages when you queue it; queue no more once max_pages are queued")
    ctx.expect(len(pages) == small and site.start_url in pages,
               "scrape(max_pages=%d) returned %d page(s)%s" % (small, len(pages), "" if site.start_url in pages
                                                               else ", without the start page"))
    for url, page in pages.items():
        ctx.expect(url in want, "scrape(max_pages=%d) returned %s, which is not reachable" % (small, url))


def rate_held(ctx):
    """RateLimiter alone (on the loop's clock), then a crawl: server-side, never more than `rate` requests
    start in any window of (nearly) `per` seconds."""
    mod = _module(ctx)
    p = ctx.params
    _limiter_part(ctx, mod, p["limiter"])
    site = Site(ctx, p["pages"], p["fanout"], p["extra"], p["latency_ms"])
    ctx.http.configure(site.routes)
    rate, per = p["rate"], p["per"]
    pages, _ = _scrape(ctx, mod, site, p["timeout"], rate=rate, per=per, max_concurrent=p["max_concurrent"],
                       max_pages=p["max_pages"], request_timeout=p["request_timeout"])
    want = site.expected()
    ctx.expect(set(pages) == set(want), "scrape() returned %d pages, %d are reachable" % (len(pages), len(want)))
    reqs = ctx.http.requests()
    window = per * 1000 * p["window_factor"]
    count, _, first = ctx.http.max_in_window(window, reqs)
    ctx.expect(count <= rate, "rate=%d per=%.2f s: the server saw %d requests start within %.0f ms (from %.0f ms "
               "after the first): at most %d may start in any %.2f s" % (rate, per, count, window, first, rate, per),
               hint=HINT_RATE)


def concurrency_bound(ctx):
    """Server-side: never more than max_concurrent requests in flight, and that many at the peak."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["pages"], p["fanout"], p["extra"], p["latency_ms"])
    ctx.http.configure(site.routes)
    limit = p["max_concurrent"]
    pages, _ = _scrape(ctx, mod, site, p["timeout"], rate=p["rate"], per=p["per"], max_concurrent=limit,
                       max_pages=p["max_pages"], request_timeout=p["request_timeout"])
    want = site.expected()
    ctx.expect(set(pages) == set(want), "scrape() returned %d pages, %d are reachable" % (len(pages), len(want)))
    peak = ctx.http.max_concurrent()
    ctx.expect(peak <= limit, "max_concurrent=%d: the server saw %d requests in flight at once" % (limit, peak),
               hint=HINT_BOUND)
    ctx.expect(peak >= limit, "max_concurrent=%d, %d pages, the start page linking to %d: the server never saw more "
               "than %d request(s) in flight at once" % (limit, len(want), p["fanout"], peak), hint=HINT_BOUND)


def cancellation(ctx):
    """Cancel the task running scrape() mid-crawl: it ends with CancelledError at once, nothing keeps running,
    no request starts afterwards, the session is closed."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["pages"], p["fanout"], p["extra"], p["latency_ms"])
    ctx.http.configure(site.routes)
    box = {}

    async def main():
        task = asyncio.create_task(mod.scrape(site.start_url, rate=p["rate"], per=p["per"],
                                              max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
                                              request_timeout=p["request_timeout"]), name="scrape")
        await asyncio.sleep(p["cancel_after_s"])
        if task.done():
            box["early"] = True
            task.result()  # an exception of the student's code is reported with its line
            return
        task.cancel()
        t0 = time.monotonic()
        done, _ = await asyncio.wait({task}, timeout=p["grace_s"])
        box["took"] = time.monotonic() - t0
        if not done:
            box["stuck"] = True
        elif task.cancelled():
            box["outcome"] = "cancelled"
        elif task.exception() is not None:
            exc = task.exception()
            box["outcome"] = "raised %s: %s" % (type(exc).__name__, exc)
        else:
            box["outcome"] = "returned %d pages" % len(task.result() or {})
        await asyncio.sleep(0.05)
        me = asyncio.current_task()
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        box["left"], box["names"] = len(left), _names(ctx, left)
        seen = await asyncio.to_thread(ctx.http.requests)
        await asyncio.sleep(p["quiet_s"])
        box["after"] = len(await asyncio.to_thread(ctx.http.requests)) - len(seen)

    ctx.run_async(main, timeout=p["timeout"], slow_ms=SLOW_MS, allow=("pending",))
    ctx.expect(not box.get("early"), "scrape() finished within %.2f s, before the check could cancel it"
               % p["cancel_after_s"], hint="is the rate limiter applied?")
    if box.get("stuck"):
        ctx.fail("scrape() was still running %.1f s after its task was cancelled: %d task(s) still running: %s"
                 % (p["grace_s"], box["left"], box["names"]), hint=HINT_CANCEL)
    ctx.expect(box["outcome"] == "cancelled", "after task.cancel() the task running scrape() %s instead of ending "
               "with CancelledError: the cancellation was swallowed" % box["outcome"], hint=HINT_CANCEL)
    ctx.expect(not box["left"], "scrape() ended after being cancelled, but %d task(s) it started were still running: "
               "%s" % (box["left"], box["names"]), hint=HINT_CANCEL)
    ctx.expect(box["after"] == 0, "%d request(s) reached the server after the cancelled scrape() had ended"
               % box["after"], hint=HINT_CANCEL)
    found = ctx.last_async.first_failure(set())
    if found:
        ctx.fail(found[0], found[1])


def _names(ctx, tasks):
    import grade_async
    infos = [grade_async.task_info(t, ctx.root + "/") for t in tasks[:3]]
    return "; ".join("%s at %s:%d in %s%s" % (i["name"], i["file"], i["line"], i["function"],
                                              " waiting in " + i["waiting_for"] if i["waiting_for"] else "")
                     for i in infos) or "-"


def speed(ctx):
    """A rate-bound crawl finishes in about the time the rate allows (the allowance is used)."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["pages"], p["fanout"], p["extra"], p["latency_ms"])
    ctx.http.configure(site.routes)
    rate, per = p["rate"], p["per"]
    pages, wall = _scrape(ctx, mod, site, p["timeout"], rate=rate, per=per, max_concurrent=p["max_concurrent"],
                          max_pages=p["max_pages"], request_timeout=p["request_timeout"])
    want = site.expected()
    ctx.expect(set(pages) == set(want), "scrape() returned %d pages, %d are reachable" % (len(pages), len(want)))
    n = len(want)
    by_rate = (n - 1) / rate * per
    by_bound = n * (sum(p["latency_ms"]) / 2000.0) / p["max_concurrent"]
    best = max(by_rate, by_bound)
    bound = best * p["factor"] + p["slack_s"]
    ctx.expect(wall <= bound, "%d pages at rate=%d per %.2f s with max_concurrent=%d took %.2f s; the rate allows "
               "about %.2f s (limit %.2f s)" % (n, rate, per, p["max_concurrent"], wall, best, bound),
               hint="fetch max_concurrent pages at once, each waiting only for the shared limiter; do not sleep "
                    "after each request")
