"""Judgements for lab-5.4 (the workloads are in checks.py). Runs outside the submission's process.

The site of every run is planned here (plan_<check>, from j.rng): its pages, each page's hrefs in document
order, and the pages that fail (404, reset, held). Hrefs that name the site absolutely are written with
SITE, a stand-in for the run's server: the workload serves them with the server's real address and records
every URL the student's code returned with that address written back as SITE, so the crawl's known answer
is computed here from the plan alone. Only the messages show the server's real address (the recorded
`base`), as the student's code saw it.

Standard library only.
"""
from urllib.parse import urldefrag, urljoin, urlsplit

from grade_oracles import max_in_flight

SITE = "http://site.invalid:8080"   # the run's server, as the plan and the recorded URLs name it
START_PATH = "/site/index.html"

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


# -- the planned site -------------------------------------------------------------------------------------

def _href(rng, target, fragment=False):
    name = target.rsplit("/", 1)[1]
    form = rng.randrange(4)
    if form == 0:
        href = name
    elif form == 1:
        href = "./" + name
    elif form == 2:
        href = target
    else:
        href = SITE + target
    return href + ("#part-%d" % rng.randrange(1, 4) if fragment or rng.random() < 0.15 else "")


def _plan_site(j, missing=0, broken=0, held=0, offsite=True):
    """A site of n pages under /site/ (index.html links to the first `fanout`, each other page has a parent
    among the earlier ones, plus `extra` random links), with links in every form a page can have them."""
    p, rng = j.params, j.rng
    n, fanout, extra = p["pages"], p["fanout"], p["extra"]
    paths = [START_PATH] + ["/site/p%d-%03x.html" % (i, rng.getrandbits(12)) for i in range(1, n)]
    targets = {path: [] for path in paths}              # page -> paths it links to (on the site)
    for i in range(1, n):
        parent = 0 if i <= fanout else rng.randrange(1, i)
        targets[paths[parent]].append(paths[i])
    for path in paths:
        for _ in range(extra):
            targets[path].append(rng.choice(paths))
    failing = {}                                        # path -> "missing" | "broken" | "held"
    for kind, count in (("missing", missing), ("broken", broken), ("held", held)):
        for k in range(count):
            path = "/site/%s-%d.html" % (kind, k)
            failing[path] = kind
            targets[rng.choice(paths)].append(path)
    hrefs = []                                          # per page, in the order of paths: hrefs in document order
    for i, path in enumerate(paths):
        page = [_href(rng, t) for t in targets[path]]
        if targets[path] and rng.random() < 0.5:        # the same page twice, once with a fragment
            t = rng.choice(targets[path])
            page.insert(rng.randrange(len(page) + 1), _href(rng, t, fragment=True))
        if offsite and rng.random() < 0.6:
            page.insert(rng.randrange(len(page) + 1), "http://localhost:1/elsewhere-%d.html" % i)
        hrefs.append(page)
    return {"base": SITE, "paths": paths, "hrefs": hrefs, "failing": failing}


class _Site:
    """The crawl's known answer, from the planned site."""

    def __init__(self, plan):
        self.base = plan["base"]
        self.paths = plan["paths"]
        self.hrefs = dict(zip(plan["paths"], plan["hrefs"]))
        self.failing = plan["failing"]
        self.start_url = self.base + START_PATH

    def url(self, path):
        return self.base + path

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


def _site_path(url):
    return urlsplit(url).path or url


# -- the recorded crawl -----------------------------------------------------------------------------------

def _pages(j, name):
    """{url: page record} of a recorded scrape() result; fails when it was not a dict."""
    rec = j.obs[name]
    if not rec["is_dict"]:
        j.fail("scrape() returned %s, not a dict {url: Page}" % rec["type"],
               hint="return the dict of pages fetched, keyed by URL")
    pages = {}
    for key, page in rec["pages"]:
        pages[key] = page
    j.expect(len(pages) == len(rec["pages"]), "scrape() returned a dict whose keys repeat")
    return pages


