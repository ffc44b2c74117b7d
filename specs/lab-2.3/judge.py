"""Judgements for lab-2.3: web scraper with a thread pool (the workloads are in checks.py). Runs outside the
submission's process: the random sites are planned here from the run's seed (grade_lib_site), the expected
crawl is computed here, and every verdict comes from what the workload recorded: crawl()'s result and the
fixture server's own request log (what was fetched, how often, how many at once, how fast per site)."""
from urllib.parse import urlsplit

from grade_lib_site import BASE, HEAD_WITH_SCRIPT, ODD_LINKS_SPREAD, PORT, Site, make_hub_site, make_site
from grade_lib_site import expect_page_set, short_urls
from grade_lib_urls import base as _base, max_in_window as _max_in_window, server_log
from grade_lib_urls import shown as _shown, url_key as _key
from grade_oracles import max_in_flight

HINT_SEEN = ("mark a URL as seen when you SUBMIT it, not when its fetch finishes, and let one thread "
             "(or one lock) decide 'not seen yet -> mark it -> submit' in one step")
HINT_SCOPE = "follow only links whose scheme and host:port are those of start_url"
HINT_RATE = ("before each request, wait on a per-site limiter: at most `rate` requests may start in any "
             "`per` seconds for one site_of(url); keep the start times of the last `rate` requests per site")
HINT_POOL = ("fetch with a ThreadPoolExecutor(max_workers=max_workers) and submit each new URL to it; "
             "do not start a thread per URL")

LINKS_BASE = "http://example.test/docs/guide/index.html"
LINKS_WANT = [
    "http://example.test/docs/guide/intro.html",
    "http://example.test/docs/api/ref.html",
    "http://example.test/about.html",
    "https://other.example/x?q=1",
    "http://example.test/docs/guide/chapter%202.html",
    "http://example.test/docs/guide/index.html",
    "http://cdn.example/lib.js",
]


# ---------------------------------------------------------------------------------------------
# plans

def _site_plan(j, star=False):
    p = j.params
    site = make_site(j.rng, BASE, PORT, sites=p["sites"], per_site=p["per_site"], extra=p["extra"],
                     errors=p["errors"], broken=p["broken"], latency=p["latency_ms"], star=star,
                     retries=None, orphans=2, odd_links=ODD_LINKS_SPREAD, head=HEAD_WITH_SCRIPT)
    return {"site": site.plan()}


def plan_site_exact(j):
    return _site_plan(j)


def plan_politeness(j):
    return _site_plan(j, star=True)


# ---------------------------------------------------------------------------------------------
# helpers

def _requests(j, key="requests"):
    """The fixture server's log as recorded: [(path, start_ms, end_ms or None)]."""
    return server_log(j, key, str_paths=True)


def _max_concurrent(reqs):
    """The most requests in flight at once (arrival to answer), as the server saw them."""
    return max_in_flight((start, end) for _, start, end in reqs)


def _result(j, key="result"):
    """crawl()'s result as recorded: {url: page}, page a dict with its status and links when it had them."""
    got = j.obs[key]
    j.expect("pages" in got, "crawl() returned %s, not a dict {url: Page}" % got.get("type"))
    pages = got["pages"]
    j.expect(isinstance(pages, list) and all(isinstance(pg, dict) and "url" in pg for pg in pages),
             "the run recorded crawl()'s result in an unexpected shape")
    return {_key(pg["url"]): pg for pg in pages}


def _expect_pages(j, result, site, what):
    """The crawl's result equals the expected one: the same URLs, statuses and links."""
    want = site.expected()
    base = site.base
    expect_page_set(j, result, want, base, what, HINT_SCOPE,
                    hint_set="start at start_url, follow every http(s) <a href> of each 200 HTML page on the same "
                             "host (resolved with urljoin, fragment removed), and record every URL fetched, also "
                             "404s and 500s")
    for url in sorted(want):
        status, links = want[url]
        page = result[url]
        got_status = page.get("status", "?")
        j.expect(got_status == status,
                 "%s: %s should have status %s, the Page says %r" % (what, url[len(base):], status, got_status),
                 hint="record resp.status_code for every answer, 404 and 500 included")
        got_links = page.get("links", {"repr": "None"})
        j.expect("list" in got_links, "%s: Page(%s).links is %s, not a list"
                 % (what, url[len(base):], _shown(got_links)))
        got_links = {_key(u) for u in got_links["list"]}
        if got_links != set(links):
            miss, more = set(links) - got_links, got_links - set(links)
            j.fail("%s: the links of %s are wrong: missing %s; not expected %s"
                   % (what, url[len(base):], short_urls(miss, base) or "none", short_urls(more, base) or "none"),
                   hint="links are the <a href> of a 200 HTML page only, resolved against the page's URL, "
                        "fragment removed, http(s) only; [] for every other page")


def _expect_server_saw(j, site, reqs, what):
    """From the server's log: nothing off-site, no orphan, nothing that is not a link."""
    off = sorted({path for path, _, _ in reqs if path.startswith("/elsewhere/")})
    j.expect(not off, "%s: the crawler fetched %s, reachable only through a link to another host "
             "(http://localhost:PORT/...): it must follow same-host links only" % (what, ", ".join(off)),
             hint=HINT_SCOPE)
    orphan = sorted({path for path, _, _ in reqs if path in site.orphans})
    j.expect(not orphan, "%s: the crawler fetched %s, which no page links to" % (what, ", ".join(orphan)))
    assets = sorted({path for path, _, _ in reqs if path in ("/s0/style.css", "/s0/app.js")})
    j.expect(not assets, "%s: the crawler fetched %s, which only a <link>/<script> tag names: follow "
             "<a href> links only" % (what, ", ".join(assets)))


