"""Workloads for deliverable-2: threaded web crawler with rate limiting, retries and proper
synchronisation. Each records what the student's code did; judge.py, which the submission never sees,
plans the sites and gives the verdicts.

The student's API is the docstring of starter/deliverable-2/crawler.py: RateLimiter(rate, per).wait(),
extract_links(base_url, html), Page(url, status, links, attempts, error) and Crawler(max_workers, rate,
per, retries, backoff, timeout, site_of) with crawl(start_url) -> {url: Page} and stats().

Every crawl check serves a web site on the grader's fixture HTTP server (ctx.http.configure), built by
the check library's `grade_lib_site` as in lab-2.3 (sites /s0/, /s1/, ... linking to each other in every form,
cycles, 404s, 500s, a JSON page, orphans, mailto:/javascript: links, a link to another host), with
failures injected per page with the server's `fail:` block: the first k requests of a page answer 500,
or are reset (TCP RST), or get no answer (timeout), or trickle their body (slow_body); some pages always
fail. The random sites are planned by the judge from the run's seed (the hub site has no random part),
so the judge knows exactly how many requests each URL must get (k + 1, or retries + 1, or 1 for a 404)
and the final status of each. The workloads record crawl()'s result, stats() and the server's own log
(counts, gaps between retries, rates per site and concurrency are read from it). RateLimiter is also
run alone on a virtual clock, and the times its wait() calls returned are recorded.

Standard library only.
"""
from urllib.parse import urlsplit

from grade_lib_site import Site, failing, make_hub_site, make_site, site_of as _site_of
from grade_lib_student import student_module

CRAWL_WAIT = 8.0    # seconds a crawl may take before the check gives up


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    return student_module(ctx, "crawler", ("Crawler", "RateLimiter", "Page", "extract_links"))


def _crawler(ctx, mod, p, **over):
    kw = dict(max_workers=p.get("workers", 4), rate=p.get("rate", 1000), per=p.get("per", 1.0),
              retries=p.get("retries", 3), backoff=p.get("backoff", 0.01), timeout=p.get("timeout", 1.0),
              site_of=_site_of)
    kw.update(over)
    return mod.Crawler(**kw)


def _shape(value):
    """A returned value the judge did not get in the expected type: its type and repr."""
    return {"type": type(value).__name__, "repr": repr(value)}


def _page(key, page):
    """One entry of crawl()'s result: its key, and the Page's fields it has (links as a list when they
    are a list or a tuple)."""
    out = {"url": key}
    for name in ("status", "attempts", "error"):
        if hasattr(page, name):
            out[name] = getattr(page, name)
    if hasattr(page, "links"):
        links = page.links
        out["links"] = {"list": list(links)} if isinstance(links, (list, tuple)) else _shape(links)
    return out


def _crawl(ctx, crawler, site, stats=True):
    """Serves `site`, crawls it and records crawl()'s result (`result`), the server's log (`requests`:
    [path, start_ms, end_ms]) and, with `stats`, what stats() said afterwards (`stats`)."""
    ctx.observe("base", ctx.http.base)
    ctx.http.configure(site.routes)
    result = ctx.call_with_timeout(lambda: crawler.crawl(site.start), CRAWL_WAIT, what="Crawler.crawl()")
    reqs = ctx.http.requests()
    if isinstance(result, dict):
        ctx.observe("result", {"pages": [_page(k, v) for k, v in result.items()]})
    else:
        ctx.observe("result", _shape(result))
    ctx.observe("requests", [[r["path"], r["start_ms"], r["end_ms"]] for r in reqs])
    if stats:
        st = crawler.stats()
        ctx.observe("stats", {"dict": st} if isinstance(st, dict) else _shape(st))


def _planned(ctx):
    return Site.load(ctx.inputs["site"], ctx.http.base)


# ---------------------------------------------------------------------------------------------
# completion_quality