def _keys(j, name):
    rec = j.obs[name]
    if not rec["is_dict"]:
        j.fail("scrape() returned %s, not a dict {url: Page}" % rec["type"],
               hint="return the dict of pages fetched, keyed by URL")
    return rec["keys"]


def _check_pages(j, site, pages, want):
    """Every expected page with its status and links, nothing else."""
    got_keys, want_keys = set(pages), set(want)
    extra = sorted(got_keys - want_keys)
    if extra:
        offsite = [u for u in extra if urlsplit(u)[:2] != urlsplit(site.base)[:2]]
        if offsite:
            j.fail("scrape() fetched %s, which is not on the site of the start URL (%s)" % (offsite[0], site.base),
                   hint="follow only links whose urlsplit(link)[:2] (scheme, host:port) is the start URL's")
        j.fail("scrape() returned %d page(s) that no crawl reaches, e.g. %s" % (len(extra), extra[0]),
               hint="follow only the links of pages that answered 200")
    missing = sorted(want_keys - got_keys)
    if missing:
        j.fail("scrape() did not return %d of the %d pages reachable from the start URL, e.g. %s"
               % (len(missing), len(want), _site_path(missing[0])),
               hint="resolve every href with urljoin(page_url, href) and drop the fragment (urldefrag); "
                    "wait until every queued page is done before returning")
    for url in sorted(want):
        page = pages[url]
        for name in ("url", "status", "links"):
            j.expect(name not in page["lacks"], "the Page for %s has no attribute %r" % (url, name),
                     hint="return Page objects as the starter's docstring defines them")
        status, links = want[url]
        path = _site_path(url)
        j.expect(page["url"] == url, "the Page under key %s has url %r" % (path, page["url"]))
        got_status = page["status"]
        if status is None:
            j.expect(got_status is None, "%s never answers properly (reset or held past request_timeout): its "
                     "Page should have status None, got %r" % (path, got_status),
                     hint="a timeout or a connection error gives Page(url, None, [])")
        else:
            j.expect(got_status == status, "the Page for %s has status %r, the server answered %d"
                     % (path, got_status, status))
        got_links = page["links"]
        if got_links != links:
            _links_differ(j, path, got_links, links)


def _links_differ(j, path, got, want):
    if not want:
        j.fail("the Page for %s should have no links (it did not answer 200), got %r"
               % (path, got[:3] if isinstance(got, list) else got))
    if got is None:
        j.fail("the Page for %s has links None" % path)
    if not isinstance(got, list):
        j.fail("the Page for %s has links %r, not a list of URLs" % (path, got))
    try:
        same = set(got) == set(want)
    except TypeError:
        same = False
    if same:
        if len(got) != len(want):
            j.fail("the links of %s contain duplicates: %d links, %d distinct" % (path, len(got), len(set(got))),
                   hint="keep the first occurrence of each link (after dropping the fragment)")
        j.fail("the links of %s are not in document order" % path, hint="keep them in the order of the page")
    lost = [u for u in want if u not in got]
    odd = [u for u in got if u not in want]
    j.fail("the links of %s differ from the page's: %s%s" % (
        path, ("missing %s" % lost[0]) if lost else "", (("; unexpected %r" % odd[0]) if odd else "")),
        hint="every <a href>, resolved with urljoin(page_url, href), fragment dropped (urldefrag), on this site "
             "or not")


def _fetched_once(j, site, paths):
    counts = {}
    for path in paths:
        counts[path] = counts.get(path, 0) + 1
    for path, n in sorted(counts.items()):
        if site.failing.get(path) == "broken":
            continue  # aiohttp itself retries a reset on a reused connection once
        j.expect(n == 1, "the server saw %d requests for %s: each page must be fetched once" % (n, path),
                 hint="mark a URL as seen when you queue it, before any await, not when you fetch it")


def _window_violation(times, window, limit):
    """(count, first time) of the most events within any `window` (half-open), if over `limit`."""
    times = sorted(times)
    k = 0
    best = (0, None)
    for i, t in enumerate(times):
        while t - times[k] >= window:
            k += 1
        if i - k + 1 > best[0]:
            best = (i - k + 1, times[k])
    return best if best[0] > limit else None


