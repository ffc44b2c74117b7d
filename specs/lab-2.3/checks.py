"""Workloads for lab-2.3: web scraper with a thread pool. Each records what the student's code did;
judge.py, which the submission never sees, plans the sites and gives the verdicts.

The student's API is the docstring of starter/lab-2.3/scraper.py: extract_links(base_url, html) and
crawl(start_url, max_workers, rate, per, site_of, timeout) -> {url: Page(url, status, links, error)}.

Every check crawls a small web site on the grader's fixture HTTP server (ctx.http.configure), built by
the check library's `grade_lib_site`: pages in "sites" /s0/, /s1/, ... that link to each other in every form
(relative, root-relative, absolute, with fragments), with cycles, broken links (404), failing pages
(500), a JSON page, pages no one links to, mailto: and javascript: links, and a link to another host
(`localhost` instead of `127.0.0.1`: the same server, so following it is seen). The random sites are
planned by the judge from the run's seed; the hub sites have no random part. The workloads record the
crawl as crawl() returned it and the server's own request log (what was fetched, how often, how many at
once and how fast per site); the judge computes the expected crawl with the standard library's
urljoin/urldefrag and compares.

Standard library only.
"""
import threading
import time
from urllib.parse import urlsplit

from grade_lib_site import HEAD_WITH_SCRIPT, ODD_LINKS_SPREAD, Site, make_hub_site, make_site, site_of as _site_of
from grade_lib_student import student_module
from grade_lib_urls import shape as _shape

CRAWL_WAIT = 8.0    # seconds a crawl may take before the check gives up


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    return student_module(ctx, "scraper", ("crawl", "extract_links", "Page"))


def _page(key, page):
    """One entry of crawl()'s result: its key, and the Page's status and links when it has them."""
    out = {"url": key}
    if hasattr(page, "status"):
        out["status"] = page.status
    if hasattr(page, "links"):
        links = page.links
        out["links"] = {"list": list(links)} if isinstance(links, (list, tuple)) else _shape(links)
    return out


def _crawl(ctx, mod, site, key="", **kwargs):
    """Serves `site`, crawls it and records the result (`result`) and the server's log (`requests`)."""
    ctx.http.configure(site.routes)
    kwargs.setdefault("site_of", _site_of)
    kwargs.setdefault("timeout", 3.0)
    t0 = time.monotonic()
    result = ctx.call_with_timeout(lambda: mod.crawl(site.start, **kwargs), CRAWL_WAIT, what="crawl()")
    took = time.monotonic() - t0
    reqs = ctx.http.requests()
    if isinstance(result, dict):
        ctx.observe("result" + key, {"pages": [_page(k, v) for k, v in result.items()]})
    else:
        ctx.observe("result" + key, _shape(result))
    ctx.observe("requests" + key, [[r["path"], r["start_ms"], r["end_ms"]] for r in reqs])
    return took


# ---------------------------------------------------------------------------------------------
# completion_quality

LINKS_BASE = "http://example.test/docs/guide/index.html"
LINKS_PAGE = """<!DOCTYPE html><html><head><link rel="stylesheet" href="/style.css">
    <script src="app.js"></script></head><body>
    <a href="intro.html">Intro</a> <A HREF="../api/ref.html#section-2">API</A>
    <a href="/about.html">About</a> <a href="https://other.example/x?q=1">elsewhere</a>
    <a href="intro.html#top">Intro again</a> <a name="anchor-only">no href</a>
    <a href="mailto:a@example.test">mail</a> <a href="javascript:void(0)">js</a>
    <p><a href="  ./chapter%202.html  ">spaces</a> <a href="#local">local</a>
    <a href="//cdn.example/lib.js">scheme-relative</a> <a href="ftp://files.example/a">ftp</a>
    <img src="pic.png"></p></body></html>"""


def _links_unit(ctx, mod):
    """extract_links() on a page with every kind of link, and on one without links; no server."""
    ctx.observe("links", _shape(mod.extract_links(LINKS_BASE, LINKS_PAGE)))
    ctx.observe("links_none", _shape(mod.extract_links(LINKS_BASE, "<html><body>no links</body></html>")))


