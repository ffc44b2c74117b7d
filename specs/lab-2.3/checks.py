"""Checks for lab-2.3: web scraper with a thread pool.

The student's API is the docstring of starter/lab-2.3/scraper.py: extract_links(base_url, html) and
crawl(start_url, max_workers, rate, per, site_of, timeout) -> {url: Page(url, status, links, error)}.

Every check builds its own small web site on the grader's fixture HTTP server (ctx.http.configure) from
the run's seed: pages in "sites" /s0/, /s1/, ... that link to each other in every form (relative,
root-relative, absolute, with fragments), with cycles, broken links (404), failing pages (500), a JSON
page, pages no one links to, mailto: and javascript: links, and a link to another host (`localhost`
instead of `127.0.0.1`: the same server, so following it is seen). The expected crawl is computed here
with the standard library's urljoin/urldefrag. What was fetched, how often, how many at once and how
fast per site is read from the server's own request log, never from the student's report.

Standard library only.
"""
import threading
import time
from urllib.parse import urldefrag, urljoin, urlsplit

CRAWL_WAIT = 8.0    # seconds a crawl may take before the check gives up

HINT_SEEN = ("mark a URL as seen when you SUBMIT it, not when its fetch finishes, and let one thread "
             "(or one lock) decide 'not seen yet -> mark it -> submit' in one step")
HINT_SCOPE = "follow only links whose scheme and host:port are those of start_url"
HINT_RATE = ("before each request, wait on a per-site limiter: at most `rate` requests may start in any "
             "`per` seconds for one site_of(url); keep the start times of the last `rate` requests per site")
HINT_POOL = ("fetch with a ThreadPoolExecutor(max_workers=max_workers) and submit each new URL to it; "
             "do not start a thread per URL")


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
    """A generated web site: routes for the server, the start URL, and the crawl it must give."""

    def __init__(self, base, start_path):
        self.base = base
        self.start = base + start_path
        self.routes = []
        self.hrefs = {}        # html path -> list of href strings, in document order
        self.kind = {}         # path -> "html", "error", "json", "missing"
        self.head = {}         # html path -> extra <head> markup
        self.offsite = []      # paths reached only through another host
        self.orphans = []      # paths with a route that no page links to

    def url(self, path):
        return self.base + path

    def finish(self, latency):
        for path, kind in self.kind.items():
            if kind == "html":
                self.routes.append({"path": path, "body": _html(path, self.hrefs[path], self.head.get(path, "")),
                                    "latency_ms": latency})
            elif kind == "error":
                self.routes.append({"path": path, "status": 500, "body": "internal server error",
                                    "latency_ms": latency})
            elif kind == "json":
                self.routes.append({"path": path, "body": '{"items": [1, 2, 3], "next": "/s0/p1.html"}',
                                    "latency_ms": latency})
        for path in self.offsite + self.orphans:
            self.routes.append({"path": path, "body": _html(path, ["/s0/p0.html", "p1.html"]),
                                "latency_ms": latency})
        return self

    def expected(self):
        """{url: (status, links)} of a correct crawl: breadth first from start over same-host links."""
        home = urlsplit(self.start)[:2]
        status = {"html": 200, "error": 500, "json": 200, "missing": 404}
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
            out[url] = (status[kind], links)
            for u in links:
                if u not in seen and urlsplit(u)[:2] == home:
                    seen.add(u)
                    queue.append(u)
        return out


def _href(rng, base, src, dst):
    """A link from page `src` to path `dst`, in one of the forms pages use."""
    sdir, ddir = src.rsplit("/", 1)[0], dst.rsplit("/", 1)[0]
    name = dst.rsplit("/", 1)[1]
    forms = [dst, base + dst, ".." + dst]
    if sdir == ddir:
        forms += [name, "./" + name, name]
    h = rng.choice(forms)
    if rng.random() < 0.2:
        h += rng.choice(["#top", "#section-2", "#"])
    return h


