"""Judgements for deliverable-2: threaded web crawler with rate limiting and retries (the workloads are
in checks.py). Runs outside the submission's process: the random sites are planned here from the run's
seed (grade_lib_site), the expected crawl and the requests each path must get are computed here, and every
verdict comes from what the workload recorded: crawl()'s result, stats(), the fixture server's own
request log, and the virtual times of a RateLimiter's wait() calls."""
from urllib.parse import urlsplit

from grade_lib_site import BASE, PORT, Site, expect_page_set, failing, make_hub_site, make_site, short_urls
from grade_lib_urls import base as _base, max_in_window as _max_in_window, path_counts, server_log, url_key as _key

HINT_SEEN = ("mark a URL as seen when you SUBMIT it, and let one thread (or one lock) decide 'not seen yet "
             "-> mark it -> submit' in one step")
HINT_SCOPE = "follow only links whose scheme and host:port are those of start_url"
HINT_RATE = ("wait on the site's RateLimiter before EVERY request, retries included: at most `rate` requests "
             "may start in any `per` seconds for one site_of(url)")
HINT_RETRY = ("retry a 5xx answer or a requests.RequestException (reset, timeout, broken body) up to "
              "`retries` times; never retry a 4xx; catch requests.RequestException, not only HTTP errors")
HINT_BACKOFF = "sleep backoff * 2 ** (k - 1) seconds before retry k (k = 1, 2, ...), outside any lock"


# ---------------------------------------------------------------------------------------------
# plans


def _site_plan(j, **kw):
    p = j.params
    args = dict(sites=p["sites"], per_site=p["per_site"], extra=p["extra"], latency=p["latency_ms"],
                retries=p["retries"])
    args.update(kw)
    return {"site": make_site(j.rng, BASE, PORT, **args).plan()}


def plan_site_exact(j):
    return _site_plan(j)


def plan_retries(j):
    p = j.params
    return _site_plan(j, errors=p["errors"], gone=p["gone"], broken=p["broken"], failing=failing(p))


def plan_backoff(j):
    p = j.params
    return _site_plan(j, errors=p["errors"], broken=p["broken"], failing=failing(p),
                      near_start=range(len(failing(p))))


def plan_timeouts(j):
    p = j.params
    return _site_plan(j, errors=0, broken=1, failing=[("timeout", 1, p["hold_ms"]), ("slow_body", 1, p["slow_ms"])],
                      near_start=(0, 1), star=True)


def plan_politeness_failures(j):
    p = j.params
    return _site_plan(j, errors=p["errors"], broken=p["broken"], failing=failing(p), star=True)


# ---------------------------------------------------------------------------------------------
# helpers


def _site(j):
    """The run's site: the planned one, or the hub site (no plan)."""
    if j.inputs is not None:
        return Site.load(j.inputs["site"], _base(j))
    return make_hub_site(_base(j), j.params["hubs"], j.params["leaves"], latency=0, retries=0)


def _p(url, base):
    return url[len(base):] if url.startswith(base) else url


def _result(j):
    """crawl()'s result as recorded: {url: page}, page a dict with the Page's fields it had."""
    got = j.obs["result"]
    j.expect("pages" in got, "crawl() returned %s, not a dict {url: Page}" % got.get("type"))
    pages = got["pages"]
    j.expect(isinstance(pages, list) and all(isinstance(pg, dict) and "url" in pg for pg in pages),
             "the run recorded crawl()'s result in an unexpected shape")
    return {_key(pg["url"]): pg for pg in pages}


def _requests(j):
    """The fixture server's log as recorded: [(path, start_ms, end_ms or None)], in the server's order."""
    return server_log(j, str_paths=True)


def _crawled(j):
    """(site, result, requests) of the run's crawl."""
    site = _site(j)
    result = _result(j)
    return site, result, _requests(j)


def _counts(reqs):
    return path_counts(path for path, _, _ in reqs)


