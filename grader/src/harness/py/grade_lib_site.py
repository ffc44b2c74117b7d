"""The course's check library: the generated web sites the crawler labs crawl (lab-2.3, deliverable-2).

A site is generated from a random.Random, served by the grader's fixture HTTP server (with failures
injected per page, the route `fail:` block, where a lab asks for them), with the crawl a correct crawler
gives and, for a lab that retries, the requests each path must get. A lab's checks.py uses it for the
routes of a site (the timed workload builds its own site) and its judge.py for the site of a run (planned
there, from the run's seed) and the expected crawl. The per-lab differences are parameters: `retries`
(None for a crawler without retries: expected() then gives (status, links), else (status, links,
attempts)), and the odd links and the extra <head> markup a few pages get.

A planned site is made before the run's server exists, so its links name the server with the
placeholders BASE ("http://127.0.0.1:PORT") and PORT; `Site.load(plan, base)` puts the run's in.
Pure standard library: importable by workloads and judges alike.
"""
from urllib.parse import urldefrag, urljoin, urlsplit

BASE = "@BASE@"
PORT = "@PORT@"

# The odd links of make_site: each group goes to one page drawn for it (the default: all on one page).
ODD_LINKS = (("mailto:webmaster@example.com", "#top", "javascript:void(0)"),)
ODD_LINKS_SPREAD = (("mailto:webmaster@example.com", "#top"), ("javascript:void(0)",))
# The extra <head> markup of one page (a link a crawler must not follow as a page).
HEAD = '<link rel="stylesheet" href="/s0/style.css">'
HEAD_WITH_SCRIPT = '<link rel="stylesheet" href="/s0/style.css"><script src="/s0/app.js"></script>'


def _resolve(base, href):
    url, _ = urldefrag(urljoin(base, href.strip()))
    return url if urlsplit(url).scheme in ("http", "https") else None


def _html(title, hrefs, head=""):
    items = "\n".join('<li><a href="%s">link %d</a></li>' % (h, i) for i, h in enumerate(hrefs))
    return ("<!DOCTYPE html>\n<html><head><title>%s</title>%s</head>\n<body><h1 id=\"top\">%s</h1>\n"
            "<ul>\n%s\n</ul>\n<p><a name=\"end\">the end</a></p></body></html>\n" % (title, head, title, items))


class Site:
    """A generated web site: routes for the server, the start URL, the crawl it must give and (retries
    not None) the number of requests each path must get."""

    def __init__(self, base, start_path, retries=None):
        self.base = base
        self.start_path = start_path
        self.start = base + start_path
        self.retries = retries
        self.latency = 0
        self.routes = []
        self.hrefs = {}        # html path -> list of href strings, in document order
        self.kind = {}         # path -> "html", "error" (always 500), "gone" (always reset), "json", "missing"
        self.fail = {}         # html path -> (with, first k, slow_ms): its first k requests fail
        self.head = {}         # html path -> extra <head> markup
        self.offsite = []      # paths reached only through another host
        self.orphans = []      # paths with a route that no page links to

    def url(self, path):
        """The URL of `path` on this site's server."""
        return self.base + path

    def finish(self, latency):
        """Makes the routes (every page with `latency`); returns the site."""
        self.latency = latency
        self.routes = []
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

    def plan(self):
        """The site as JSON (its links with the placeholders, when it was made with them)."""
        return {"start": self.start_path, "retries": self.retries, "kind": self.kind, "hrefs": self.hrefs,
                "fail": {p: list(f) for p, f in self.fail.items()}, "head": self.head,
                "offsite": self.offsite, "orphans": self.orphans, "latency": self.latency}

    @classmethod
    def load(cls, plan, base):
        """The planned site on the server at `base` ("http://127.0.0.1:PORT")."""
        port = str(urlsplit(base).port)
        site = cls(base, plan["start"], plan.get("retries"))
        site.kind = dict(plan["kind"])
        site.hrefs = {p: [h.replace(BASE, base).replace(PORT, port) for h in hs] for p, hs in plan["hrefs"].items()}
        site.fail = {p: tuple(f) for p, f in plan.get("fail", {}).items()}
        site.head = dict(plan["head"])
        site.offsite = list(plan["offsite"])
        site.orphans = list(plan["orphans"])
        return site.finish(plan["latency"])

    def expected(self):
        """{url: (status, links)} of a correct crawl, breadth first from start over same-host links;
        (status, links, attempts) when the site counts retries."""
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
            if self.retries is None:
                out[url] = (status, links)
            else:
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

    def describe_fail(self, path):
        """How `path` fails, in words ("always answers 500", "resets its first 2 request(s)", ...)."""
        if self.kind.get(path) == "error":
            return "always answers 500"
        if self.kind.get(path) == "gone":
            return "always resets the connection"
        if self.kind.get(path) == "missing":
            return "answers 404"
        if path in self.fail:
            how, k, _ = self.fail[path]
            return {"status": "answers 500 to its first %d request(s)", "reset": "resets its first %d request(s)",
                    "timeout": "does not answer its first %d request(s)",
                    "slow_body": "trickles the body of its first %d answer(s)"}[how] % k
        return "always answers 200"


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