def make_site(ctx, sites=3, per_site=5, extra=2, errors=2, json_pages=1, broken=2, orphans=2,
              latency=(5, 20), star=False):
    """A random connected site with every kind of link; see the module docstring. star: the start page
    first links to every html page, site by site (so a crawler without a limiter sends a burst of
    requests to one site at once)."""
    rng, base = ctx.rng, ctx.http.base
    port = urlsplit(base).port
    site = Site(base, "/s0/p0.html")
    html = ["/s%d/p%d.html" % (s, i) for s in range(sites) for i in range(per_site)]
    for p in html:
        site.kind[p] = "html"
        site.hrefs[p] = []
    leaves = (["/s%d/err%d.html" % (rng.randrange(sites), k) for k in range(errors)]
              + ["/s%d/data%d.json" % (rng.randrange(sites), k) for k in range(json_pages)]
              + ["/s%d/missing%d.html" % (rng.randrange(sites), k) for k in range(broken)])
    for p in leaves:
        site.kind[p] = "error" if "/err" in p else "json" if p.endswith(".json") else "missing"
    # A spanning tree from the start page, so every page is reachable ...
    order = html[1:]
    rng.shuffle(order)
    reached = [html[0]]
    for p in order:
        parent = rng.choice(reached)
        site.hrefs[parent].append(_href(rng, base, parent, p))
        reached.append(p)
    # ... the leaves (404, 500, JSON) linked from one or two pages ...
    for p in leaves:
        for parent in rng.sample(html, 2 if rng.random() < 0.5 else 1):
            site.hrefs[parent].append(_href(rng, base, parent, p))
    # ... and extra links: cycles back to the start, diamonds, a page linking to itself.
    for p in html:
        for _ in range(extra):
            site.hrefs[p].append(_href(rng, base, p, rng.choice(html)))
        site.hrefs[p].append(_href(rng, base, p, html[0]))
        rng.shuffle(site.hrefs[p])
    if star:
        site.hrefs[html[0]][:0] = [_href(rng, base, html[0], p) for p in html[1:]]
    specials = rng.sample(html, 4)
    site.offsite = ["/elsewhere/p0.html"]
    site.hrefs[specials[0]].append("http://localhost:%d/elsewhere/p0.html" % port)
    site.hrefs[specials[1]] += ["mailto:webmaster@example.com", "#top"]
    site.hrefs[specials[2]].append("javascript:void(0)")
    site.head[specials[3]] = '<link rel="stylesheet" href="/s0/style.css"><script src="/s0/app.js"></script>'
    site.orphans = ["/s%d/orphan%d.html" % (rng.randrange(sites), k) for k in range(orphans)]
    return site.finish(list(latency))


def make_hub_site(ctx, hubs, leaves, latency=0):
    """start -> `hubs` hub pages -> every one of the same `leaves` pages (-> start): many pages link
    to the same URLs at the same moment."""
    base = ctx.http.base
    site = Site(base, "/s0/p0.html")
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


# ---------------------------------------------------------------------------------------------
# helpers


def _module(ctx):
    mod = ctx.student("scraper")
    for name in ("crawl", "extract_links", "Page"):
        ctx.expect(hasattr(mod, name), "scraper.py defines no %s" % name,
                   hint="keep the names of the starter's docstring")
    return mod


def _crawl(ctx, mod, site, **kwargs):
    ctx.http.configure(site.routes)
    kwargs.setdefault("site_of", _site_of)
    kwargs.setdefault("timeout", 3.0)
    t0 = time.monotonic()
    result = ctx.call_with_timeout(lambda: mod.crawl(site.start, **kwargs), CRAWL_WAIT, what="crawl()")
    took = time.monotonic() - t0
    ctx.expect(isinstance(result, dict), "crawl() returned %s, not a dict {url: Page}" % type(result).__name__)
    return result, took


def _short(urls, base, n=4):
    urls = sorted(urls)
    text = ", ".join(u[len(base):] if u.startswith(base) else u for u in urls[:n])
    return text + (" and %d more" % (len(urls) - n) if len(urls) > n else "")


def _expect_pages(ctx, result, site, what):
    """The crawl's result equals the expected one: the same URLs, statuses and links."""
    want = site.expected()
    base = site.base
    extra = set(result) - set(want)
    missing = set(want) - set(result)
    offsite = [u for u in extra if urlsplit(u)[:2] != urlsplit(base)[:2]]
    ctx.expect(not offsite, "%s: the result has page(s) on another host: %s" % (what, _short(offsite, base)),
               hint=HINT_SCOPE)
    ctx.expect(not extra and not missing,
               "%s: the crawl reached the wrong set of pages: %d expected, %d returned; missing: %s; not "
               "expected: %s" % (what, len(want), len(result), _short(missing, base) or "none",
                                 _short(extra, base) or "none"),
               hint="start at start_url, follow every http(s) <a href> of each 200 HTML page on the same "
                    "host (resolved with urljoin, fragment removed), and record every URL fetched, also "
                    "404s and 500s")
    for url in sorted(want):
        status, links = want[url]
        page = result[url]
        got_status = getattr(page, "status", "?")
        ctx.expect(got_status == status, "%s: %s should have status %s, the Page says %r"
                   % (what, url[len(base):], status, got_status),
                   hint="record resp.status_code for every answer, 404 and 500 included")
        got_links = getattr(page, "links", None)
        ctx.expect(isinstance(got_links, (list, tuple)), "%s: Page(%s).links is %r, not a list"
                   % (what, url[len(base):], got_links))
        if set(got_links) != set(links):
            miss, more = set(links) - set(got_links), set(got_links) - set(links)
            ctx.fail("%s: the links of %s are wrong: missing %s; not expected %s"
                     % (what, url[len(base):], _short(miss, base) or "none", _short(more, base) or "none"),
                     hint="links are the <a href> of a 200 HTML page only, resolved against the page's URL, "
                          "fragment removed, http(s) only; [] for every other page")


