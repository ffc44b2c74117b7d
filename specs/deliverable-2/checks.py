"""Checks for deliverable-2: threaded web crawler with rate limiting, retries and proper synchronisation.

The student's API is the docstring of starter/deliverable-2/crawler.py: RateLimiter(rate, per).wait(),
extract_links(base_url, html), Page(url, status, links, attempts, error) and Crawler(max_workers, rate,
per, retries, backoff, timeout, site_of) with crawl(start_url) -> {url: Page} and stats().

Every crawl check builds its own web site on the grader's fixture HTTP server (ctx.http.configure) from
the run's seed, as in lab-2.3 (sites /s0/, /s1/, ... linking to each other in every form, cycles, 404s,
500s, a JSON page, orphans, mailto:/javascript: links, a link to another host), and injects failures
per page with the server's `fail:` block: the first k requests of a page answer 500, or are reset (TCP
RST), or get no answer (timeout), or trickle their body (slow_body); some pages always fail. So the
check knows exactly how many requests each URL must get (k + 1, or retries + 1, or 1 for a 404) and the
final status of each. Counts, gaps between retries, rates per site and concurrency are read from the
server's own log. RateLimiter is also tested alone on a virtual clock.

Standard library only.
"""
from urllib.parse import urldefrag, urljoin, urlsplit

CRAWL_WAIT = 8.0    # seconds a crawl may take before the check gives up

HINT_SEEN = ("mark a URL as seen when you SUBMIT it, and let one thread (or one lock) decide 'not seen yet "
             "-> mark it -> submit' in one step")
HINT_SCOPE = "follow only links whose scheme and host:port are those of start_url"
HINT_RATE = ("wait on the site's RateLimiter before EVERY request, retries included: at most `rate` requests "
             "may start in any `per` seconds for one site_of(url)")
HINT_RETRY = ("retry a 5xx answer or a requests.RequestException (reset, timeout, broken body) up to "
              "`retries` times; never retry a 4xx; catch requests.RequestException, not only HTTP errors")
HINT_BACKOFF = "sleep backoff * 2 ** (k - 1) seconds before retry k (k = 1, 2, ...), outside any lock"


def _site_of(url):
    """The grader's notion of a site: the first path segment (/s0/..., /s1/...)."""
    return urlsplit(url).path.split("/")[1]


def _server_site(req):
    return req["path"].split("/")[1]


def _resolve(base, href):
    url, _ = urldefrag(urljoin(base, href.strip()))
    return url if urlsplit(url).scheme in ("http", "https") else None


def _html(title, hrefs, head=""):
    items = "\n".join('<li><a href="%s">link %d</a></li>' % (h, i) for i, h in enumerate(hrefs))
    return ("<!DOCTYPE html>\n<html><head><title>%s</title>%s</head>\n<body><h1 id=\"top\">%s</h1>\n"
            "<ul>\n%s\n</ul>\n<p><a name=\"end\">the end</a></p></body></html>\n" % (title, head, title, items))


class Site:
    """A generated web site: routes for the server, the start URL, the crawl it must give and the number
    of requests each path must get."""

    def __init__(self, base, start_path, retries):
        self.base = base
        self.start = base + start_path
        self.retries = retries
        self.routes = []
        self.hrefs = {}        # html path -> list of href strings, in document order
        self.kind = {}         # path -> "html", "error" (always 500), "gone" (always reset), "json", "missing"
        self.fail = {}         # html path -> (with, first k, slow_ms): its first k requests fail
        self.head = {}
        self.offsite = []
        self.orphans = []

    def finish(self, latency):
        for path, kind in self.kind.items():
            route = {"path": path, "latency_ms": latency}
            if kind == "html":
                route["body"] = _html(path, self.hrefs[path], self.head.get(path, ""))
                if path in self.fail:
                    how, k, slow = self.fail[path]
                    route["fail"] = {"with": how, "first": k, "slow_ms": slow}
            elif kind == "error":
                route.update(status=500, body="internal server error")
            elif kind == "gone":
                route.update(body="never sent", fail={"with": "reset"})
            elif kind == "json":
                route["body"] = '{"items": [1, 2, 3], "next": "/s0/p1.html"}'
            else:
                continue
            self.routes.append(route)
        for path in self.offsite + self.orphans:
            self.routes.append({"path": path, "body": _html(path, ["/s0/p0.html", "p1.html"]),
                                "latency_ms": latency})
        return self

    def expected(self):
        """{url: (status, links, attempts)} of a correct crawl, breadth first from start."""
        home = urlsplit(self.start)[:2]
        out, queue, seen = {}, [self.start], {self.start}
        while queue:
            url = queue.pop(0)
            path = urlsplit(url).path
            kind = self.kind.get(path, "missing")
            links = []
            if kind == "html":
                for h in self.hrefs[path]:
                    u = _resolve(url, h)
                    if u is not None and u not in links:
                        links.append(u)
            status = {"html": 200, "json": 200, "missing": 404, "error": 500, "gone": None}[kind]
            if kind in ("error", "gone"):
                attempts = self.retries + 1
            elif path in self.fail and self.fail[path][0] != "slow_body":
                attempts = self.fail[path][1] + 1
            else:
                attempts = 1
            out[url] = (status, links, attempts)
            for u in links:
                if u not in seen and urlsplit(u)[:2] == home:
                    seen.add(u)
                    queue.append(u)
        return out


