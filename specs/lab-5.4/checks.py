"""Workloads for lab-5.4: an asynchronous web scraper with rate limiting (aiohttp). Each records what the
student's code did; judge.py, which the submission never sees, plans each run's site and gives the verdicts.

The student's API is the docstring of starter/lab-5.4/scraper.py: RateLimiter(rate, per) with acquire(),
Page(url, status, links) and scrape(start_url, rate, per, max_concurrent, max_pages, request_timeout).

Every page is a route of the grader's own HTTP server (ctx.http): a site planned per run by the judge, whose
pages link to each other in every form a page can (relative, root-relative, absolute, with a fragment,
twice), to pages that do not exist, to a page whose connection is reset, to one that never answers, and
off the site. The plan names the site's absolute address with a stand-in (ctx.inputs["base"]); the
workload serves it as the server's real address, and records every URL the student's code returned with
the real address written back as the stand-in. The rate, the concurrency bound and what happens after a
cancellation are recorded from the server's side. Every call of the student's code goes through
ctx.run_async, so a blocking call in a coroutine, a never-awaited coroutine, an unretrieved task exception
or a task left pending fails the item with the student's line.

Standard library only.
"""
import asyncio
import time

from grade_lib_student import student_module

# A step of a coroutine that runs longer than this without yielding is a blocking call (run_async's
# slow_ms). Above run_async's default of 100 ms: on a loaded machine a debug-mode step that starts a
# dozen tasks has taken over 100 ms. A time.sleep-based limiter blocks for `per` (0.3 s in `limiter`).
SLOW_MS = 200


def _module(ctx):
    return student_module(ctx, "scraper", ("RateLimiter", "Page", "scrape"))


# -- the planned site, served -------------------------------------------------------------------------------

class Site:
    """The judge's plan (ctx.inputs) served by the fixture server: every page's hrefs in document order,
    the stand-in address written as the server's own, and the failing pages (404, reset, held)."""

    def __init__(self, ctx, latency_ms, hold_ms=3000):
        plan = ctx.inputs
        self.base, self.stand_in = ctx.http.base, plan["base"]
        ctx.observe("base", self.base)  # for the judge's messages only
        self.start_url = self.base + plan["paths"][0]
        self.routes = []
        for i, (path, hrefs) in enumerate(zip(plan["paths"], plan["hrefs"])):
            hrefs = [self.base + h[len(self.stand_in):] if h.startswith(self.stand_in) else h for h in hrefs]
            self.routes.append({"path": path, "body": _html(ctx.rng, i, hrefs), "latency_ms": latency_ms})
        for path, kind in plan["failing"].items():
            if kind == "missing":
                self.routes.append({"path": path, "status": 404, "body": "not found", "latency_ms": latency_ms})
            elif kind == "broken":
                self.routes.append({"path": path, "fail": {"with": "reset"}})
            else:
                self.routes.append({"path": path, "fail": {"with": "timeout", "slow_ms": hold_ms}})

    def as_planned(self, url):
        """A URL the student's code returned, with the server's address written as the plan's stand-in."""
        if isinstance(url, str) and url.startswith(self.base) and url[len(self.base):][:1] in ("", "/", "?", "#"):
            return self.stand_in + url[len(self.base):]
        return url


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
    return box["pages"], box["wall"]


def _key(site, key):
    return site.as_planned(key) if isinstance(key, str) else repr(key)


def _observe_keys(ctx, name, site, pages):
    """The URLs scrape() returned (its dict's keys)."""
    is_dict = isinstance(pages, dict)
    ctx.observe(name, {"is_dict": is_dict, "type": type(pages).__name__,
                       "keys": [_key(site, k) for k in pages] if is_dict else None})


def _observe_pages(ctx, name, site, pages):
    """Every page scrape() returned: its key, the attributes it lacks, its url, status and links."""
    is_dict = isinstance(pages, dict)
    records = []
    for key, page in (pages.items() if is_dict else ()):
        lacks = [a for a in ("url", "status", "links") if not hasattr(page, a)]
        rec = {"lacks": lacks, "url": None, "status": None, "links": None}
        if not lacks:
            links = page.links
            rec["url"], rec["status"] = site.as_planned(page.url), page.status
            rec["links"] = [site.as_planned(u) for u in links] if links is not None else None
        records.append([_key(site, key), rec])
    ctx.observe(name, {"is_dict": is_dict, "type": type(pages).__name__, "pages": records})


def _where(findings):
    return "; ".join("%s at %s:%d in %s" % (f.get("name") or f.get("message", "task"), f["file"], f["line"],
                                            f["function"]) if f.get("file") else (f.get("name") or f.get("message"))
                     for f in findings[:2])


