"""Workloads for deliverable-3: a threaded chat server with rooms over TCP (API: the starter's docstrings).
Each records what the server did; judge.py, which the submission never sees, gives the verdicts.

Every workload talks to the student's server over real sockets on 127.0.0.1 through `_Peer`, a test
client whose every receive has a timeout: a server that hangs makes a read come back empty, never hang.
What the clients see goes, in order, into one log (`events`, an observation): each line a client read
(or None: nothing arrived, or the connection closed), the server threads that died (caught with
threading.excepthook, named with their exception and the student's file:line), and what the workload
measured (stop()'s duration, threads left, end-of-file, ...). The judge walks the log with the script's
expected lines and names the first thing that went wrong, as a client saw it.

A read that comes back empty ends the scenario (the rest would only wait for more timeouts); so does
the grader's side being unable to go on (a refused connection, a failed send, start() or stop() not
returning): that is logged as an `abort` event, and the judge reports it where it happened. Standard
library only.
"""
import os
import select
import selectors
import socket
import threading
import time
import traceback

MODULE = "chat_server"
HOST = "127.0.0.1"


# -- the record ---------------------------------------------------------------------------------

class _Stop(Exception):
    """Ends a scenario: the log so far goes to the judge."""


class _Log:
    """What the clients saw, in order, from every thread: [t_ms, kind, ...] events."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.events = []

    def add(self, kind, *fields):
        self.events.append([round((time.monotonic() - self.t0) * 1000.0, 1), kind] + list(fields))

    def abort(self, message, hint=None):
        """The grader's side cannot go on: logged for the judge, and the scenario ends."""
        self.add("abort", message, hint)
        raise _Stop()


class _Recording:
    """`with _Recording(ctx) as log:` around a scenario: a _Stop ends it quietly, and the log is
    recorded as the observation `events` however the scenario ended."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.log = _Log()

    def __enter__(self):
        return self.log

    def __exit__(self, exc_type, exc, tb):
        self.ctx.observe("events", self.log.events)
        return exc_type is not None and issubclass(exc_type, _Stop)


# -- the grader's side of the wire --------------------------------------------------------------

class _Peer:
    """A test client: a blocking socket with a timeout on every call and its own line buffer."""

    def __init__(self, log, port, name, timeout, rcvbuf=None):
        self.log = log
        self.name = name
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((HOST, port))
        except OSError as exc:
            self.sock.close()
            log.abort("client %s could not connect to %s:%d: %s" % (name, HOST, port, exc),
                      hint="start() must be listening when it returns the port")

    def send(self, text):
        self.send_raw((text + "\n").encode("utf-8"))

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.log.abort("client %s could not send %r: %s (did the server close the connection?)" % (
                self.name, data[:60], exc))

    def line(self, timeout=None):
        """The next line (without its newline), or None after `timeout` seconds or at end-of-file."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                return None
            try:
                # Wait with select(), not settimeout(): another thread may be sending on this socket
                # with its own timeout.
                if not select.select([self.sock], [], [], min(left, 0.25))[0]:
                    continue
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ValueError):
                self.eof = True
                return None
            if not data:
                self.eof = True
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.decode("utf-8", "replace")

    def read(self, timeout=None):
        """The next line, logged as a `read` event (the judge knows which line the script expects
        here); nothing within the timeout, or end-of-file, ends the scenario."""
        timeout = self.timeout if timeout is None else timeout
        got = self.line(timeout)
        self.log.add("read", self.name, got, self.eof, timeout)
        if got is None:
            raise _Stop()
        return got

    def command(self, text):
        self.send(text)
        return self.read()

    def wait_eof(self, timeout):
        """Reads and discards until end-of-file; returns (eof reached, lines read)."""
        deadline = time.monotonic() + timeout
        n = 0
        while time.monotonic() < deadline:
            if self.line(deadline - time.monotonic()) is None:
                if self.eof:
                    return True, n
            else:
                n += 1
        return self.eof, n

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _location(tb, root):
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        fn = frame.f_code.co_filename
        if fn.startswith(root):
            found = "%s:%d in %s" % (os.path.relpath(fn, root), lineno, frame.f_code.co_name)
    return found