def _href(rng, base, src, dst):
    sdir, ddir = src.rsplit("/", 1)[0], dst.rsplit("/", 1)[0]
    name = dst.rsplit("/", 1)[1]
    forms = [dst, base + dst, ".." + dst]
    if sdir == ddir:
        forms += [name, "./" + name, name]
    h = rng.choice(forms)
    if rng.random() < 0.2:
        h += rng.choice(["#top", "#section-2", "#"])
    return h


def make_site(ctx, sites=3, per_site=5, extra=2, errors=1, gone=0, json_pages=1, broken=1, orphans=1,
              latency=(5, 20), retries=3, failing=None, near_start=(), star=False):
    """A random connected site (see the module docstring). failing: [(with, first k, slow_ms), ...], one
    html page each (never the start page). near_start: indexes into `failing` whose page the start page
    links to directly (so it is fetched early). star: the start page first links to every html page,
    site by site (a crawler that skips the limiter then sends a burst to one site at once)."""
    rng, base = ctx.rng, ctx.http.base
    port = urlsplit(base).port
    site = Site(base, "/s0/p0.html", retries)
    html = ["/s%d/p%d.html" % (s, i) for s in range(sites) for i in range(per_site)]
    for p in html:
        site.kind[p] = "html"
        site.hrefs[p] = []
    leaves = (["/s%d/err%d.html" % (rng.randrange(sites), k) for k in range(errors)]
              + ["/s%d/gone%d.html" % (rng.randrange(sites), k) for k in range(gone)]
              + ["/s%d/data%d.json" % (rng.randrange(sites), k) for k in range(json_pages)]
              + ["/s%d/missing%d.html" % (rng.randrange(sites), k) for k in range(broken)])
    for p in leaves:
        site.kind[p] = ("error" if "/err" in p else "gone" if "/gone" in p else
                        "json" if p.endswith(".json") else "missing")
    order = html[1:]
    rng.shuffle(order)
    reached = [html[0]]
    for p in order:
        parent = rng.choice(reached)
        site.hrefs[parent].append(_href(rng, base, parent, p))
        reached.append(p)
    for p in leaves:
        for parent in rng.sample(html, 2 if rng.random() < 0.5 else 1):
            site.hrefs[parent].append(_href(rng, base, parent, p))
    for p in html:
        for _ in range(extra):
            site.hrefs[p].append(_href(rng, base, p, rng.choice(html)))
        site.hrefs[p].append(_href(rng, base, p, html[0]))
        rng.shuffle(site.hrefs[p])
    if star:
        site.hrefs[html[0]][:0] = [_href(rng, base, html[0], p) for p in html[1:]]
    victims = rng.sample(html[1:], len(failing or ()))
    for i, (spec, path) in enumerate(zip(failing or (), victims)):
        site.fail[path] = spec
        if i in near_start:
            site.hrefs[html[0]].insert(0, path)
    specials = rng.sample(html, 3)
    site.offsite = ["/elsewhere/p0.html"]
    site.hrefs[specials[0]].append("http://localhost:%d/elsewhere/p0.html" % port)
    site.hrefs[specials[1]] += ["mailto:webmaster@example.com", "#top", "javascript:void(0)"]
    site.head[specials[2]] = '<link rel="stylesheet" href="/s0/style.css">'
    site.orphans = ["/s%d/orphan%d.html" % (rng.randrange(sites), k) for k in range(orphans)]
    return site.finish(list(latency))


