"""Checks for deliverable-3: a threaded chat server with rooms over TCP (API: the starter's docstrings).

Every check talks to the student's server over real sockets on 127.0.0.1 through `_Peer`, a test
client whose every receive has a timeout: a server that hangs makes a check fail with what was
expected, never hang. Exceptions that escape the server's threads are caught with threading.excepthook
and named (type, message, the student's file:line) in the failure message. Standard library only.
"""
import os
import select
import selectors
import socket
import threading
import time
import traceback

from grade_oracles import exactly_once, fifo_per_key

MODULE = "chat_server"
HOST = "127.0.0.1"


# -- the grader's side of the wire --------------------------------------------------------------

class _Peer:
    """A test client: a blocking socket with a timeout on every call and its own line buffer."""

    def __init__(self, ctx, port, name, timeout, rcvbuf=None):
        self.ctx = ctx
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
            ctx.fail("client %s could not connect to %s:%d: %s" % (name, HOST, port, exc),
                     hint="start() must be listening when it returns the port")

    def send(self, text):
        self.send_raw((text + "\n").encode("utf-8"))

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.ctx.fail("client %s could not send %r: %s (did the server close the connection?)" % (
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

    def expect(self, expected, after, timeout=None):
        got = self.line(timeout)
        if got is None:
            why = "the server closed the connection" if self.eof else \
                "nothing within %.1f s" % (self.timeout if timeout is None else timeout)
            self.ctx.fail("client %s: after %s, expected the line %r, got %s" % (self.name, after, expected, why))
        if got != expected:
            self.ctx.fail("client %s: after %s, expected the line %r, got %r" % (self.name, after, expected, got))
        return got

    def command(self, text, expected=None):
        self.send(text)
        return self.expect(expected if expected is not None else "OK " + text, "sending %r" % text)

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


def _call(ctx, fn, timeout, what):
    """Runs fn() in a helper thread; fails the check if it does not return in time."""
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
        ctx.fail("%s did not return within %.1f s" % (what, timeout),
                 hint="a thread waiting in accept() or recv() is only woken by shutdown() of its socket")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class _Server:
    """The student's server under test: started on a free port, watched for crashed threads, always
    torn down (peers closed first, then stop() with a timeout) whatever the check's outcome."""

    def __init__(self, ctx, **kwargs):
        self.ctx = ctx
        self.kwargs = kwargs
        self.peers = []
        self.errors = []
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
            if args.exc_type is SystemExit:
                return
            where = _location(args.exc_traceback, root)
            self.errors.append("%s raised %s: %s%s" % (
                args.thread.name if args.thread else "a thread", args.exc_type.__name__, args.exc_value,
                " (at %s)" % where if where else ""))
        threading.excepthook = hook
        self.before = set(threading.enumerate())
        try:
            self.server = mod.ChatServer(HOST, 0, **self.kwargs)
            port = _call(ctx, self.server.start, ctx.params["start_timeout"], "start()")
            ctx.expect(isinstance(port, int) and 0 < port < 65536,
                       "start() returned %r instead of the port number it listens on" % (port,),
                       hint="bind to (host, port), then return self._sock.getsockname()[1]")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.port = port
        return self

    def connect(self, name, rcvbuf=None, timeout=None):
        p = _Peer(self.ctx, self.port, name, timeout or self.ctx.params["line_timeout"], rcvbuf)
        self.peers.append(p)
        return p

    def client(self, nick, room=None):
        """A connected peer that has set its nick and joined `room` (both acknowledged)."""
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
        _call(self.ctx, self.server.stop, timeout, "stop()")

    def crashed(self):
        if self.errors:
            extra = " (and %d more)" % (len(self.errors) - 1) if len(self.errors) > 1 else ""
            return "a server thread died: %s%s" % (self.errors[0], extra)
        return None

    def __exit__(self, exc_type, exc, tb):
        # Only what went wrong before the teardown counts: a crash while clients hang up at the end
        # would be seen or not depending on timing.
        errors = self.errors
        self.errors = list(errors)          # the hook appends here from now on
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
        self.errors = errors
        crashed = self.crashed()
        if crashed and isinstance(exc, self.ctx.CheckFailed) and crashed not in exc.message:
            exc.message = "%s; then: %s" % (crashed, exc.message)
        elif crashed and exc is None:
            self.ctx.fail(crashed, hint="catch OSError around socket calls in server threads; an uncaught "
                                        "exception kills the thread and its client silently")
        return False

    def _quiet_stop(self):
        try:
            self.server.stop()
        except Exception:
            pass


def _parse(line):
    """'<room> <nick>: <text>' -> (room, nick, text), or None."""
    room, sep, rest = line.partition(" ")
    nick, sep2, text = rest.partition(": ")
    if not sep or not sep2 or not room or not nick or " " in nick:
        return None
    return room, nick, text


def _collect(ctx, peer, room, expected, timeout, stop=None):
    """Reads chat lines until `expected` of them arrived; fails on a line of another room.
    Returns the (nick, text) pairs in arrival order."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expected:
        if stop is not None and stop.is_set():
            break
        left = deadline - time.monotonic()
        line = peer.line(min(left, 0.3)) if left > 0 else None
        if line is None:
            if peer.eof or left <= 0:
                ctx.fail("client %s (room %s) received %d of the %d messages sent to its room within %.1f s%s"
                         % (peer.name, room, len(got), expected, timeout,
                            "; the server closed its connection" if peer.eof else ""),
                         hint="every member of the room, the sender included, gets each message once")
            continue
        parsed = _parse(line)
        if parsed is None:
            ctx.fail("client %s (room %s) received %r, which is no chat line '<room> <nick>: <text>'"
                     % (peer.name, room, line))
        if parsed[0] != room:
            ctx.fail("client %s, a member of room %s only, received a message of room %s: %r"
                     % (peer.name, room, parsed[0], line),
                     hint="broadcast to the members of the sender's room, not to every client")
        got.append((parsed[1], parsed[2]))
    return got


# -- completion ---------------------------------------------------------------------------------

def protocol_basics(ctx):
    """NICK, JOIN, MSG and LEAVE with their replies, refusals, default nicks, CRLF and blank lines."""
    import re
    with _Server(ctx) as srv:
        a = srv.client("alice", "lobby")
        b = srv.client("bob", "lobby")
        a.send("MSG hello there, bob")
        a.expect("lobby alice: hello there, bob", "alice sent 'MSG hello there, bob' (the sender gets it too)")
        b.expect("lobby alice: hello there, bob", "alice sent 'MSG hello there, bob'")
        b.send("MSG hi alice")
        b.expect("lobby bob: hi alice", "bob sent 'MSG hi alice'")
        a.expect("lobby bob: hi alice", "bob sent 'MSG hi alice'")

        c = srv.connect("c")
        for bad, why in (("MSG nobody hears this", "MSG while in no room"),
                         ("LEAVE", "LEAVE while in no room"),
                         ("FLY away", "an unknown command"),
                         ("JOIN", "JOIN without a room"),
                         ("JOIN two words", "a room name with a space"),
                         ("NICK", "NICK without a name"),
                         ("JOIN " + "r" * 33, "a 33-character room name")):
            c.send(bad)
            got = c.line()
            ctx.expect(got is not None and got.startswith("ERR"),
                       "client c sent %r (%s): expected a line starting with 'ERR', got %s"
                       % (bad, why, "nothing" if got is None else repr(got)),
                       hint="refuse bad commands with 'ERR <reason>' and keep the connection open")
        c.command("JOIN lobby")
        c.send("MSG from a guest")
        line = a.line()
        m = re.fullmatch(r"lobby (guest\d+): from a guest", line or "")
        ctx.expect(m is not None, "a client that never sent NICK sent 'MSG from a guest': alice expected "
                   "'lobby guest<N>: from a guest', got %r" % (line,),
                   hint="a new connection's nick is 'guest<N>', N unique to the connection")
        b.expect(line, "the guest sent 'MSG from a guest'")
        c.expect(line, "sending 'MSG from a guest'")
        d = srv.connect("d")
        d.command("JOIN lobby")
        d.send("MSG another guest")
        line2 = a.line()
        m2 = re.fullmatch(r"lobby (guest\d+): another guest", line2 or "")
        ctx.expect(m2 is not None and m2.group(1) != m.group(1),
                   "two guests must get different default nicks: %r then %r" % (line, line2),
                   hint="number the connections: guest1, guest2, ...")
        for p in (b, c, d):
            p.expect(line2, "the second guest sent 'MSG another guest'")

        a.command("NICK alicia")
        a.send("MSG renamed")
        for p in (a, b, c, d):
            p.expect("lobby alicia: renamed", "alice changed her nick to alicia, then sent 'MSG renamed'")
        b.send_raw(b"\n\r\nMSG crlf line\r\n")
        for p in (a, b):
            p.expect("lobby bob: crlf line", "bob sent two blank lines, then 'MSG crlf line' ending in \\r\\n "
                     "(blank lines are ignored, the \\r is not part of the text)")
        a.command("LEAVE", "OK LEAVE lobby")
        a.command("JOIN lobby")


def room_isolation(ctx):
    """Three rooms talking at once: every client gets its own room's messages, and only those."""
    rooms, per_room, msgs = ctx.params["rooms"], ctx.params["per_room"], ctx.params["messages"]
    timeout = ctx.params["deadline"]
    with _Server(ctx) as srv:
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
                got = _collect(ctx, p, room, msgs * len(peers) + 1, timeout)
                want = sorted([(q.name, "%s says %d" % (q.name, k)) for q in peers for k in range(msgs)] +
                              [(peers[0].name, "end of %s" % room)])
                ctx.expect(sorted(got) == want, "client %s (room %s) received %s, expected each of %s once"
                           % (p.name, room, sorted(got), want))


def line_framing(ctx):
    """Commands split over several TCP sends, merged into one, a UTF-8 character cut in two, a long line."""
    pause = ctx.params["pause"]
    with _Server(ctx) as srv:
        a = srv.client("a", "frames")
        b = srv.client("b", "frames")

        def sent(pieces, texts, what, gap=pause):
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(gap)
                a.send_raw(piece)
            for text in texts:
                for p in (b, a):
                    p.expect("frames a: " + text, what)

        sent([b"MSG hel", b"lo wor", b"ld\n"], ["hello world"],
             "a sent 'MSG hello world' in 3 pieces, %.0f ms apart (a line can arrive split across "
             "recv() calls: buffer until the newline)" % (pause * 1000))
        sent([b"MSG one\nMSG two\nMSG three\n"], ["one", "two", "three"],
             "a sent three commands in one sendall() (one recv() can return several lines)")
        sent([b"MSG four\nMSG fi", b"ve\nMSG six\n"], ["four", "five", "six"],
             "a sent 'MSG four', 'MSG five', 'MSG six' cut as 'MSG four\\nMSG fi' + 've\\nMSG six\\n'")
        text = "h\u00e9llo w\u00f6rld \u2713"
        data = ("MSG " + text + "\n").encode("utf-8")
        cut = data.index("\u2713".encode("utf-8")) + 1
        sent([data[:cut], data[cut:]], [text],
             "a sent %r with the 3-byte UTF-8 character cut after its first byte (decode whole lines, "
             "not each recv())" % ("MSG " + text))
        sent([bytes([ch]) for ch in b"MSG slow\n"], ["slow"], "a sent 'MSG slow' one byte per send()",
             gap=pause / 5)
        long_text = "".join(chr(0x61 + i % 26) for i in range(ctx.params["long_line"]))
        a.send("MSG " + long_text)
        for p in (b, a):
            got = p.line()
            ctx.expect(got == "frames a: " + long_text,
                       "client %s: a sent one %d-byte MSG line; expected it back whole, got %s" % (
                           p.name, len(long_text) + 4,
                           "nothing" if got is None else "%d characters starting %r" % (len(got), got[:40])),
                       hint="keep the bytes after the last newline and prepend them to the next recv()")


def join_leave(ctx):
    """LEAVE stops delivery at once, JOIN moves between rooms, a vanished client is dropped cleanly."""
    with _Server(ctx) as srv:
        a = srv.client("a", "r1")
        b = srv.client("b", "r1")
        c = srv.client("c", "r1")
        a.command("LEAVE", "OK LEAVE r1")
        b.send("MSG after a left")
        for p in (b, c):
            p.expect("r1 b: after a left", "b sent 'MSG after a left'")
        a.send("JOIN r2")
        a.expect("OK JOIN r2", "a left r1 (OK LEAVE r1), b sent a message to r1, then a sent 'JOIN r2' "
                 "(a must not get r1's messages after OK LEAVE r1)")
        c.command("JOIN r2")                              # moves c from r1 to r2
        b.send("MSG only b hears this")
        b.expect("r1 b: only b hears this", "b, now alone in r1, sent 'MSG only b hears this'")
        a.send("MSG hello r2")
        for p in (a, c):
            p.expect("r2 a: hello r2", "a sent 'MSG hello r2' to r2 (c moved from r1 to r2 with JOIN r2, "
                     "so c must not get b's r1 message)")
        a.command("JOIN r1")                              # back to r1
        b.send("MSG welcome back")
        for p in (a, b):
            p.expect("r1 b: welcome back", "a rejoined r1 and b sent 'MSG welcome back'")

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
                p.expect("r1 b: still here %d" % k, "three members of r1 disconnected (one with a reset), "
                         "then b sent 'MSG still here %d'" % k)
        d = srv.client("d", "r1")
        b.send("MSG hi d")
        for p in (a, b, d):
            p.expect("r1 b: hi d", "a new client d joined r1 after the others vanished, then b sent 'MSG hi d'")


def many_clients(ctx):
    """Many clients in several rooms send at once: exactly once, per-sender order, right room."""
    n, rooms, msgs = ctx.params["clients"], ctx.params["rooms"], ctx.params["messages"]
    deadline = ctx.params["deadline"]
    with _Server(ctx) as srv:
        peers = [srv.client("c%d" % i, "room%d" % (i % rooms)) for i in range(n)]
        room_of = {p.name: "room%d" % (i % rooms) for i, p in enumerate(peers)}
        size = {r: sum(1 for q in peers if room_of[q.name] == r) for r in set(room_of.values())}
        received = {}

        def talk(p):
            for k in range(msgs):
                p.send("MSG %s#%d" % (p.name, k))
            received[p.name] = _collect(ctx, p, room_of[p.name], msgs * size[room_of[p.name]], deadline)
        ctx.run_threads([lambda p=p: talk(p) for p in peers], timeout=deadline + 5,
                        names=["grade-client-%s" % p.name for p in peers])
        for p in peers:
            room = room_of[p.name]
            got = []
            for nick, text in received[p.name]:
                sender, _, seq = text.partition("#")
                ctx.expect(sender == nick and seq.isdigit(),
                           "client %s received %r from %s: the text or the nick was changed" % (p.name, text, nick))
                got.append((nick, int(seq)))
            produced = [(q.name, k) for q in peers if room_of[q.name] == room for k in range(msgs)]
            ctx.oracle(_prefixed("client %s (room %s): " % (p.name, room),
                                 exactly_once(produced, got, what="message")),
                       hint="each message goes once to each member of the sender's room")
            ctx.oracle(_prefixed("client %s (room %s): " % (p.name, room),
                                 fifo_per_key(got, key=lambda x: x[0], seq=lambda x: x[1], what="sender")),
                       hint="one sender's messages must reach every member in the order they were sent")


def _prefixed(prefix, message):
    return prefix + message if message else None


def clean_stop(ctx):
    """stop() with clients connected, idle, mid-line and mid-conversation: prompt, no thread left,
    every client sees end-of-file, the port refuses connections; stop() twice is harmless."""
    stop_timeout = ctx.params["stop_timeout"]
    with _Server(ctx) as srv:
        a = srv.client("a", "room")
        b = srv.client("b", "room")
        srv.connect("idle")                       # connected, never sent anything
        half = srv.connect("half")
        half.send_raw(b"MSG half a li")           # mid-line when the server stops
        for k in range(3):
            a.send("MSG before stop %d" % k)
        b.expect("room a: before stop 0", "a sent 'MSG before stop 0'")
        port = srv.port
        threads_running = srv.server_threads()
        t0 = time.monotonic()
        srv.stop(stop_timeout)
        took = time.monotonic() - t0
        left = srv.server_threads()
        ctx.expect(not left, "%d thread(s) started by the server still run after stop() returned: %s "
                   "(server threads before stop(): %d)" % (len(left), ", ".join(left[:8]), len(threads_running)),
                   hint="stop() must wake every thread (shutdown() their sockets, put a sentinel on their "
                        "queues) and join() each of them")
        for p in srv.peers:
            eof, _ = p.wait_eof(ctx.params["eof_timeout"])
            ctx.expect(eof, "client %s is still connected %.1f s after stop() returned (no end-of-file)"
                       % (p.name, ctx.params["eof_timeout"]),
                       hint="stop() must close every client connection")
        probe = socket.socket()
        probe.settimeout(2)
        try:
            probe.connect((HOST, port))
        except OSError:
            pass
        else:
            ctx.fail("a new connection to port %d was accepted after stop() returned" % port,
                     hint="close the listening socket in stop()")
        finally:
            probe.close()
        _call(ctx, srv.server.stop, stop_timeout, "a second stop()")
        ctx.expect(took < stop_timeout, "stop() took %.2f s" % took)
    # A server that never had a client starts and stops cleanly, twice in a row.
    for i in range(2):
        with _Server(ctx) as srv2:
            srv2.stop(stop_timeout)
            left = srv2.server_threads()
            ctx.expect(not left, "a server with no client: thread(s) still running after stop(): %s"
                       % ", ".join(left), hint="join the accept thread in stop()")


# -- problem solving ----------------------------------------------------------------------------

def membership_churn(ctx):
    """Clients join and leave a room over and over while its members talk: membership changes during
    broadcasts must lose nothing, duplicate nothing, crash nothing, and LEAVE takes effect at once."""
    members_n, churners_n = ctx.params["members"], ctx.params["churners"]
    msgs, max_cycles, deadline = ctx.params["messages"], ctx.params["max_cycles"], ctx.params["deadline"]
    with _Server(ctx) as srv:
        members = [srv.client("m%d" % i, "hub") for i in range(members_n)]
        churners = [srv.client("x%d" % i) for i in range(churners_n)]
        done = threading.Event()
        abort = threading.Event()
        received = {}
        cycles = {}

        def member(p):
            try:
                got = []
                for k in range(msgs):
                    p.send("MSG %s#%d" % (p.name, k))
                    mine = "%s#%d" % (p.name, k)
                    while not got or got[-1] != (p.name, mine):    # ping-pong: wait for our own echo
                        if srv.errors:
                            ctx.fail("client %s stopped getting messages" % p.name)
                        got.extend(_collect(ctx, p, "hub", 1, deadline))
                received[p.name] = got
            except BaseException:
                abort.set()
                raise

        def churner(p):
            n = 0
            may_get_hub = False          # from sending JOIN hub until the ack of leaving it
            while not done.is_set() and not abort.is_set() and n < max_cycles:
                nick = "NICK %s_%d" % (p.name, n)   # its reply comes after anything queued before it
                for cmd, want, joins_hub in (("JOIN hub", "OK JOIN hub", True), ("JOIN side", "OK JOIN side", False),
                                             (nick, "OK " + nick, False), ("JOIN hub", "OK JOIN hub", True),
                                             ("LEAVE", "OK LEAVE hub", False), (nick, "OK " + nick, False)):
                    p.send(cmd)
                    may_get_hub = may_get_hub or joins_hub
                    while True:
                        line = p.line(deadline)
                        if line is None:
                            ctx.fail("churner %s: no %r within %.1f s after sending %r%s" % (
                                p.name, want, deadline, cmd, "; the server closed the connection" if p.eof else ""))
                        if line == want:
                            may_get_hub = joins_hub
                            break
                        if line.startswith("hub ") and not may_get_hub:
                            ctx.fail("churner %s received %r after the server had acknowledged that it left hub "
                                     "(it then sent %r and was waiting for %r)" % (p.name, line, cmd, want),
                                     hint="remove the client from the room under the same lock the broadcast "
                                          "holds while it queues the line")
                        if not line.startswith("hub "):
                            ctx.fail("churner %s: unexpected %r while waiting for %r" % (p.name, line, want))
                n += 1
            cycles[p.name] = n

        def members_then_done():
            try:
                ctx.run_threads([lambda p=p: member(p) for p in members], timeout=deadline * msgs,
                                names=["grade-member-%s" % p.name for p in members])
            finally:
                done.set()
        ctx.run_threads([members_then_done] + [lambda p=p: churner(p) for p in churners],
                        timeout=deadline * msgs + 5,
                        names=["grade-members"] + ["grade-churner-%s" % p.name for p in churners])
        crashed = srv.crashed()
        if crashed:
            ctx.fail(crashed, hint="guard the room membership with one lock; iterate over it (or a copy) "
                                   "only while holding that lock")
        produced = [(q.name, "%s#%d" % (q.name, k)) for q in members for k in range(msgs)]
        for p in members:
            # Lines that arrived after p's last echo are still in flight: read them now.
            got = received[p.name]
            rest = len(produced) - len(got)
            if rest > 0:
                got = got + _collect(ctx, p, "hub", rest, deadline)
            ctx.oracle(_prefixed("client %s (stable member of hub, while %d clients joined and left %d times "
                                 "in all): " % (p.name, churners_n, sum(cycles.values())),
                                 exactly_once(produced, got, what="message")),
                       hint="a membership change must never make a broadcast skip or repeat a member")
            ctx.oracle(_prefixed("client %s: " % p.name,
                                 fifo_per_key([(n, int(t.split("#")[1])) for n, t in got],
                                              key=lambda x: x[0], seq=lambda x: x[1], what="sender")))


def _flood(ctx, srv, params):
    """S joins `busy` with a tiny receive buffer and never reads; A floods `busy`, A and B read.
    Returns (peers, outcome) where outcome has the senders' and readers' results."""
    n, size = params["flood_messages"], params["flood_bytes"]
    s = srv.connect("slow", rcvbuf=4096)
    s.command("NICK slow")
    s.command("JOIN busy")
    a, b = srv.client("a", "busy"), srv.client("b", "busy")
    c, d = srv.client("c", "calm"), srv.client("d", "calm")
    pad = "x" * size
    out = {"progress": time.monotonic()}

    def sender():
        try:
            a.sock.settimeout(params["flood_deadline"])
            for k in range(n):
                a.sock.sendall(("MSG a#%d %s\n" % (k, pad)).encode())
            out["sent"] = n
        except OSError as exc:
            out["send_error"] = "%s: %s" % (type(exc).__name__, exc)

    def reader(p):
        got, deadline = 0, time.monotonic() + params["flood_deadline"]
        while got < n and time.monotonic() < deadline:
            line = p.line(min(0.3, max(0.0, deadline - time.monotonic())))
            if line is None:
                if p.eof or time.monotonic() - out["progress"] > params["stall"]:
                    break
                continue
            if not line.startswith("busy a: a#%d " % got):
                out.setdefault("bad", "client %s expected flood message #%d, got %r" % (p.name, got, line[:60]))
                break
            got += 1
            out["progress"] = time.monotonic()
        out[p.name] = got
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


def slow_client(ctx):
    """One client stops reading while its room is flooded: everyone else keeps getting messages."""
    p = ctx.params
    with _Server(ctx, max_pending=p["max_pending"]) as srv:
        (s, a, b, c, d), threads, out = _flood(ctx, srv, p)
        _wait_flood(threads, out, p)                # the whole flood is written, or it is stuck
        c.send("MSG are you there")
        for q in (c, d):
            got = q.line(p["probe_deadline"])
            ctx.expect(got == "calm c: are you there",
                       "client slow (room busy) stopped reading while a flooded busy with %d messages of %d bytes; "
                       "then c sent 'MSG are you there' to room calm: %s expected it within %.1f s, got %s"
                       % (p["flood_messages"], p["flood_bytes"], q.name, p["probe_deadline"],
                          "nothing" if got is None else repr(got[:60])),
                       hint="never write to a socket while holding the lock every client needs: queue the line "
                            "for each member and let a writer thread per client send it")
        _wait_flood(threads, out, p, readers=True)
        ctx.expect("bad" not in out, out.get("bad", ""))
        for q in ("a", "b"):
            ctx.expect(out.get(q) == p["flood_messages"],
                       "client %s (room busy, reading) received %s of the %d flood messages within %.1f s while "
                       "client slow did not read%s" % (q, out.get(q, "none"), p["flood_messages"],
                                                       p["flood_deadline"],
                                                       "; the sender failed: " + out["send_error"]
                                                       if "send_error" in out else ""),
                       hint="one client that does not read must not delay the other members of its room")


def backlog_bounded(ctx):
    """A client that never reads is disconnected once max_pending lines wait for it."""
    p = ctx.params
    with _Server(ctx, max_pending=p["max_pending"]) as srv:
        (s, a, b, c, d), threads, out = _flood(ctx, srv, p)
        _wait_flood(threads, out, p, readers=True)
        ctx.expect("bad" not in out, out.get("bad", ""))
        ctx.expect(out.get("b") == p["flood_messages"],
                   "client b (reading) received %s of the %d flood messages while client slow did not read"
                   % (out.get("b", "none"), p["flood_messages"]),
                   hint="one client that does not read must not delay the other members of its room")
        eof, lines = s.wait_eof(p["eof_timeout"])
        ctx.expect(eof, "client slow never read while %d messages of %d bytes went to its room; when it finally "
                   "read, it got %d lines and the connection was still open after %.1f s: its backlog is "
                   "unbounded (max_pending=%d)" % (p["flood_messages"], p["flood_bytes"], lines,
                                                   p["eof_timeout"], p["max_pending"]),
                   hint="when max_pending lines already wait for a client, disconnect it instead of queuing more")
        ctx.expect(lines < p["flood_messages"],
                   "client slow got all %d messages and then end-of-file: it was disconnected too late"
                   % p["flood_messages"])


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