def _max_concurrent(spans):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight(spans)


def _all_reachable(j, name, want):
    keys = _keys(j, name)
    j.expect(set(keys) == set(want), "scrape() returned %d pages, %d are reachable" % (len(keys), len(want)))


def _real_addresses(judgement):
    """The judgement, its messages showing the run's server address (recorded as `base`) for SITE."""
    def judge(j):
        try:
            judgement(j)
        except j.Failed as exc:
            base = j.obs["base"]
            if not isinstance(base, str):
                raise
            exc.message = exc.message.replace(SITE, base)
            exc.hint = exc.hint.replace(SITE, base) if exc.hint else exc.hint
            raise
    judge.__name__ = judgement.__name__
    judge.__doc__ = judgement.__doc__
    return judge


# -- judgements -------------------------------------------------------------------------------------------

def plan_scrape_correct(j):
    p = j.params
    return _plan_site(j, missing=p["missing"], broken=p["broken"], held=p["held"])


@_real_addresses
def scrape_correct(j):
    p = j.params
    site = _Site(j.inputs)
    want = site.expected()
    pages = _pages(j, "pages")
    early = j.obs["early"]
    if set(pages) != set(want) and (early["pending"] or early["unretrieved"]):
        why = []
        if early["pending"]:
            why.append("%d of its task(s) were still running (%s)" % (early["pending"], early["pending_where"]))
        if early["unretrieved"]:
            why.append("%d task(s) failed with nobody awaiting them (%s)" % (early["unretrieved"],
                                                                           early["unretrieved_where"]))
        j.fail("scrape() returned %d of the %d reachable pages while %s: it returned before the crawl was done"
               % (len(set(pages) & set(want)), len(want), " and ".join(why)),
               hint="await every task you create: workers on an asyncio.Queue with queue.join(), or gather the "
                    "tasks of each level of the crawl before starting the next; a list that grows after "
                    "gather() was called is not awaited")
    found = j.obs["found"]
    if found:
        j.fail(found[0], found[1])
    _check_pages(j, site, pages, want)
    _fetched_once(j, site, j.obs["requested"])

    # max_pages: exactly that many fetched, the start page among them
    small = p["small_max_pages"]
    reqs = sorted(set(j.obs["small_requested"]))
    j.expect(len(reqs) == small, "scrape(max_pages=%d) on a site of %d reachable pages requested %d pages"
             % (small, len(want), len(reqs)),
             hint="count a URL against max_pages when you queue it; queue no more once max_pages are queued")
    keys = _keys(j, "small_pages")
    j.expect(len(keys) == small and site.start_url in keys,
             "scrape(max_pages=%d) returned %d page(s)%s" % (small, len(keys), "" if site.start_url in keys
                                                             else ", without the start page"))
    for url in keys:
        j.expect(url in want, "scrape(max_pages=%d) returned %s, which is not reachable" % (small, url))


def plan_rate_held(j):
    return _plan_site(j)