def make_hub_site(ctx, hubs, leaves, latency=0):
    """start -> `hubs` hub pages -> every one of the same `leaves` pages (-> start)."""
    site = Site(ctx.http.base, "/s0/p0.html", 0)
    hub_paths = ["/s%d/hub%d.html" % (h % 2, h) for h in range(hubs)]
    leaf_paths = ["/s%d/leaf%d.html" % (k % 3, k) for k in range(leaves)]
    site.kind["/s0/p0.html"] = "html"
    site.hrefs["/s0/p0.html"] = list(hub_paths)
    for h in hub_paths:
        site.kind[h] = "html"
        site.hrefs[h] = list(leaf_paths) + ["/s0/p0.html"]
    for k in leaf_paths:
        site.kind[k] = "html"
        site.hrefs[k] = ["/s0/p0.html", hub_paths[0]]
    return site.finish(latency)


def _failing(p):
    """The `failing` list of make_site from an item's params."""
    out = []
    for how, n, first in p.get("failing", []):
        out += [(how, first, p.get("slow_ms", 2000))] * n
    return out


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    mod = ctx.student("crawler")
    for name in ("Crawler", "RateLimiter", "Page", "extract_links"):
        ctx.expect(hasattr(mod, name), "crawler.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return mod


def _crawler(ctx, mod, p, **over):
    kw = dict(max_workers=p.get("workers", 4), rate=p.get("rate", 1000), per=p.get("per", 1.0),
              retries=p.get("retries", 3), backoff=p.get("backoff", 0.01), timeout=p.get("timeout", 1.0),
              site_of=_site_of)
    kw.update(over)
    return mod.Crawler(**kw)


def _crawl(ctx, crawler, site):
    ctx.http.configure(site.routes)
    result = ctx.call_with_timeout(lambda: crawler.crawl(site.start), CRAWL_WAIT, what="Crawler.crawl()")
    ctx.expect(isinstance(result, dict), "crawl() returned %s, not a dict {url: Page}" % type(result).__name__)
    return result


def _p(url, base):
    return url[len(base):] if url.startswith(base) else url


def _short(urls, base, n=4):
    urls = sorted(urls)
    text = ", ".join(_p(u, base) for u in urls[:n])
    return text + (" and %d more" % (len(urls) - n) if len(urls) > n else "")


def _counts(reqs):
    out = {}
    for r in reqs:
        out[r["path"]] = out.get(r["path"], 0) + 1
    return out


def _describe_fail(site, path):
    if site.kind.get(path) == "error":
        return "always answers 500"
    if site.kind.get(path) == "gone":
        return "always resets the connection"
    if site.kind.get(path) == "missing":
        return "answers 404"
    if path in site.fail:
        how, k, _ = site.fail[path]
        return {"status": "answers 500 to its first %d request(s)", "reset": "resets its first %d request(s)",
                "timeout": "does not answer its first %d request(s)",
                "slow_body": "trickles the body of its first %d answer(s)"}[how] % k
    return "always answers 200"


def _expect_pages(ctx, result, site, what, attempts=True):
    """The crawl's result equals the expected one: URLs, final statuses, links (and attempts)."""
    want = site.expected()
    base = site.base
    extra, missing = set(result) - set(want), set(want) - set(result)
    offsite = [u for u in extra if urlsplit(u)[:2] != urlsplit(base)[:2]]
    ctx.expect(not offsite, "%s: the result has page(s) on another host: %s" % (what, _short(offsite, base)),
               hint=HINT_SCOPE)
    ctx.expect(not extra and not missing,
               "%s: the crawl reached the wrong set of pages: %d expected, %d returned; missing: %s; not "
               "expected: %s" % (what, len(want), len(result), _short(missing, base) or "none",
                                 _short(extra, base) or "none"),
               hint="follow every http(s) <a href> of each final-200 HTML page on the same host, and record "
                    "every URL fetched, also 404s, 500s and pages that never answered")
    for url in sorted(want):
        status, links, tries = want[url]
        page = result[url]
        path = _p(url, base)
        got = getattr(page, "status", "?")
        ctx.expect(got == status, "%s: %s (it %s; retries=%d) should end with status %s, the Page says %r"
                   % (what, path, _describe_fail(site, urlsplit(url).path), site.retries, status, got),
                   hint=HINT_RETRY)
        got_links = getattr(page, "links", None)
        ctx.expect(isinstance(got_links, (list, tuple)), "%s: Page(%s).links is %r, not a list"
                   % (what, path, got_links))
        if set(got_links) != set(links):
            miss, more = set(links) - set(got_links), set(got_links) - set(links)
            ctx.fail("%s: the links of %s are wrong: missing %s; not expected %s"
                     % (what, path, _short(miss, base) or "none", _short(more, base) or "none"),
                     hint="links are the <a href> of a final-200 HTML page only, resolved against the page's "
                          "URL, fragment removed, http(s) only; [] for every other page")
        if status is None:
            err = getattr(page, "error", None)
            ctx.expect(isinstance(err, str) and err, "%s: %s never answered, but its Page.error is %r: say "
                       "what went wrong" % (what, path, err))
        if attempts:
            ctx.expect(getattr(page, "attempts", None) == tries, "%s: %s (it %s; retries=%d) needs %d request(s), "
                       "but its Page.attempts is %r" % (what, path, _describe_fail(site, urlsplit(url).path),
                                                        site.retries, tries, getattr(page, "attempts", None)),
                       hint="count every request made for the URL, the first and each retry")


def _expect_requests(ctx, site, reqs, what):
    """From the server's log: each path requested exactly as often as its failures require."""
    want = site.expected()
    counts = _counts(reqs)
    off = sorted(p for p in counts if p.startswith("/elsewhere/"))
    ctx.expect(not off, "%s: the crawler fetched %s, reachable only through a link to another host"
               % (what, ", ".join(off)), hint=HINT_SCOPE)
    orphan = sorted(p for p in counts if p in site.orphans or p == "/s0/style.css")
    ctx.expect(not orphan, "%s: the crawler fetched %s, which no <a href> links to" % (what, ", ".join(orphan)))
    wrong = []
    for url, (_, _, tries) in want.items():
        path = urlsplit(url).path
        if counts.get(path, 0) != tries:
            wrong.append((path, counts.get(path, 0), tries))
    if wrong:
        wrong.sort(key=lambda w: (w[1] < w[2], w[0]))
        path, got, tries = wrong[0]
        ctx.fail("%s: the server got %d request(s) for %s, which %s; with retries=%d it needs exactly %d%s"
                 % (what, got, path, _describe_fail(site, path), site.retries, tries,
                    " (and %d more path(s) wrong)" % (len(wrong) - 1) if len(wrong) > 1 else ""),
                 hint=HINT_SEEN if got > tries and site.fail.get(path) is None and site.kind.get(path) in (
                     "html", "json", "missing") else HINT_RETRY)


def _expect_stats(ctx, crawler, reqs, result, what):
    """stats() against the server's log (call after _expect_pages: the result is right)."""
    st = crawler.stats()
    ctx.expect(isinstance(st, dict), "stats() returned %r, not a dict" % (st,))
    total, pages = len(reqs), len(result)
    failed = sum(1 for pg in result.values() if pg.status is None or pg.status >= 500)
    want = {"requests": total, "retries": total - pages, "pages": pages, "failed": failed}
    got = {k: st.get(k) for k in want}
    ctx.expect(got == want, "%s: stats() says %r; the server saw %d requests for %d pages, so %r"
               % (what, got, total, pages, want),
               hint="count under a lock: `self.n += 1` from several threads loses updates")


# ---------------------------------------------------------------------------------------------
# completion_quality


def _limiter_unit(ctx, mod):
    """RateLimiter alone, on a virtual clock (time.monotonic/sleep patched): bursts, a sliding window,
    idle periods, and no sleeping when there is room. The patch is undone before the crawl."""
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
    ctx.expect(clock.now == t0, "RateLimiter(%d, %s): the first %d wait() calls slept %.3f s (virtual clock): "
               "they must return at once" % (rate, per, rate, clock.now - t0),
               hint="only wait when `rate` requests already started in the last `per` seconds")
    take(2 * rate + 1)
    for i in range(rate, len(times)):
        span = times[i] - times[i - rate]
        ctx.expect(span >= per - 1e-9, "RateLimiter(%d, %s): wait() calls %d and %d returned %.3f s apart "
                   "(virtual clock): %d calls within %s s" % (rate, per, i - rate + 1, i + 1, span, rate + 1, per),
                   hint="keep the start times of the last `rate` calls; a token bucket that starts full "
                        "allows a burst of `rate` plus the refill")
    for i in range(len(times)):
        due = (i // rate) * per          # the sliding window's answer for a burst: `rate` calls per `per` s
        ctx.expect(times[i] - t0 <= due + 0.05 * per,
                   "RateLimiter(%d, %s): a burst of %d wait() calls: call %d returned %.3f s after the first "
                   "(virtual clock); the window allowed it at %.3f s"
                   % (rate, per, len(times), i + 1, times[i] - t0, due),
                   hint="return as soon as fewer than `rate` calls returned in the last `per` seconds: sleep "
                        "until the oldest of them leaves the window, not a fixed per / rate")
    clock.advance(2 * per)
    before = clock.now
    take(1)
    ctx.expect(clock.now == before, "RateLimiter(%d, %s): after %s s idle, wait() slept %.3f s: it must "
               "return at once" % (rate, per, 2 * per, clock.now - before))


def site_exact(ctx):
    """No failures: exact pages, statuses and links, one request per URL, stats() right."""
    mod = _module(ctx)
    p = ctx.params
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], latency=p["latency_ms"],
                     retries=p["retries"])
    crawler = _crawler(ctx, mod, p)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    _expect_requests(ctx, site, reqs, "site crawl")
    _expect_pages(ctx, result, site, "site crawl")
    _expect_stats(ctx, crawler, reqs, result, "site crawl")


