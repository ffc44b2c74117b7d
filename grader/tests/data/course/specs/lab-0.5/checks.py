def fetch_all(ctx):
    student = ctx.student("student")
    n, latency = ctx.params["urls"], ctx.params["latency_ms"]
    routes = [{"path": "/u/%d" % i, "status": 200 + i, "latency_ms": latency} for i in range(n)]
    ctx.http.configure(routes + [{"path": "/flaky", "body": "ok", "fail": {"first": 1, "status": 503}}])
    urls = [ctx.http.url("/u/%d" % i) for i in range(n)]
    got = student.fetch_all(urls)
    ctx.expect_eq(got, [200 + i for i in range(n)], "statuses in the order of the URLs")
    seen = ctx.http.counts()
    ctx.expect(all(seen.get("/u/%d" % i) == 1 for i in range(n)), "each URL fetched once, the server saw %r" % seen)
    peak = ctx.http.max_concurrent()
    ctx.expect(peak >= n // 2, "the server saw at most %d request(s) in flight at once: the fetches are not concurrent"
               % peak, hint="start every request before waiting for any")