@_real_addresses
def rate_held(j):
    p = j.params
    lim = p["limiter"]
    for bad, got in zip(((0, 1.0), (3, 0)), j.obs["invalid"]):
        j.expect(got == "ValueError", "RateLimiter%r did not raise ValueError" % (bad,),
                 hint="validate rate >= 1 and per > 0")
    j.expect(len(j.obs["invalid"]) == 2, "the run recorded %d of the 2 invalid RateLimiters" % len(j.obs["invalid"]))
    rate, per, n = lim["rate"], lim["per"], lim["callers"]
    times = j.obs["limiter_times"]
    j.expect(len(times) == n, "RateLimiter(%d, %.2f): %d concurrent callers, %d got through"
             % (rate, per, n, len(times)),
             hint=HINT_LIMITER)
    window = per * lim["window_factor"]
    bad = _window_violation(times, window, rate)
    if bad:
        j.fail("RateLimiter(%d, %.2f): %d concurrent callers; %d acquisitions returned within %.0f ms (from %.3f s "
               "after the start): at most %d may return in any %.2f s"
               % (rate, per, n, bad[0], window * 1000, bad[1], rate, per), hint=HINT_LIMITER)
    last = max(times)
    most = (n / rate) * per + lim["slack_s"]
    j.expect(last <= most, "RateLimiter(%d, %.2f): %d concurrent callers took %.2f s to all get through; the rate "
             "allows it in about %.2f s" % (rate, per, n, last, (n / rate - 1) * per),
             hint="sleep only as long as needed: until the oldest acquisition in the window is `per` old")

    want = _Site(j.inputs).expected()
    _all_reachable(j, "pages", want)
    rate, per = p["rate"], p["per"]
    starts = j.obs["starts_ms"]
    j.expect(len(starts) >= len(want), "the server saw %d requests for %d pages" % (len(starts), len(want)))
    window = per * 1000 * p["window_factor"]
    bad = _window_violation(starts, window, rate)
    if bad:
        count, first = bad
        j.fail("rate=%d per=%.2f s: the server saw %d requests start within %.0f ms (from %.0f ms "
               "after the first): at most %d may start in any %.2f s" % (rate, per, count, window, first, rate, per),
               hint=HINT_RATE)


def plan_concurrency_bound(j):
    return _plan_site(j)


@_real_addresses
def concurrency_bound(j):
    p = j.params
    want = _Site(j.inputs).expected()
    _all_reachable(j, "pages", want)
    limit = p["max_concurrent"]
    spans = j.obs["spans_ms"]
    j.expect(len(spans) >= len(want), "the server saw %d requests for %d pages" % (len(spans), len(want)))
    peak = _max_concurrent(spans)
    j.expect(peak <= limit, "max_concurrent=%d: the server saw %d requests in flight at once" % (limit, peak),
             hint=HINT_BOUND)
    j.expect(peak >= limit, "max_concurrent=%d, %d pages, the start page linking to %d: the server never saw more "
             "than %d request(s) in flight at once" % (limit, len(want), p["fanout"], peak), hint=HINT_BOUND)


def plan_cancellation(j):
    return _plan_site(j)


def cancellation(j):
    p = j.params
    o = j.obs
    j.expect(not o["early"], "scrape() finished within %.2f s, before the check could cancel it"
             % p["cancel_after_s"], hint="is the rate limiter applied?")
    if o["stuck"]:
        j.fail("scrape() was still running %.1f s after its task was cancelled: %d task(s) still running: %s"
               % (p["grace_s"], o["left"], o["names"]), hint=HINT_CANCEL)
    j.expect(o["outcome"] == "cancelled", "after task.cancel() the task running scrape() %s instead of ending "
             "with CancelledError: the cancellation was swallowed" % o["outcome"], hint=HINT_CANCEL)
    j.expect(o["left"] == 0, "scrape() ended after being cancelled, but %d task(s) it started were still running: "
             "%s" % (o["left"], o["names"]), hint=HINT_CANCEL)
    j.expect(o["after"] == 0, "%d request(s) reached the server after the cancelled scrape() had ended"
             % o["after"], hint=HINT_CANCEL)
    if o["found"]:
        j.fail(o["found"][0], o["found"][1])


def plan_speed(j):
    return _plan_site(j)


@_real_addresses
def speed(j):
    p = j.params
    want = _Site(j.inputs).expected()
    _all_reachable(j, "pages", want)
    rate, per = p["rate"], p["per"]
    wall = j.number("wall")
    n = len(want)
    by_rate = (n - 1) / rate * per
    by_bound = n * (sum(p["latency_ms"]) / 2000.0) / p["max_concurrent"]
    best = max(by_rate, by_bound)
    bound = best * p["factor"] + p["slack_s"]
    j.expect(wall <= bound, "%d pages at rate=%d per %.2f s with max_concurrent=%d took %.2f s; the rate allows "
             "about %.2f s (limit %.2f s)" % (n, rate, per, p["max_concurrent"], wall, best, bound),
             hint="fetch max_concurrent pages at once, each waiting only for the shared limiter; do not sleep "
                  "after each request")