def make_site(rng, base=BASE, port=PORT, sites=3, per_site=5, extra=2, errors=1, gone=0, json_pages=1, broken=1,
              orphans=1, latency=(5, 20), retries=3, failing=None, near_start=(), star=False,
              odd_links=ODD_LINKS, head=HEAD):
    """A random connected site with every kind of link, drawn from `rng`; on the server at `base` and
    `port`, or with the placeholders for them. Pages /s<k>/p<i>.html in `sites` sites of `per_site`
    pages, a spanning tree from the start page plus `extra` links per page and a link back to the start;
    leaves: `errors` pages answering 500, `gone` pages resetting, `json_pages`, `broken` links (404);
    `orphans` routes no page links to, one page on another host. retries: see the module's docstring.
    failing: [(with, first k, slow_ms), ...], one html page each (never the start page). near_start:
    indexes into `failing` whose page the start page links to directly (so it is fetched early). star:
    the start page first links to every html page, site by site (a crawler that skips the limiter then
    sends a burst to one site at once). odd_links: groups of links that are no pages (mailto:, #top,
    javascript:), each group on a page of its own; head: extra <head> markup of one page."""
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
    # A spanning tree from the start page, so every page is reachable ...
    order = html[1:]
    rng.shuffle(order)
    reached = [html[0]]
    for p in order:
        parent = rng.choice(reached)
        site.hrefs[parent].append(_href(rng, base, parent, p))
        reached.append(p)
    # ... the leaves (404, 500, reset, JSON) linked from one or two pages ...
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
    victims = rng.sample(html[1:], len(failing or ()))
    for i, (spec, path) in enumerate(zip(failing or (), victims)):
        site.fail[path] = tuple(spec)
        if i in near_start:
            site.hrefs[html[0]].insert(0, path)
    specials = rng.sample(html, 2 + len(odd_links))
    site.offsite = ["/elsewhere/p0.html"]
    site.hrefs[specials[0]].append("http://localhost:%s/elsewhere/p0.html" % port)
    for page, links in zip(specials[1:], odd_links):
        site.hrefs[page] += list(links)
    site.head[specials[-1]] = head
    site.orphans = ["/s%d/orphan%d.html" % (rng.randrange(sites), k) for k in range(orphans)]
    return site.finish(list(latency))


def make_hub_site(base, hubs, leaves, latency=0, retries=None):
    """start -> `hubs` hub pages -> every one of the same `leaves` pages (-> start): many pages link
    to the same URLs at the same moment. No random draw: the workload and the judge each build it."""
    site = Site(base, "/s0/p0.html", retries)
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


def failing(p):
    """The `failing` list of make_site from an item's params (`failing`: [[with, pages, first k], ...],
    `slow_ms`)."""
    out = []
    for how, n, first in p.get("failing", []):
        out += [(how, first, p.get("slow_ms", 2000))] * n
    return out


def site_of(url):
    """The grader's notion of a site: the first path segment of a URL (/s0/..., /s1/...)."""
    return urlsplit(url).path.split("/")[1]


# --------------------------------------------------------------------------
# judgement side

def short_urls(urls, base, n=4):
    """The first `n` of the sorted URLs, each without `base`, and how many more: for a message."""
    urls = sorted(urls)
    text = ", ".join(u[len(base):] if u.startswith(base) else u for u in urls[:n])
    return text + (" and %d more" % (len(urls) - n) if len(urls) > n else "")


def expect_page_set(j, result, want, base, what, hint_scope, hint_set):
    """The crawl's result ({url: page}) has the pages of the expected crawl (`want`, from expected()):
    none on another host (hint_scope), none missing, none more (hint_set)."""
    extra, missing = set(result) - set(want), set(want) - set(result)
    offsite = [u for u in extra if urlsplit(u)[:2] != urlsplit(base)[:2]]
    j.expect(not offsite, "%s: the result has page(s) on another host: %s" % (what, short_urls(offsite, base)),
             hint=hint_scope)
    j.expect(not extra and not missing,
             "%s: the crawl reached the wrong set of pages: %d expected, %d returned; missing: %s; not "
             "expected: %s" % (what, len(want), len(result), short_urls(missing, base) or "none",
                               short_urls(extra, base) or "none"),
             hint=hint_set)