def _gaps(path, reqs):
    """Milliseconds between successive requests to `path` (retries and their backoff)."""
    starts = sorted(start for p, start, _ in reqs if p == path)
    return [b - a for a, b in zip(starts, starts[1:])]


def _links_shown(links):
    return links["list"] if "list" in links else links["repr"]


def _expect_pages(j, result, site, what, attempts=True):
    """The crawl's result equals the expected one: URLs, final statuses, links (and attempts)."""
    want = site.expected()
    base = site.base
    expect_page_set(j, result, want, base, what, HINT_SCOPE,
                    hint_set="follow every http(s) <a href> of each final-200 HTML page on the same host, and record "
                             "every URL fetched, also 404s, 500s and pages that never answered")
    for url in sorted(want):
        status, links, tries = want[url]
        page = result[url]
        path = _p(url, base)
        got = page.get("status", "?")
        j.expect(got == status,
                 "%s: %s (it %s; retries=%d) should end with status %s, the Page says %r"
                 % (what, path, site.describe_fail(urlsplit(url).path), site.retries, status, got),
                 hint=HINT_RETRY)
        got_links = page.get("links", {"repr": "None"})
        j.expect("list" in got_links, "%s: Page(%s).links is %s, not a list" % (what, path, _links_shown(got_links)))
        got_links = [_key(u) for u in got_links["list"]]
        if set(got_links) != set(links):
            miss, more = set(links) - set(got_links), set(got_links) - set(links)
            j.fail("%s: the links of %s are wrong: missing %s; not expected %s"
                   % (what, path, short_urls(miss, base) or "none", short_urls(more, base) or "none"),
                   hint="links are the <a href> of a final-200 HTML page only, resolved against the page's "
                        "URL, fragment removed, http(s) only; [] for every other page")
        if status is None:
            err = page.get("error")
            j.expect(isinstance(err, str) and err, "%s: %s never answered, but its Page.error is %r: say "
                     "what went wrong" % (what, path, err))
        if attempts:
            got_tries = page.get("attempts")
            j.expect(got_tries == tries,
                     "%s: %s (it %s; retries=%d) needs %d request(s), but its Page.attempts is %r"
                     % (what, path, site.describe_fail(urlsplit(url).path), site.retries, tries, got_tries),
                     hint="count every request made for the URL, the first and each retry")


def _expect_requests(j, site, reqs, what):
    """From the server's log: each path requested exactly as often as its failures require."""
    want = site.expected()
    counts = _counts(reqs)
    off = sorted(p for p in counts if p.startswith("/elsewhere/"))
    j.expect(not off, "%s: the crawler fetched %s, reachable only through a link to another host"
             % (what, ", ".join(off)), hint=HINT_SCOPE)
    orphan = sorted(p for p in counts if p in site.orphans or p == "/s0/style.css")
    j.expect(not orphan, "%s: the crawler fetched %s, which no <a href> links to" % (what, ", ".join(orphan)))
    wrong = []
    for url, (_, _, tries) in want.items():
        path = urlsplit(url).path
        if counts.get(path, 0) != tries:
            wrong.append((path, counts.get(path, 0), tries))
    if wrong:
        wrong.sort(key=lambda w: (w[1] < w[2], w[0]))
        path, got, tries = wrong[0]
        j.fail("%s: the server got %d request(s) for %s, which %s; with retries=%d it needs exactly %d%s"
               % (what, got, path, site.describe_fail(path), site.retries, tries,
                  " (and %d more path(s) wrong)" % (len(wrong) - 1) if len(wrong) > 1 else ""),
               hint=HINT_SEEN if got > tries and site.fail.get(path) is None and site.kind.get(path) in (
                   "html", "json", "missing") else HINT_RETRY)