def _expect_server_saw(ctx, site, reqs, what):
    """From the server's log: nothing off-site, no orphan, nothing that is not a link."""
    off = sorted({r["path"] for r in reqs if r["path"].startswith("/elsewhere/")})
    ctx.expect(not off, "%s: the crawler fetched %s, reachable only through a link to another host "
               "(http://localhost:PORT/...): it must follow same-host links only" % (what, ", ".join(off)),
               hint=HINT_SCOPE)
    orphan = sorted({r["path"] for r in reqs if r["path"] in site.orphans})
    ctx.expect(not orphan, "%s: the crawler fetched %s, which no page links to" % (what, ", ".join(orphan)))
    assets = sorted({r["path"] for r in reqs if r["path"] in ("/s0/style.css", "/s0/app.js")})
    ctx.expect(not assets, "%s: the crawler fetched %s, which only a <link>/<script> tag names: follow "
               "<a href> links only" % (what, ", ".join(assets)))


def _expect_once(ctx, reqs, what):
    counts = {}
    for r in reqs:
        counts[r["path"]] = counts.get(r["path"], 0) + 1
    twice = sorted((p for p, n in counts.items() if n > 1), key=lambda p: -counts[p])
    ctx.expect(not twice, "%s: %d URL(s) were fetched more than once (the server saw %s): every URL must be "
               "fetched at most once" % (what, len(twice), ", ".join("%s %d times" % (p, counts[p])
                                                                   for p in twice[:4])),
               hint=HINT_SEEN)


# ---------------------------------------------------------------------------------------------
# completion_quality


def _links_unit(ctx, mod):
    """extract_links() on a page with every kind of link, no server."""
    base = "http://example.test/docs/guide/index.html"
    html = """<!DOCTYPE html><html><head><link rel="stylesheet" href="/style.css">
    <script src="app.js"></script></head><body>
    <a href="intro.html">Intro</a> <A HREF="../api/ref.html#section-2">API</A>
    <a href="/about.html">About</a> <a href="https://other.example/x?q=1">elsewhere</a>
    <a href="intro.html#top">Intro again</a> <a name="anchor-only">no href</a>
    <a href="mailto:a@example.test">mail</a> <a href="javascript:void(0)">js</a>
    <p><a href="  ./chapter%202.html  ">spaces</a> <a href="#local">local</a>
    <a href="//cdn.example/lib.js">scheme-relative</a> <a href="ftp://files.example/a">ftp</a>
    <img src="pic.png"></p></body></html>"""
    want = [
        "http://example.test/docs/guide/intro.html",
        "http://example.test/docs/api/ref.html",
        "http://example.test/about.html",
        "https://other.example/x?q=1",
        "http://example.test/docs/guide/chapter%202.html",
        "http://example.test/docs/guide/index.html",
        "http://cdn.example/lib.js",
    ]
    got = mod.extract_links(base, html)
    ctx.expect(isinstance(got, list), "extract_links() returned %s, not a list" % type(got).__name__)
    missing = [u for u in want if u not in got]
    extra = [u for u in got if u not in want]
    ctx.expect(not missing and not extra, "extract_links(%r, page) is wrong: missing %s; not expected %s"
               % (base, missing or "none", extra or "none"),
               hint="every <a href> only, urljoin(base_url, href.strip()), urldefrag, keep http/https")
    ctx.expect(len(got) == len(set(got)), "extract_links() returned duplicates: %r" % got,
               hint="each URL once, at its first appearance")
    ctx.expect_eq(got, want, "extract_links() order (document order, each URL once)")
    ctx.expect_eq(mod.extract_links(base, "<html><body>no links</body></html>"), [],
                  "extract_links() of a page without links")


def site_exact(ctx):
    """extract_links() on its own, then a generated site: exactly the reachable pages, with their
    statuses and links; nothing off-site."""
    mod = _module(ctx)
    _links_unit(ctx, mod)
    p = ctx.params
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"])
    result, _ = _crawl(ctx, mod, site, max_workers=p["workers"], rate=p["rate"], per=p["per"])
    reqs = ctx.http.requests()
    _expect_server_saw(ctx, site, reqs, "site crawl")
    _expect_pages(ctx, result, site, "site crawl")