def _expect_once(j, reqs, what):
    """From the server's log: no URL fetched more than once."""
    counts = {}
    for path, _, _ in reqs:
        counts[path] = counts.get(path, 0) + 1
    twice = sorted((p for p, n in counts.items() if n > 1), key=lambda p: -counts[p])
    j.expect(not twice, "%s: %d URL(s) were fetched more than once (the server saw %s): every URL must be "
             "fetched at most once" % (what, len(twice), ", ".join("%s %d times" % (p, counts[p])
                                                                 for p in twice[:4])),
             hint=HINT_SEEN)


def _expect_fetched(j, reqs, site, what):
    """From the server's log: every page of the crawl was fetched (its status came from an answer)."""
    fetched = {path for path, _, _ in reqs}
    unfetched = sorted(urlsplit(u).path for u in site.expected() if urlsplit(u).path not in fetched)
    j.expect(not unfetched, "%s: the result has pages the server never saw a request for: %s"
             % (what, ", ".join(unfetched[:4])), hint="fetch every page the crawl reaches, once")


# ---------------------------------------------------------------------------------------------
# completion_quality

def _links_unit(j):
    got = j.obs["links"]
    j.expect("list" in got, "extract_links() returned %s, not a list" % got.get("type"))
    got = got["list"]
    missing = [u for u in LINKS_WANT if u not in got]
    extra = [u for u in got if u not in LINKS_WANT]
    j.expect(not missing and not extra, "extract_links(%r, page) is wrong: missing %s; not expected %s"
             % (LINKS_BASE, missing or "none", extra or "none"),
             hint="every <a href> only, urljoin(base_url, href.strip()), urldefrag, keep http/https")
    j.expect(len(got) == len({_key(u) for u in got}), "extract_links() returned duplicates: %r" % got,
             hint="each URL once, at its first appearance")
    j.expect_eq(got, LINKS_WANT, "extract_links() order (document order, each URL once)")
    none = j.obs["links_none"]
    if none.get("list") != []:
        j.fail("extract_links() of a page without links: expected [], got %s" % _shown(none))


def site_exact(j):
    _links_unit(j)
    site = Site.load(j.inputs["site"], _base(j))
    result = _result(j)
    reqs = _requests(j)
    _expect_server_saw(j, site, reqs, "site crawl")
    _expect_pages(j, result, site, "site crawl")
    _expect_fetched(j, reqs, site, "site crawl")


def fetch_once(j):
    p = j.params
    base = _base(j)
    for trial in range(p["trials"]):
        site = make_hub_site(base, p["hubs"], p["leaves"], latency=p["latency_ms"])
        result = _result(j, "result_%d" % trial)
        reqs = _requests(j, "requests_%d" % trial)
        _expect_once(j, reqs, "start -> %d pages -> the same %d pages (latency %s ms)"
                     % (p["hubs"], p["leaves"], p["latency_ms"]))
        _expect_pages(j, result, site, "hub site")
        _expect_fetched(j, reqs, site, "hub site")


def politeness(j):
    p = j.params
    rate, per = p["rate"], p["per"]
    site = Site.load(j.inputs["site"], _base(j))
    result = _result(j)
    reqs = _requests(j)
    took = j.number("took")
    window = per * 1000 * p["slack"]
    n, key, at = _max_in_window(reqs, window)
    j.expect(n <= rate, "politeness: %d requests to site /%s/ started within %.0f ms (at %.0f ms after the "
             "start, server's clock); the limit is %d per %.0f ms per site (%d workers, %d requests in all, "
             "crawl took %.2f s)" % (n, key, window, at, rate, per * 1000, p["workers"], len(reqs), took),
             hint=HINT_RATE)
    _expect_pages(j, result, site, "rate-limited crawl")
    _expect_fetched(j, reqs, site, "rate-limited crawl")


def pool_bounded(j):
    p = j.params
    w = p["workers"]
    site = make_hub_site(_base(j), p["hubs"], p["leaves"], latency=p["latency_ms"])
    result = _result(j)
    reqs = _requests(j)
    threads = j.obs["threads"]
    j.expect(isinstance(threads, list), "the run recorded crawl()'s threads in an unexpected shape")
    most = _max_concurrent(reqs)
    j.expect(most <= w, "max_workers=%d, but the server had %d requests in flight at once" % (w, most),
             hint=HINT_POOL)
    j.expect(len(threads) <= w + 1, "max_workers=%d, but crawl() started %d threads (%s)"
             % (w, len(threads), ", ".join(sorted(str(t) for t in threads)[:6])), hint=HINT_POOL)
    j.expect(most >= 2, "max_workers=%d, but the server never had two requests in flight at once: the "
             "pages were fetched one at a time" % w, hint=HINT_POOL)
    _expect_pages(j, result, site, "hub site")
    _expect_fetched(j, reqs, site, "hub site")


# ---------------------------------------------------------------------------------------------
# problem_solving

def visited_race(j):
    p = j.params
    site = make_hub_site(_base(j), p["hubs"], p["leaves"], latency=0)
    result = _result(j)
    reqs = _requests(j)
    _expect_once(j, reqs, "%d workers, %d pages each listing the same %d links, forced thread switches"
                 % (p["workers"], p["hubs"], p["leaves"]))
    _expect_pages(j, result, site, "hub site")
    _expect_fetched(j, reqs, site, "hub site")