def site_exact(ctx):
    """extract_links() on its own, then the judge's generated site, crawled."""
    mod = _module(ctx)
    _links_unit(ctx, mod)
    p = ctx.params
    ctx.observe("base", ctx.http.base)
    site = Site.load(ctx.inputs["site"], ctx.http.base)
    _crawl(ctx, mod, site, max_workers=p["workers"], rate=p["rate"], per=p["per"])


def fetch_once(ctx):
    """Pages that link to the same pages, finishing before those are fetched (`trials` crawls)."""
    mod = _module(ctx)
    p = ctx.params
    ctx.observe("base", ctx.http.base)
    for trial in range(p["trials"]):
        site = make_hub_site(ctx.http.base, p["hubs"], p["leaves"], latency=p["latency_ms"])
        _crawl(ctx, mod, site, key="_%d" % trial, max_workers=p["workers"], rate=1000, per=1.0)


def politeness(ctx):
    """A rate-limited crawl of the judge's site (its start page links to every page first): the server's
    log has when each request started, per site."""
    mod = _module(ctx)
    p = ctx.params
    ctx.observe("base", ctx.http.base)
    site = Site.load(ctx.inputs["site"], ctx.http.base)
    took = _crawl(ctx, mod, site, max_workers=p["workers"], rate=p["rate"], per=p["per"])
    ctx.observe("took", took)


def pool_bounded(ctx):
    """A wide site with slow pages; records, besides the crawl, the threads crawl() started (no wall-time
    bound: on a loaded machine the server-side overlap is the reliable sign of concurrency; speed is the
    throughput item's)."""
    mod = _module(ctx)
    p = ctx.params
    w = p["workers"]
    ctx.observe("base", ctx.http.base)
    site = make_hub_site(ctx.http.base, p["hubs"], p["leaves"], latency=p["latency_ms"])
    before = set(threading.enumerate())
    seen_threads = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen_threads.update(t for t in threading.enumerate() if t not in before)
            stop.wait(0.005)
    watcher = threading.Thread(target=watch, name="watcher", daemon=True)
    watcher.start()
    try:
        _crawl(ctx, mod, site, max_workers=w, rate=1000, per=1.0)
    finally:
        stop.set()
        watcher.join(2)
    # The check's own threads (call_with_timeout's and the watcher) are not crawl()'s.
    ctx.observe("threads", sorted(t.name for t in seen_threads if t.name not in ("call", "watcher")))


# ---------------------------------------------------------------------------------------------
# problem_solving


def visited_race(ctx):
    """Forced thread switches while many pages list the same links: the server's log says how often each
    URL was fetched."""
    mod = _module(ctx)
    p = ctx.params
    ctx.observe("base", ctx.http.base)
    site = make_hub_site(ctx.http.base, p["hubs"], p["leaves"], latency=0)
    _crawl(ctx, mod, site, max_workers=p["workers"], rate=10000, per=1.0)


# ---------------------------------------------------------------------------------------------
# performance


def bench_crawl(ctx):
    """Timed: one rate-limited crawl of a generated site (several sites, slow-ish pages)."""
    mod = ctx.student("scraper")
    p = ctx.params
    base = ctx.http.base
    site = make_site(ctx.rng, base, urlsplit(base).port, sites=p["sites"], per_site=p["per_site"],
                     extra=p["extra"], errors=p["errors"], broken=p["broken"], latency=p["latency_ms"],
                     retries=None, orphans=2, odd_links=ODD_LINKS_SPREAD, head=HEAD_WITH_SCRIPT)
    ctx.http.configure(site.routes)
    want = len(site.expected())

    def workload():
        result = mod.crawl(site.start, max_workers=p["workers"], rate=p["rate"], per=p["per"],
                           site_of=_site_of, timeout=3.0)
        if len(result) != want:
            raise AssertionError("crawl() returned %d pages, expected %d" % (len(result), want))
    return workload