def retries(ctx):
    """Injected 500s and resets on the first k requests of some pages, pages that always fail: every
    page ends right, with exactly the requests its failures need (server-side counts)."""
    mod = _module(ctx)
    p = ctx.params
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     gone=p["gone"], broken=p["broken"], latency=p["latency_ms"], retries=p["retries"],
                     failing=_failing(p))
    crawler = _crawler(ctx, mod, p)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    _expect_requests(ctx, site, reqs, "crawl with failures")
    _expect_pages(ctx, result, site, "crawl with failures")
    _expect_stats(ctx, crawler, reqs, result, "crawl with failures")


def backoff(ctx):
    """The gaps between successive requests for a failing page (server's clock) grow as backoff * 2**k."""
    mod = _module(ctx)
    p = ctx.params
    b, r = p["backoff"], p["retries"]
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"], retries=r, failing=_failing(p),
                     near_start=range(len(_failing(p))))
    crawler = _crawler(ctx, mod, p)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    checked = [path for path in site.fail] + [path for path, k in site.kind.items() if k == "error"]
    for path in checked:
        gaps = ctx.http.gaps(path, reqs)
        for k, gap in enumerate(gaps):
            nominal = b * 2 ** k * 1000
            ctx.expect(gap >= 0.9 * nominal,
                       "backoff=%s: %s (it %s) was retried %.0f ms after attempt %d (server's clock); retry %d "
                       "must wait at least backoff * 2**%d = %.0f ms (all gaps: %s ms)"
                       % (b, path, _describe_fail(site, path), gap, k + 1, k + 1, k, nominal,
                          ", ".join("%.0f" % g for g in gaps)), hint=HINT_BACKOFF)
            ctx.expect(gap <= 2.5 * nominal + p["slack_ms"],
                       "backoff=%s: %s was retried only %.0f ms after attempt %d; retry %d should come about "
                       "backoff * 2**%d = %.0f ms later (all gaps: %s ms)"
                       % (b, path, gap, k + 1, k + 1, k, nominal, ", ".join("%.0f" % g for g in gaps)),
                       hint=HINT_BACKOFF)
    _expect_requests(ctx, site, reqs, "crawl with retries")
    _expect_pages(ctx, result, site, "crawl with retries")