# -- items ------------------------------------------------------------------------------------------------

def _limiter_part(ctx, mod, p):
    """RateLimiter alone: the times at which concurrent callers got through (on the loop's clock)."""
    refused = []
    for bad in ((0, 1.0), (3, 0)):
        try:
            mod.RateLimiter(*bad)
        except ValueError:
            refused.append("ValueError")
        else:
            refused.append("none")
    ctx.observe("invalid", refused)
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
    ctx.observe("limiter_times", box["times"])


def scrape_correct(ctx):
    """A full crawl (every page with its status and links, and what the server was asked for); then the
    same site with max_pages."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["latency_ms"], hold_ms=p["hold_ms"])
    ctx.http.configure(site.routes)
    kw = dict(rate=p["rate"], per=p["per"], max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
              request_timeout=p["request_timeout"])
    # tasks left running or failing unawaited are judged after the pages were counted, so that a crawl that
    # returned too early is named as such: recorded here, judged there
    pages, _ = _scrape(ctx, mod, site, p["timeout"], allow=("pending", "unretrieved"), **kw)
    found = ctx.last_async
    ctx.observe("early", {"pending": len(found.pending), "pending_where": _where(found.pending),
                          "unretrieved": len(found.unretrieved), "unretrieved_where": _where(found.unretrieved)})
    _observe_pages(ctx, "pages", site, pages)
    ctx.observe("requested", [r["path"] for r in ctx.http.requests()])
    found = ctx.last_async.first_failure(set())
    ctx.observe("found", list(found[:2]) if found else None)
    if found:
        return  # the judge fails the run on it

    # max_pages
    ctx.http.configure(site.routes)
    kw["max_pages"] = p["small_max_pages"]
    pages, _ = _scrape(ctx, mod, site, p["timeout"], **kw)
    _observe_keys(ctx, "small_pages", site, pages)
    ctx.observe("small_requested", [r["path"] for r in ctx.http.requests()])


def rate_held(ctx):
    """RateLimiter alone (on the loop's clock), then a crawl: when each request reached the server."""
    mod = _module(ctx)
    p = ctx.params
    _limiter_part(ctx, mod, p["limiter"])
    site = Site(ctx, p["latency_ms"])
    ctx.http.configure(site.routes)
    pages, _ = _scrape(ctx, mod, site, p["timeout"], rate=p["rate"], per=p["per"],
                       max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
                       request_timeout=p["request_timeout"])
    _observe_keys(ctx, "pages", site, pages)
    ctx.observe("starts_ms", [r["start_ms"] for r in ctx.http.requests()])


def concurrency_bound(ctx):
    """A crawl: when each request arrived at the server and when it was answered."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["latency_ms"])
    ctx.http.configure(site.routes)
    pages, _ = _scrape(ctx, mod, site, p["timeout"], rate=p["rate"], per=p["per"],
                       max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
                       request_timeout=p["request_timeout"])
    _observe_keys(ctx, "pages", site, pages)
    ctx.observe("spans_ms", [[r["start_ms"], r["end_ms"]] for r in ctx.http.requests()])


def cancellation(ctx):
    """Cancel the task running scrape() mid-crawl: how it ended, what kept running, what reached the server
    afterwards."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["latency_ms"])
    ctx.http.configure(site.routes)
    box = {"early": False, "stuck": False}

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
        done, _ = await asyncio.wait({task}, timeout=p["grace_s"])
        if not done:
            box["stuck"] = True
            box["outcome"] = "was still running"
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
    ctx.observe("early", box["early"])
    if box["early"]:
        return
    for name in ("stuck", "outcome", "left", "names", "after"):
        ctx.observe(name, box[name])
    found = ctx.last_async.first_failure(set())
    ctx.observe("found", list(found[:2]) if found else None)


def _names(ctx, tasks):
    import grade_async
    infos = [grade_async.task_info(t, ctx.root + "/") for t in tasks[:3]]
    return "; ".join("%s at %s:%d in %s%s" % (i["name"], i["file"], i["line"], i["function"],
                                              " waiting in " + i["waiting_for"] if i["waiting_for"] else "")
                     for i in infos) or "-"


def speed(ctx):
    """A rate-bound crawl: how long it took."""
    mod = _module(ctx)
    p = ctx.params
    site = Site(ctx, p["latency_ms"])
    ctx.http.configure(site.routes)
    pages, wall = _scrape(ctx, mod, site, p["timeout"], rate=p["rate"], per=p["per"],
                          max_concurrent=p["max_concurrent"], max_pages=p["max_pages"],
                          request_timeout=p["request_timeout"])
    _observe_keys(ctx, "pages", site, pages)
    ctx.observe("wall", wall)