def _expect_stats(j, reqs, result, what):
    """stats() against the server's log (call after _expect_pages: the result is right)."""
    st = j.obs["stats"]
    j.expect("dict" in st, "stats() returned %s, not a dict" % st.get("repr"))
    st = st["dict"]
    total, pages = len(reqs), len(result)
    failed = sum(1 for pg in result.values() if pg["status"] is None or pg["status"] >= 500)
    want = {"requests": total, "retries": total - pages, "pages": pages, "failed": failed}
    got = {k: st.get(k) for k in want}
    j.expect(got == want,
             "%s: stats() says %r; the server saw %d requests for %d pages, so %r"
             % (what, got, total, pages, want),
             hint="count under a lock: `self.n += 1` from several threads loses updates")


# ---------------------------------------------------------------------------------------------
# completion_quality


def _limiter_unit(j):
    """RateLimiter alone, on a virtual clock: the times its wait() calls returned."""
    rate, per = j.params["unit_rate"], j.params["unit_per"]
    lim = j.obs["limiter"]
    t0, times = lim["t0"], lim["times"]
    j.expect(len(times) == 3 * rate + 1, "RateLimiter(%d, %s): %d wait() calls were made, %d recorded"
             % (rate, per, 3 * rate + 1, len(times)))
    slept = times[rate - 1] - t0
    j.expect(slept == 0, "RateLimiter(%d, %s): the first %d wait() calls slept %.3f s (virtual clock): "
             "they must return at once" % (rate, per, rate, slept),
             hint="only wait when `rate` requests already started in the last `per` seconds")
    for i in range(rate, len(times)):
        span = times[i] - times[i - rate]
        j.expect(span >= per - 1e-9, "RateLimiter(%d, %s): wait() calls %d and %d returned %.3f s apart "
                 "(virtual clock): %d calls within %s s" % (rate, per, i - rate + 1, i + 1, span, rate + 1, per),
                 hint="keep the start times of the last `rate` calls; a token bucket that starts full "
                      "allows a burst of `rate` plus the refill")
    for i in range(len(times)):
        due = (i // rate) * per          # the sliding window's answer for a burst: `rate` calls per `per` s
        j.expect(times[i] - t0 <= due + 0.05 * per,
                 "RateLimiter(%d, %s): a burst of %d wait() calls: call %d returned %.3f s after the first "
                 "(virtual clock); the window allowed it at %.3f s"
                 % (rate, per, len(times), i + 1, times[i] - t0, due),
                 hint="return as soon as fewer than `rate` calls returned in the last `per` seconds: sleep "
                      "until the oldest of them leaves the window, not a fixed per / rate")
    j.expect(abs(lim["idle_before"] - times[-1] - 2 * per) < 1e-6, "the limiter's idle spell was not recorded")
    idle = lim["idle_after"] - lim["idle_before"]
    j.expect(idle == 0, "RateLimiter(%d, %s): after %s s idle, wait() slept %.3f s: it must "
             "return at once" % (rate, per, 2 * per, idle))


def site_exact(j):
    site, result, reqs = _crawled(j)
    _expect_requests(j, site, reqs, "site crawl")
    _expect_pages(j, result, site, "site crawl")
    _expect_stats(j, reqs, result, "site crawl")


def retries(j):
    site, result, reqs = _crawled(j)
    _expect_requests(j, site, reqs, "crawl with failures")
    _expect_pages(j, result, site, "crawl with failures")
    _expect_stats(j, reqs, result, "crawl with failures")


def backoff(j):
    p = j.params
    b = p["backoff"]
    site, result, reqs = _crawled(j)
    checked = [path for path in site.fail] + [path for path, k in site.kind.items() if k == "error"]
    for path in checked:
        gaps = _gaps(path, reqs)
        for k, gap in enumerate(gaps):
            nominal = b * 2 ** k * 1000
            j.expect(gap >= 0.9 * nominal,
                     "backoff=%s: %s (it %s) was retried %.0f ms after attempt %d (server's clock); retry %d "
                     "must wait at least backoff * 2**%d = %.0f ms (all gaps: %s ms)"
                     % (b, path, site.describe_fail(path), gap, k + 1, k + 1, k, nominal,
                        ", ".join("%.0f" % g for g in gaps)), hint=HINT_BACKOFF)
            j.expect(gap <= 2.5 * nominal + p["slack_ms"],
                     "backoff=%s: %s was retried only %.0f ms after attempt %d; retry %d should come about "
                     "backoff * 2**%d = %.0f ms later (all gaps: %s ms)"
                     % (b, path, gap, k + 1, k + 1, k, nominal, ", ".join("%.0f" % g for g in gaps)),
                     hint=HINT_BACKOFF)
    _expect_requests(j, site, reqs, "crawl with retries")
    _expect_pages(j, result, site, "crawl with retries")


def timeouts(j):
    p = j.params
    hold, slow = p["hold_ms"], p["slow_ms"]
    site, result, reqs = _crawled(j)
    held = [path for path, f in site.fail.items() if f[0] == "timeout"][0]
    trickled = [path for path, f in site.fail.items() if f[0] == "slow_body"][0]
    gaps = _gaps(held, reqs)
    j.expect(len(gaps) >= 1, "%s did not answer its first request; it was never requested again (%d request)"
             % (held, len(gaps) + 1), hint=HINT_RETRY)
    j.expect(gaps[0] < hold * p["hold_fraction"],
             "timeout=%s s: %s did not answer its first request, and the retry came %.0f ms later (server's "
             "clock), after the server gave up holding it (%d ms): the request had no timeout"
             % (p["timeout"], held, gaps[0], hold),
             hint="pass timeout=self.timeout to every requests call (requests waits forever by default)")
    slow_reqs = [r for r in reqs if r[0] == trickled]
    j.expect(slow_reqs, "%s was never requested" % trickled)
    _, slow_start, slow_end = slow_reqs[0]
    j.expect(slow_end is not None, "%s: the body of the slow answer was never read to the end" % trickled)
    lo, hi = slow_start + 0.05 * slow, slow_end - 0.05 * slow
    during = [r for r in reqs if lo <= r[1] <= hi and r[0] != trickled]
    j.expect(len(during) >= p["min_during"],
             "while %s trickled its body in (%.0f ms), only %d other request(s) started: the other workers "
             "waited for it" % (trickled, slow_end - slow_start, len(during)),
             hint="hold no lock during a request: a slow page must only occupy its own worker")
    _expect_requests(j, site, reqs, "crawl with a timeout and a slow body")
    _expect_pages(j, result, site, "crawl with a timeout and a slow body")


def politeness_failures(j):
    p = j.params
    _limiter_unit(j)
    rate, per = p["rate"], p["per"]
    site, result, reqs = _crawled(j)
    window = per * 1000 * p["slack"]
    n, key, at = _max_in_window(reqs, window)
    retried = sum(1 for c in _counts(reqs).values() if c > 1)
    j.expect(n <= rate, "politeness under failures: %d requests to site /%s/ started within %.0f ms (at %.0f ms, "
             "server's clock); the limit is %d per %.0f ms per site, retries included (%d requests in all, "
             "%d URLs retried)" % (n, key, window, at, rate, per * 1000, len(reqs), retried), hint=HINT_RATE)
    _expect_requests(j, site, reqs, "rate-limited crawl with failures")
    _expect_pages(j, result, site, "rate-limited crawl with failures")


# ---------------------------------------------------------------------------------------------
# problem_solving


def visited_race(j):
    p = j.params
    site, result, reqs = _crawled(j)
    counts = _counts(reqs)
    twice = sorted((q for q, c in counts.items() if c > 1), key=lambda q: -counts[q])
    j.expect(not twice, "%d workers, %d pages each listing the same %d links, forced thread switches: %d URL(s) "
             "were fetched more than once (the server saw %s)"
             % (p["workers"], p["hubs"], p["leaves"], len(twice),
                ", ".join("%s %d times" % (q, counts[q]) for q in twice[:4])), hint=HINT_SEEN)
    _expect_pages(j, result, site, "hub site")
    _expect_stats(j, reqs, result, "hub site, forced thread switches")