def timeouts(ctx):
    """A page that does not answer its first request: the retry comes after the client's timeout, not
    the server's hold. A page whose body trickles in arrives whole, and the other workers go on meanwhile."""
    mod = _module(ctx)
    p = ctx.params
    hold, slow = p["hold_ms"], p["slow_ms"]
    failing = [("timeout", 1, hold), ("slow_body", 1, slow)]
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=0, broken=1,
                     latency=p["latency_ms"], retries=p["retries"], failing=failing, near_start=(0, 1),
                     star=True)
    crawler = _crawler(ctx, mod, p)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    held = [path for path, f in site.fail.items() if f[0] == "timeout"][0]
    trickled = [path for path, f in site.fail.items() if f[0] == "slow_body"][0]
    gaps = ctx.http.gaps(held, reqs)
    ctx.expect(len(gaps) >= 1, "%s did not answer its first request; it was never requested again (%d request)"
               % (held, len(gaps) + 1), hint=HINT_RETRY)
    ctx.expect(gaps[0] < hold * p["hold_fraction"],
               "timeout=%s s: %s did not answer its first request, and the retry came %.0f ms later (server's "
               "clock), after the server gave up holding it (%d ms): the request had no timeout"
               % (p["timeout"], held, gaps[0], hold),
               hint="pass timeout=self.timeout to every requests call (requests waits forever by default)")
    slow_req = [r for r in reqs if r["path"] == trickled][0]
    ctx.expect(slow_req["end_ms"] is not None, "%s: the body of the slow answer was never read to the end"
               % trickled)
    lo, hi = slow_req["start_ms"] + 0.05 * slow, slow_req["end_ms"] - 0.05 * slow
    during = [r for r in reqs if lo <= r["start_ms"] <= hi and r["path"] != trickled]
    ctx.expect(len(during) >= p["min_during"],
               "while %s trickled its body in (%.0f ms), only %d other request(s) started: the other workers "
               "waited for it" % (trickled, slow_req["end_ms"] - slow_req["start_ms"], len(during)),
               hint="hold no lock during a request: a slow page must only occupy its own worker")
    _expect_requests(ctx, site, reqs, "crawl with a timeout and a slow body")
    _expect_pages(ctx, result, site, "crawl with a timeout and a slow body")