def _limiter_unit(ctx, mod):
    """RateLimiter alone, on a virtual clock (time.monotonic/sleep patched): bursts, a sliding window,
    idle periods, and no sleeping when there is room. The patch is undone before the crawl. Records the
    virtual times: `t0`, each wait()'s return (`times`), before and after one wait() after an idle spell."""
    clock = ctx.virtual_clock(mod)
    try:
        _limiter_on(ctx, mod, clock, ctx.params["unit_rate"], ctx.params["unit_per"])
    finally:
        clock.restore()


def _limiter_on(ctx, mod, clock, rate, per):
    lim = mod.RateLimiter(rate, per)
    times = []

    def take(n):
        for _ in range(n):
            ctx.call_with_timeout(lim.wait, 2.0, what="RateLimiter.wait()")
            times.append(clock.now)
    t0 = clock.now
    take(rate)
    take(2 * rate + 1)
    clock.advance(2 * per)
    before = clock.now
    take(1)
    ctx.observe("limiter", {"t0": t0, "times": times[:-1], "idle_before": before, "idle_after": clock.now})


def site_exact(ctx):
    """No failures: the judge's site, crawled."""
    mod = _module(ctx)
    _crawl(ctx, _crawler(ctx, mod, ctx.params), _planned(ctx))


def retries(ctx):
    """Injected 500s and resets on the first k requests of some pages, pages that always fail (the
    judge's site), crawled."""
    mod = _module(ctx)
    _crawl(ctx, _crawler(ctx, mod, ctx.params), _planned(ctx))


def backoff(ctx):
    """Failing pages linked from the start page (the judge's site), crawled: the server's log has the
    gaps between successive requests for each."""
    mod = _module(ctx)
    _crawl(ctx, _crawler(ctx, mod, ctx.params), _planned(ctx), stats=False)


def timeouts(ctx):
    """A page that does not answer its first request and one whose body trickles in (the judge's site),
    crawled: the server's log has when the retry came and what started meanwhile."""
    mod = _module(ctx)
    _crawl(ctx, _crawler(ctx, mod, ctx.params), _planned(ctx), stats=False)


def politeness_failures(ctx):
    """RateLimiter alone on a virtual clock; then a rate-limited crawl of the judge's site where most
    pages fail their first request (500 or reset): the server's log has when each request started."""
    mod = _module(ctx)
    _limiter_unit(ctx, mod)
    _crawl(ctx, _crawler(ctx, mod, ctx.params), _planned(ctx), stats=False)


# ---------------------------------------------------------------------------------------------
# problem_solving


def visited_race(ctx):
    """Forced thread switches while many pages list the same links (a hub site, no random part)."""
    mod = _module(ctx)
    p = ctx.params
    site = make_hub_site(ctx.http.base, p["hubs"], p["leaves"], latency=0, retries=0)
    _crawl(ctx, _crawler(ctx, mod, p, rate=10000, retries=0), site)


# ---------------------------------------------------------------------------------------------
# performance


def bench_crawl(ctx):
    """Timed: one rate-limited crawl of a generated site with flaky pages."""
    mod = ctx.student("crawler")
    p = ctx.params
    site = make_site(ctx.rng, ctx.http.base, urlsplit(ctx.http.base).port, sites=p["sites"],
                     per_site=p["per_site"], extra=p["extra"], errors=p["errors"], broken=p["broken"],
                     latency=p["latency_ms"], retries=p["retries"], failing=failing(p))
    ctx.http.configure(site.routes)
    want = len(site.expected())

    def workload():
        ctx.http.reset()       # the injected failures start again
        crawler = mod.Crawler(max_workers=p["workers"], rate=p["rate"], per=p["per"], retries=p["retries"],
                              backoff=p["backoff"], timeout=1.0, site_of=_site_of)
        result = crawler.crawl(site.start)
        if len(result) != want:
            raise AssertionError("crawl() returned %d pages, expected %d" % (len(result), want))
    return workload
