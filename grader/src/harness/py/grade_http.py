"""The check's side of the grader's fixture HTTP server (ctx.http): steer it, read what it saw.

Every request the server answered is a dict: id, connection, method, path, query, headers, body_bytes,
start_ms, end_ms (None while in flight), status (None when it got no answer) and injected ("none", "status",
"reset", "timeout", "slow_body", or "abandoned" when the client went away first). Times are milliseconds
since the last reset, on the server's clock.
"""
import json
import urllib.request

from grade_oracles import max_in_flight, max_in_window


class HttpFixture:
    def __init__(self, base, control):
        self.base = base
        self._control = base + control

    def url(self, path="/"):
        return self.base + path

    def _call(self, method, what, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self._control + "/" + what, data=data, method=method,
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read().decode())
        except urllib.error.HTTPError as exc:
            raise ValueError("the fixture server refused %s %s: %s" % (method, what, exc.read().decode()))

    def configure(self, routes):
        """Replaces the routes (a list of route dicts, as in a spec's `http: routes:`) and resets."""
        self._call("PUT", "routes", {"routes": routes})

    def reset(self):
        """Forgets the requests seen, restarts the route counters, the seeded draws and the clock."""
        self._call("POST", "reset")

    def requests(self, prefix=None):
        reqs = self._call("GET", "requests")["requests"]
        return [r for r in reqs if prefix is None or r["path"].startswith(prefix)]

    # -- measurements over a list of requests (default: all of them) --------------------------------
    def _reqs(self, reqs):
        return self.requests() if reqs is None else reqs

    def max_concurrent(self, reqs=None):
        """The most requests in flight at once (arrival to answer), as the server saw them."""
        return max_in_flight((r["start_ms"], r["end_ms"]) for r in self._reqs(reqs))

    def max_in_window(self, window_ms, reqs=None, key=None):
        """The most requests that started within any `window_ms` (per key(request) when given):
        (count, key, first start_ms of that window)."""
        return max_in_window(((key(r) if key else None, r["start_ms"]) for r in self._reqs(reqs)), window_ms)

    def counts(self, reqs=None):
        """How many times each path was requested."""
        out = {}
        for r in self._reqs(reqs):
            out[r["path"]] = out.get(r["path"], 0) + 1
        return out

    def gaps(self, path, reqs=None):
        """Milliseconds between successive requests to `path` (retries and their backoff)."""
        starts = sorted(r["start_ms"] for r in self._reqs(reqs) if r["path"] == path)
        return [b - a for a, b in zip(starts, starts[1:])]