def politeness_failures(ctx):
    """RateLimiter alone on a virtual clock; then a crawl where most pages fail their first request (500
    or reset): with the retries, still at most `rate` requests per `per` seconds per site (server's
    clock, window slack x per), and the right result."""
    mod = _module(ctx)
    _limiter_unit(ctx, mod)
    p = ctx.params
    rate, per = p["rate"], p["per"]
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"], retries=p["retries"], failing=_failing(p),
                     star=True)
    crawler = _crawler(ctx, mod, p)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    window = per * 1000 * p["slack"]
    n, key, at = ctx.http.max_in_window(window, reqs=reqs, key=_server_site)
    retried = sum(1 for c in _counts(reqs).values() if c > 1)
    ctx.expect(n <= rate, "politeness under failures: %d requests to site /%s/ started within %.0f ms (at %.0f ms, "
               "server's clock); the limit is %d per %.0f ms per site, retries included (%d requests in all, "
               "%d URLs retried)" % (n, key, window, at, rate, per * 1000, len(reqs), retried), hint=HINT_RATE)
    _expect_requests(ctx, site, reqs, "rate-limited crawl with failures")
    _expect_pages(ctx, result, site, "rate-limited crawl with failures")


# ---------------------------------------------------------------------------------------------
# problem_solving


def visited_race(ctx):
    """Forced thread switches while many pages list the same links: each URL fetched once, stats exact."""
    mod = _module(ctx)
    p = ctx.params
    site = make_hub_site(ctx, p["hubs"], p["leaves"], latency=0)
    crawler = _crawler(ctx, mod, p, rate=10000, retries=0)
    result = _crawl(ctx, crawler, site)
    reqs = ctx.http.requests()
    counts = _counts(reqs)
    twice = sorted((q for q, c in counts.items() if c > 1), key=lambda q: -counts[q])
    ctx.expect(not twice, "%d workers, %d pages each listing the same %d links, forced thread switches: %d URL(s) "
               "were fetched more than once (the server saw %s)"
               % (p["workers"], p["hubs"], p["leaves"], len(twice),
                  ", ".join("%s %d times" % (q, counts[q]) for q in twice[:4])), hint=HINT_SEEN)
    _expect_pages(ctx, result, site, "hub site")
    _expect_stats(ctx, crawler, reqs, result, "hub site, forced thread switches")


# ---------------------------------------------------------------------------------------------
# performance


def bench_crawl(ctx):
    """Timed: one rate-limited crawl of a generated site with flaky pages."""
    mod = ctx.student("crawler")
    p = ctx.params
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"], retries=p["retries"], failing=_failing(p))
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