def _call(log, fn, timeout, what):
    """Runs fn() in a helper thread; logs an abort if it does not return in time. The student's
    exception is raised here (it fails the run, with its line)."""
    box = {}

    def body():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B036 - re-raised in the check's thread
            box["error"] = exc
    t = threading.Thread(target=body, name="grade-call", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        log.abort("%s did not return within %.1f s" % (what, timeout),
                  hint="a thread waiting in accept() or recv() is only woken by shutdown() of its socket")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class _Server:
    """The student's server under test: started on a free port, watched for crashed threads (each a
    `crash` event until the teardown begins), always torn down (peers closed first, then stop() with a
    timeout) whatever the scenario's outcome."""

    def __init__(self, ctx, log, **kwargs):
        self.ctx = ctx
        self.log = log
        self.kwargs = kwargs
        self.peers = []
        self.errors = []
        self.closing = False
        self.stopped = False
        self.server = None

    def __enter__(self):
        ctx = self.ctx
        mod = ctx.student(MODULE)
        ctx.expect(hasattr(mod, "ChatServer"), "chat_server.py has no class ChatServer",
                   hint="keep the starter's names")
        self._prev_hook = threading.excepthook
        root = os.path.realpath(ctx.root) + os.sep

        def hook(args):
            if args.exc_type is SystemExit or self.closing:
                return
            where = _location(args.exc_traceback, root)
            text = "%s raised %s: %s%s" % (
                args.thread.name if args.thread else "a thread", args.exc_type.__name__, args.exc_value,
                " (at %s)" % where if where else "")
            self.errors.append(text)
            self.log.add("crash", text)
        threading.excepthook = hook
        self.before = set(threading.enumerate())
        try:
            self.server = mod.ChatServer(HOST, 0, **self.kwargs)
            port = _call(self.log, self.server.start, ctx.params["start_timeout"], "start()")
            self.log.add("start", port)
            if not (isinstance(port, int) and 0 < port < 65536):
                raise _Stop()       # the judge names the value start() returned
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.port = port
        return self

    def connect(self, name, rcvbuf=None, timeout=None):
        p = _Peer(self.log, self.port, name, timeout or self.ctx.params["line_timeout"], rcvbuf)
        self.peers.append(p)
        return p

    def client(self, nick, room=None):
        """A connected peer that has set its nick and joined `room` (two `read` events: the replies)."""
        p = self.connect(nick)
        p.command("NICK %s" % nick)
        if room:
            p.command("JOIN %s" % room)
        return p

    def server_threads(self):
        return sorted(t.name for t in threading.enumerate()
                      if t not in self.before and t.is_alive() and not t.name.startswith("grade-"))

    def stop(self, timeout):
        self.stopped = True
        _call(self.log, self.server.stop, timeout, "stop()")

    def crashed(self):
        if self.errors:
            extra = " (and %d more)" % (len(self.errors) - 1) if len(self.errors) > 1 else ""
            return "a server thread died: %s%s" % (self.errors[0], extra)
        return None

    def __exit__(self, exc_type, exc, tb):
        # Only what went wrong before the teardown counts: a crash while clients hang up at the end
        # would be seen or not depending on timing. The `closed` event tells the judge where that is;
        # a failure of the run itself (below) names the crashes too.
        self.closing = True
        self.log.add("closed")
        crashed = self.crashed()
        for p in self.peers:
            p.close()
        try:
            if not self.stopped and self.server is not None:
                self.stopped = True
                t = threading.Thread(target=self._quiet_stop, name="grade-teardown", daemon=True)
                t.start()
                t.join(self.ctx.params["stop_timeout"])
        finally:
            threading.excepthook = self._prev_hook
        if crashed and isinstance(exc, self.ctx.CheckFailed) and crashed not in exc.message:
            exc.message = "%s; then: %s" % (crashed, exc.message)
        return False

    def _quiet_stop(self):
        try:
            self.server.stop()
        except Exception:
            pass


def _collect(peer, expected, timeout):
    """Reads until `expected` lines arrived, logging each as a `line` event (client, line, eof); at the
    deadline or end-of-file, a `line` event with None ends the scenario."""
    n = 0
    deadline = time.monotonic() + timeout
    while n < expected:
        left = deadline - time.monotonic()
        line = peer.line(min(left, 0.3)) if left > 0 else None
        if line is None:
            if peer.eof or left <= 0:
                peer.log.add("line", peer.name, None, peer.eof)
                raise _Stop()
            continue
        peer.log.add("line", peer.name, line, peer.eof)
        n += 1
    return n


def _quietly(fn):
    """A thread target whose _Stop ends only that thread (the log has why)."""
    def run():
        try:
            fn()
        except _Stop:
            pass
    return run


# -- completion ---------------------------------------------------------------------------------

BAD_COMMANDS = ("MSG nobody hears this", "LEAVE", "FLY away", "JOIN", "JOIN two words", "NICK", "JOIN " + "r" * 33)


def protocol_basics(ctx):
    """NICK, JOIN, MSG and LEAVE with their replies, refusals, default nicks, CRLF and blank lines."""
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        a = srv.client("alice", "lobby")
        b = srv.client("bob", "lobby")
        a.send("MSG hello there, bob")
        a.read()
        b.read()
        b.send("MSG hi alice")
        b.read()
        a.read()

        c = srv.connect("c")
        for bad in BAD_COMMANDS:
            c.send(bad)
            c.read()
        c.command("JOIN lobby")
        c.send("MSG from a guest")
        for p in (a, b, c):
            p.read()
        d = srv.connect("d")
        d.command("JOIN lobby")
        d.send("MSG another guest")
        for p in (a, b, c, d):
            p.read()

        a.command("NICK alicia")
        a.send("MSG renamed")
        for p in (a, b, c, d):
            p.read()
        b.send_raw(b"\n\r\nMSG crlf line\r\n")
        for p in (a, b):
            p.read()
        a.command("LEAVE")
        a.command("JOIN lobby")


def room_isolation(ctx):
    """Three rooms talking at once: what each client received."""
    rooms, per_room, msgs = ctx.params["rooms"], ctx.params["per_room"], ctx.params["messages"]
    timeout = ctx.params["deadline"]
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        members = {}
        for r in range(rooms):
            for k in range(per_room):
                members.setdefault("room%d" % r, []).append(srv.client("u%d_%d" % (r, k), "room%d" % r))
        for k in range(msgs):
            for room, peers in members.items():
                for p in peers:
                    p.send("MSG %s says %d" % (p.name, k))
        for room, peers in members.items():
            peers[0].send("MSG end of %s" % room)
        for room, peers in members.items():
            for p in peers:
                _collect(p, msgs * len(peers) + 1, timeout)


UTF8_TEXT = "h\u00e9llo w\u00f6rld \u2713"


def line_framing(ctx):
    """Commands split over several TCP sends, merged into one, a UTF-8 character cut in two, a long line."""
    pause = ctx.params["pause"]
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        a = srv.client("a", "frames")
        b = srv.client("b", "frames")

        def sent(pieces, lines, gap=pause):
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(gap)
                a.send_raw(piece)
            for _ in range(lines):
                for p in (b, a):
                    p.read()

        sent([b"MSG hel", b"lo wor", b"ld\n"], 1)
        sent([b"MSG one\nMSG two\nMSG three\n"], 3)
        sent([b"MSG four\nMSG fi", b"ve\nMSG six\n"], 3)
        data = ("MSG " + UTF8_TEXT + "\n").encode("utf-8")
        cut = data.index("\u2713".encode("utf-8")) + 1
        sent([data[:cut], data[cut:]], 1)
        sent([bytes([ch]) for ch in b"MSG slow\n"], 1, gap=pause / 5)
        long_text = "".join(chr(0x61 + i % 26) for i in range(ctx.params["long_line"]))
        a.send("MSG " + long_text)
        for p in (b, a):
            p.read()


def join_leave(ctx):
    """LEAVE stops delivery at once, JOIN moves between rooms, a vanished client is dropped cleanly."""
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        a = srv.client("a", "r1")
        b = srv.client("b", "r1")
        c = srv.client("c", "r1")
        a.command("LEAVE")
        b.send("MSG after a left")
        for p in (b, c):
            p.read()
        a.command("JOIN r2")
        c.command("JOIN r2")                              # moves c from r1 to r2
        b.send("MSG only b hears this")
        b.read()
        a.send("MSG hello r2")
        for p in (a, c):
            p.read()
        a.command("JOIN r1")                              # back to r1
        b.send("MSG welcome back")
        for p in (a, b):
            p.read()

        # A client that vanishes: one closes normally, one resets the connection, one mid-line.
        gone = [srv.client("gone%d" % i, "r1") for i in range(3)]
        gone[0].close()
        gone[1].sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        gone[1].close()
        gone[2].send_raw(b"MSG never fini")
        gone[2].close()
        for k in range(ctx.params["after_gone"]):
            b.send("MSG still here %d" % k)
            for p in (a, b):
                p.read()
        d = srv.client("d", "r1")
        b.send("MSG hi d")
        for p in (a, b, d):
            p.read()


def many_clients(ctx):
    """Many clients in several rooms send at once; each reads as many lines as its room sends."""
    n, rooms, msgs = ctx.params["clients"], ctx.params["rooms"], ctx.params["messages"]
    deadline = ctx.params["deadline"]
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        peers = [srv.client("c%d" % i, "room%d" % (i % rooms)) for i in range(n)]
        size = {r: sum(1 for i in range(n) if i % rooms == r) for r in range(rooms)}

        def talk(i, p):
            for k in range(msgs):
                p.send("MSG %s#%d" % (p.name, k))
            _collect(p, msgs * size[i % rooms], deadline)
        log.add("phase", "talk")
        ctx.run_threads([_quietly(lambda i=i, p=p: talk(i, p)) for i, p in enumerate(peers)],
                        timeout=deadline + 5, names=["grade-client-%s" % p.name for p in peers])
        log.add("phase", "done")


def clean_stop(ctx):
    """stop() with clients connected, idle, mid-line and mid-conversation: how long it took, the threads
    left, end-of-file at each client, the port; stop() twice; and a server that never had a client,
    started and stopped twice in a row."""
    stop_timeout = ctx.params["stop_timeout"]
    with _Recording(ctx) as log:
        with _Server(ctx, log) as srv:
            a = srv.client("a", "room")
            b = srv.client("b", "room")
            srv.connect("idle")                       # connected, never sent anything
            half = srv.connect("half")
            half.send_raw(b"MSG half a li")           # mid-line when the server stops
            for k in range(3):
                a.send("MSG before stop %d" % k)
            b.read()
            port = srv.port
            threads_running = srv.server_threads()
            t0 = time.monotonic()
            srv.stop(stop_timeout)
            took = time.monotonic() - t0
            log.add("stopped", took, len(threads_running), srv.server_threads())
            for p in srv.peers:
                eof, _ = p.wait_eof(ctx.params["eof_timeout"])
                log.add("eof", p.name, eof)
                if not eof:
                    raise _Stop()           # the others would only wait as long
            probe = socket.socket()
            probe.settimeout(2)
            try:
                probe.connect((HOST, port))
            except OSError:
                log.add("port", port, "refused")
            else:
                log.add("port", port, "accepted")
            finally:
                probe.close()
            _call(log, srv.server.stop, stop_timeout, "a second stop()")
            log.add("stopped_again")
        for i in range(2):
            with _Server(ctx, log) as srv2:
                srv2.stop(stop_timeout)
                log.add("idle_stopped", srv2.server_threads())


# -- problem solving ----------------------------------------------------------------------------

def membership_churn(ctx):
    """Clients join and leave a room over and over while its members talk (ping-pong: each member
    waits for the echo of its message before sending the next); every line each one got is logged,
    and each churner's commands with the lines around them."""
    members_n, churners_n = ctx.params["members"], ctx.params["churners"]
    msgs, max_cycles, deadline = ctx.params["messages"], ctx.params["max_cycles"], ctx.params["deadline"]
    with _Recording(ctx) as log, _Server(ctx, log) as srv:
        members = [srv.client("m%d" % i, "hub") for i in range(members_n)]
        churners = [srv.client("x%d" % i) for i in range(churners_n)]
        done = threading.Event()
        abort = threading.Event()
        got = {p.name: 0 for p in members}

        def member(p):
            try:
                for k in range(msgs):
                    p.send("MSG %s#%d" % (p.name, k))
                    echo = "hub %s: %s#%d" % (p.name, p.name, k)
                    while True:                           # ping-pong: wait for our own echo
                        if srv.errors:
                            log.add("gave_up", p.name)
                            raise _Stop()
                        line = p.line(deadline)
                        log.add("line", p.name, line, p.eof)
                        if line is None:
                            raise _Stop()
                        got[p.name] += 1
                        if line == echo:
                            break
            except _Stop:
                abort.set()
                raise

        def churner(p):
            n = 0
            while not done.is_set() and not abort.is_set() and n < max_cycles:
                nick = "NICK %s_%d" % (p.name, n)   # its reply comes after anything queued before it
                for cmd, want in (("JOIN hub", "OK JOIN hub"), ("JOIN side", "OK JOIN side"), (nick, "OK " + nick),
                                  ("JOIN hub", "OK JOIN hub"), ("LEAVE", "OK LEAVE hub"), (nick, "OK " + nick)):
                    p.send(cmd)
                    log.add("sent", p.name, cmd)
                    while True:
                        line = p.line(deadline)
                        log.add("line", p.name, line, p.eof)
                        if line is None:
                            raise _Stop()
                        if line == want:
                            break
                n += 1
            log.add("cycles", p.name, n)

        def members_then_done():
            try:
                ctx.run_threads([_quietly(lambda p=p: member(p)) for p in members], timeout=deadline * msgs,
                                names=["grade-member-%s" % p.name for p in members])
            finally:
                done.set()
        log.add("phase", "churn")
        ctx.run_threads([members_then_done] + [_quietly(lambda p=p: churner(p)) for p in churners],
                        timeout=deadline * msgs + 5,
                        names=["grade-members"] + ["grade-churner-%s" % p.name for p in churners])
        log.add("phase", "after")
        if srv.errors or abort.is_set():
            raise _Stop()               # the judge reports what went wrong
        for p in members:
            # Lines that arrived after p's last echo are still in flight: read them now.
            rest = len(members) * msgs - got[p.name]
            if rest > 0:
                _collect(p, rest, deadline)


def _flood(srv, params):
    """S joins `busy` with a tiny receive buffer and never reads; A floods `busy`, A and B read.
    Returns (peers, threads, out): the sender's outcome and each reader's lines (`lines_a`, `lines_b`:
    [t_ms, first 60 characters, length] each; `done_a`, `done_b` once a reader finished)."""
    log = srv.log
    n, size = params["flood_messages"], params["flood_bytes"]
    s = srv.connect("slow", rcvbuf=4096)
    s.command("NICK slow")
    s.command("JOIN busy")
    a, b = srv.client("a", "busy"), srv.client("b", "busy")
    c, d = srv.client("c", "calm"), srv.client("d", "calm")
    pad = "x" * size
    out = {"progress": time.monotonic(), "lines_a": [], "lines_b": []}

    def sender():
        try:
            a.sock.settimeout(params["flood_deadline"])
            for k in range(n):
                a.sock.sendall(("MSG a#%d %s\n" % (k, pad)).encode())
            out["sent"] = n
        except OSError as exc:
            out["send_error"] = "%s: %s" % (type(exc).__name__, exc)

    def reader(p):
        lines, deadline = out["lines_" + p.name], time.monotonic() + params["flood_deadline"]
        while len(lines) < n and time.monotonic() < deadline:
            line = p.line(min(0.3, max(0.0, deadline - time.monotonic())))
            if line is None:
                if p.eof or time.monotonic() - out["progress"] > params["stall"]:
                    break
                continue
            lines.append([round((time.monotonic() - log.t0) * 1000.0, 1), line[:60], len(line)])
            out["progress"] = time.monotonic()
        out["done_" + p.name] = True
    threads = [threading.Thread(target=fn, name="grade-" + nm, daemon=True)
               for fn, nm in ((sender, "flood"), (lambda: reader(a), "read-a"), (lambda: reader(b), "read-b"))]
    for t in threads:
        t.start()
    return (s, a, b, c, d), threads, out


def _wait_flood(threads, out, params, readers=False):
    """Until the sender (and, with `readers`, the readers too) finished, or nothing arrived for
    `stall` seconds, or the flood's deadline passed."""
    deadline = time.monotonic() + params["flood_deadline"]
    waiting = threads if readers else threads[:1]
    while any(t.is_alive() for t in waiting) and time.monotonic() < deadline:
        if time.monotonic() - out["progress"] > params["stall"]:
            break
        time.sleep(0.05)


def _log_flood(log, out):
    """The flood as it stands: a `flood` event (the sender's outcome, each reader's lines so far)."""
    log.add("flood", {"sent": out.get("sent"), "send_error": out.get("send_error"),
                      "a": list(out["lines_a"]), "b": list(out["lines_b"]),
                      "done_a": out.get("done_a", False), "done_b": out.get("done_b", False)})


def slow_client(ctx):
    """One client stops reading while its room is flooded: a probe in another room (a `probe` event per
    member of that room: the line it got within probe_deadline) and what the flood's readers got."""
    p = ctx.params
    with _Recording(ctx) as log, _Server(ctx, log, max_pending=p["max_pending"]) as srv:
        (s, a, b, c, d), threads, out = _flood(srv, p)
        _wait_flood(threads, out, p)                # the whole flood is written, or it is stuck
        c.send("MSG are you there")
        for q in (c, d):
            got = q.line(p["probe_deadline"])
            log.add("probe", q.name, got)
            if got is None:
                raise _Stop()
        _wait_flood(threads, out, p, readers=True)
        _log_flood(log, out)


def backlog_bounded(ctx):
    """A client that never reads while its room is flooded: what the readers got, then whether the
    non-reader's connection was closed and how many lines it had got by then."""
    p = ctx.params
    with _Recording(ctx) as log, _Server(ctx, log, max_pending=p["max_pending"]) as srv:
        (s, a, b, c, d), threads, out = _flood(srv, p)
        _wait_flood(threads, out, p, readers=True)
        _log_flood(log, out)
        eof, lines = s.wait_eof(p["eof_timeout"])
        log.add("slow_eof", eof, lines)


# -- performance --------------------------------------------------------------------------------

def bench_chat(ctx):
    """Timed workload: clients in two rooms play ping-pong (send, wait for one's own echo, send the next)
    while reading everyone else's messages; driven by one selector so the grader adds no threads."""
    mod = ctx.student(MODULE)
    n, rooms, rounds = ctx.params["clients"], ctx.params["rooms"], ctx.params["rounds"]
    limit = ctx.params["deadline"]
    server = mod.ChatServer(HOST, 0)
    port = server.start()

    def command(sock, buf, text, want):
        sock.sendall((text + "\n").encode())
        while b"\n" not in buf[0]:
            data = sock.recv(65536)
            if not data:
                raise AssertionError("connection closed after %r" % text)
            buf[0] += data
        line, buf[0] = buf[0].split(b"\n", 1)
        if line.decode() != want:
            raise AssertionError("after %r expected %r, got %r" % (text, want, line))

    def workload():
        socks, bufs = [], []
        sel = selectors.DefaultSelector()
        try:
            for i in range(n):
                s = socket.create_connection((HOST, port), timeout=limit)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                socks.append(s)
                bufs.append([b""])
                command(s, bufs[i], "NICK p%d" % i, "OK NICK p%d" % i)
                command(s, bufs[i], "JOIN r%d" % (i % rooms), "OK JOIN r%d" % (i % rooms))
            size = [sum(1 for j in range(n) if j % rooms == i % rooms) for i in range(n)]
            expect = [rounds * size[i] for i in range(n)]
            got = [0] * n
            sent = [1] * n
            prefix = [b"r%d " % (i % rooms) for i in range(n)]
            for i, s in enumerate(socks):
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, i)
                s.sendall(b"MSG 0\n")
            deadline = time.monotonic() + limit
            left = n
            while left:
                events = sel.select(max(0.0, deadline - time.monotonic()))
                if not events:
                    raise AssertionError("no progress for %.1f s: %s of %s chat lines received" % (limit, got, expect))
                for key, _ in events:
                    i = key.data
                    data = socks[i].recv(65536)
                    if not data:
                        raise AssertionError("the server closed client p%d" % i)
                    # Acknowledge at once: a delayed ACK would hold up the server's next small segment
                    # (Nagle), and the measure would be about TCP_NODELAY, not about the server.
                    socks[i].setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                    bufs[i][0] += data
                    *lines, bufs[i][0] = bufs[i][0].split(b"\n")
                    for line in lines:
                        got[i] += 1
                        if not line.startswith(prefix[i]) or got[i] > expect[i]:
                            raise AssertionError("client p%d (room r%d) received %r, its chat line #%d (expected "
                                                 "%d lines of its room)" % (i, i % rooms, line[:60], got[i], expect[i]))
                        if line.startswith(b"r%d p%d: " % (i % rooms, i)) and sent[i] < rounds:
                            socks[i].setblocking(True)
                            socks[i].sendall(b"MSG %d\n" % sent[i])
                            socks[i].setblocking(False)
                            sent[i] += 1
                    if got[i] == expect[i]:
                        left -= 1
                        sel.unregister(socks[i])
        finally:
            sel.close()
            for s in socks:
                s.close()
    return workload