def fetch_once(ctx):
    """Pages that link to the same pages, finishing before those are fetched: each URL fetched once."""
    mod = _module(ctx)
    p = ctx.params
    for trial in range(p["trials"]):
        site = make_hub_site(ctx, p["hubs"], p["leaves"], latency=p["latency_ms"])
        result, _ = _crawl(ctx, mod, site, max_workers=p["workers"], rate=1000, per=1.0)
        reqs = ctx.http.requests()
        _expect_once(ctx, reqs, "start -> %d pages -> the same %d pages (latency %s ms)"
                     % (p["hubs"], p["leaves"], p["latency_ms"]))
        _expect_pages(ctx, result, site, "hub site")


def politeness(ctx):
    """Per-site rate limit, measured by the server: at most `rate` requests start in any `per` seconds
    for one site (a window of `slack` x per is measured, for the client's scheduling jitter)."""
    mod = _module(ctx)
    p = ctx.params
    rate, per = p["rate"], p["per"]
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"], star=True)
    result, took = _crawl(ctx, mod, site, max_workers=p["workers"], rate=rate, per=per)
    reqs = ctx.http.requests()
    window = per * 1000 * p["slack"]
    n, key, at = ctx.http.max_in_window(window, reqs=reqs, key=_server_site)
    ctx.expect(n <= rate, "politeness: %d requests to site /%s/ started within %.0f ms (at %.0f ms after the "
               "start, server's clock); the limit is %d per %.0f ms per site (%d workers, %d requests in all, "
               "crawl took %.2f s)" % (n, key, window, at, rate, per * 1000, p["workers"], len(reqs), took),
               hint=HINT_RATE)
    _expect_pages(ctx, result, site, "rate-limited crawl")


def pool_bounded(ctx):
    """A wide site with slow pages: the server sees at most max_workers requests at once, and more than one
    (the pool is used); crawl() starts no more than max_workers (+1) threads. (No wall-time bound: on a
    loaded machine the server-side overlap is the reliable sign of concurrency; speed is the
    throughput item's.)"""
    mod = _module(ctx)
    p = ctx.params
    w = p["workers"]
    site = make_hub_site(ctx, p["hubs"], p["leaves"], latency=p["latency_ms"])
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
        result, _ = _crawl(ctx, mod, site, max_workers=w, rate=1000, per=1.0)
    finally:
        stop.set()
        watcher.join(2)
    reqs = ctx.http.requests()
    most = ctx.http.max_concurrent(reqs)
    ctx.expect(most <= w, "max_workers=%d, but the server had %d requests in flight at once" % (w, most),
               hint=HINT_POOL)
    mine = [t for t in seen_threads if t.name not in ("call", "watcher")]
    ctx.expect(len(mine) <= w + 1, "max_workers=%d, but crawl() started %d threads (%s)"
               % (w, len(mine), ", ".join(sorted(t.name for t in mine)[:6])), hint=HINT_POOL)
    ctx.expect(most >= 2, "max_workers=%d, but the server never had two requests in flight at once: the "
               "pages were fetched one at a time" % w, hint=HINT_POOL)
    _expect_pages(ctx, result, site, "hub site")


# ---------------------------------------------------------------------------------------------
# problem_solving


def visited_race(ctx):
    """Forced thread switches while many pages list the same links: still each URL fetched once."""
    mod = _module(ctx)
    p = ctx.params
    site = make_hub_site(ctx, p["hubs"], p["leaves"], latency=0)
    result, _ = _crawl(ctx, mod, site, max_workers=p["workers"], rate=10000, per=1.0)
    reqs = ctx.http.requests()
    _expect_once(ctx, reqs, "%d workers, %d pages each listing the same %d links, forced thread switches"
                 % (p["workers"], p["hubs"], p["leaves"]))
    _expect_pages(ctx, result, site, "hub site")


# ---------------------------------------------------------------------------------------------
# performance


def bench_crawl(ctx):
    """Timed: one rate-limited crawl of a generated site (several sites, slow-ish pages)."""
    mod = ctx.student("scraper")
    p = ctx.params
    site = make_site(ctx, sites=p["sites"], per_site=p["per_site"], extra=p["extra"], errors=p["errors"],
                     broken=p["broken"], latency=p["latency_ms"])
    ctx.http.configure(site.routes)
    want = len(site.expected())

    def workload():
        result = mod.crawl(site.start, max_workers=p["workers"], rate=p["rate"], per=p["per"],
                           site_of=_site_of, timeout=3.0)
        if len(result) != want:
            raise AssertionError("crawl() returned %d pages, expected %d" % (len(result), want))
    return workload
