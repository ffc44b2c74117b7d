"""Judgements for deliverable-3: a threaded chat server with rooms (the workloads are in checks.py). Runs
outside the submission's process. Each workload records one log (`events`): every line a client read,
in order, the server threads that died, what it measured; the judgements here hold the scenarios'
expected lines and walk the log with them, naming the first thing that went wrong as a client saw it
(with the server threads that had died by then, as the run used to)."""
import re

from grade_oracles import exactly_once, fifo_per_key

HINT_CRASH = ("catch OSError around socket calls in server threads; an uncaught exception kills the thread "
              "and its client silently")
HINT_ROOM = "broadcast to the members of the sender's room, not to every client"
HINT_ALL = "every member of the room, the sender included, gets each message once"
HINT_SLOW = "one client that does not read must not delay the other members of its room"


def _crashed(errors):
    extra = " (and %d more)" % (len(errors) - 1) if len(errors) > 1 else ""
    return "a server thread died: %s%s" % (errors[0], extra)


def _parse(line):
    """'<room> <nick>: <text>' -> (room, nick, text), or None."""
    room, sep, rest = line.partition(" ")
    nick, sep2, text = rest.partition(": ")
    if not sep or not sep2 or not room or not nick or " " in nick:
        return None
    return room, nick, text


def _prefixed(prefix, message):
    return prefix + message if message else None


class _Replay:
    """Walks a run's log in order, for a scenario the judgement replays step by step. A failure names
    the server threads that had died before it; `closed` (a server's teardown) fails on them."""

    def __init__(self, j, crash_hint=HINT_CRASH):
        self.j = j
        events = j.obs["events"]
        j.expect(isinstance(events, list) and all(isinstance(e, list) and len(e) >= 2 and isinstance(e[1], str)
                                                  for e in events),
                 "the run recorded its log in an unexpected shape")
        self.events = events
        self.pos = 0
        self.crashes = []
        self.crash_hint = crash_hint

    def fail(self, message, hint=None, crashes=None):
        crashes = self.crashes if crashes is None else crashes
        if crashes:
            crashed = _crashed(crashes)
            if crashed not in message:
                message = "%s; then: %s" % (crashed, message)
        self.j.fail(message, hint)

    def _bookkeeping(self, ev):
        """Handles the events every scenario may have; True when `ev` was one of them."""
        kind = ev[1]
        if kind == "crash":
            self.crashes.append(ev[2])
        elif kind == "abort":
            self.fail(ev[2], ev[3])
        elif kind == "start":
            port = ev[2]
            if not (isinstance(port, int) and 0 < port < 65536):
                self.fail("start() returned %r instead of the port number it listens on" % (port,),
                          hint="bind to (host, port), then return self._sock.getsockname()[1]")
        elif kind == "closed":
            if self.crashes:
                self.j.fail(_crashed(self.crashes), self.crash_hint)
        else:
            return False
        return True

    def next(self, kind, client=None):
        """The next event of the scenario, which must be of `kind` (for `client`)."""
        while self.pos < len(self.events):
            ev = self.events[self.pos]
            self.pos += 1
            if self._bookkeeping(ev):
                continue
            if ev[1] != kind or (client is not None and (len(ev) < 3 or ev[2] != client)):
                self.j.fail("the run's log does not follow the scenario: %r where a `%s` event%s was due"
                            % (ev[:4], kind, " of client %s" % client if client else ""))
            return ev
        self.j.fail("the run's log ends before the scenario does (a `%s` event%s was due)"
                    % (kind, " of client %s" % client if client else ""))

    def line(self, client):
        """(line or None, eof, timeout) of the client's next read."""
        ev = self.next("read", client)
        return ev[3], ev[4], ev[5]

    def expect(self, client, expected, after):
        got, eof, timeout = self.line(client)
        if got is None:
            why = "the server closed the connection" if eof else "nothing within %.1f s" % timeout
            self.fail("client %s: after %s, expected the line %r, got %s" % (client, after, expected, why))
        if got != expected:
            self.fail("client %s: after %s, expected the line %r, got %r" % (client, after, expected, got))
        return got

    def command(self, client, text, expected=None):
        return self.expect(client, expected if expected is not None else "OK " + text, "sending %r" % text)

    def client(self, nick, room=None):
        """srv.client(nick, room): the replies to NICK and JOIN."""
        self.command(nick, "NICK %s" % nick)
        if room:
            self.command(nick, "JOIN %s" % room)

    def collected(self, client, room, expected, timeout):
        """The (nick, text) pairs of `expected` chat lines of `room` the client read in a row."""
        got = []
        while len(got) < expected:
            ev = self.next("line", client)
            problem = _line_problem(client, room, ev, len(got), expected, timeout)
            if problem:
                self.fail(*problem)
            parsed = _parse(ev[3])
            got.append((parsed[1], parsed[2]))
        return got

    def phase(self, name):
        """The events up to the `phase` event `name` (all that is left when there is none)."""
        ev = self.next("phase")
        j = self.j
        j.expect(ev[2] == name, "the run's log does not follow the scenario: phase %r where %r was due" % (ev[2], name))
        return self.until_phase()

    def until_phase(self):
        out = []
        while self.pos < len(self.events):
            ev = self.events[self.pos]
            self.pos += 1
            if ev[1] == "phase":
                return out
            out.append(ev)
        return out

    def end(self):
        """The scenario is over: what is left of the log (the teardown) may still hold a crash."""
        while self.pos < len(self.events):
            ev = self.events[self.pos]
            self.pos += 1
            self._bookkeeping(ev)
        if self.crashes:
            self.j.fail(_crashed(self.crashes), self.crash_hint)


def _line_problem(client, room, ev, n, expected, timeout):
    """What is wrong with a client's `line` event (its n-th of `expected` chat lines of `room`), as
    (message, hint), or None."""
    line = ev[3]
    if line is None:
        return ("client %s (room %s) received %d of the %d messages sent to its room within %.1f s%s"
                % (client, room, n, expected, timeout, "; the server closed its connection" if ev[4] else ""),
                HINT_ALL)
    parsed = _parse(line)
    if parsed is None:
        return ("client %s (room %s) received %r, which is no chat line '<room> <nick>: <text>'"
                % (client, room, line), None)
    if parsed[0] != room:
        return ("client %s, a member of room %s only, received a message of room %s: %r"
                % (client, room, parsed[0], line), HINT_ROOM)
    return None


def _first(problems):
    """The earliest (t, message, hint) of a concurrent phase, or None."""
    return min(problems, key=lambda p: p[0]) if problems else None


# -- completion ---------------------------------------------------------------------------------

BAD_COMMANDS = (("MSG nobody hears this", "MSG while in no room"),
                ("LEAVE", "LEAVE while in no room"),
                ("FLY away", "an unknown command"),
                ("JOIN", "JOIN without a room"),
                ("JOIN two words", "a room name with a space"),
                ("NICK", "NICK without a name"),
                ("JOIN " + "r" * 33, "a 33-character room name"))


def protocol_basics(j):
    r = _Replay(j)
    r.client("alice", "lobby")
    r.client("bob", "lobby")
    r.expect("alice", "lobby alice: hello there, bob", "alice sent 'MSG hello there, bob' (the sender gets it too)")
    r.expect("bob", "lobby alice: hello there, bob", "alice sent 'MSG hello there, bob'")
    r.expect("bob", "lobby bob: hi alice", "bob sent 'MSG hi alice'")
    r.expect("alice", "lobby bob: hi alice", "bob sent 'MSG hi alice'")

    for bad, why in BAD_COMMANDS:
        got, _, _ = r.line("c")
        if not (got is not None and got.startswith("ERR")):
            r.fail("client c sent %r (%s): expected a line starting with 'ERR', got %s"
                   % (bad, why, "nothing" if got is None else repr(got)),
                   hint="refuse bad commands with 'ERR <reason>' and keep the connection open")
    r.command("c", "JOIN lobby")
    line, _, _ = r.line("alice")
    m = re.fullmatch(r"lobby (guest\d+): from a guest", line or "")
    if m is None:
        r.fail("a client that never sent NICK sent 'MSG from a guest': alice expected "
               "'lobby guest<N>: from a guest', got %r" % (line,),
               hint="a new connection's nick is 'guest<N>', N unique to the connection")
    r.expect("bob", line, "the guest sent 'MSG from a guest'")
    r.expect("c", line, "sending 'MSG from a guest'")
    r.command("d", "JOIN lobby")
    line2, _, _ = r.line("alice")
    m2 = re.fullmatch(r"lobby (guest\d+): another guest", line2 or "")
    if m2 is None or m2.group(1) == m.group(1):
        r.fail("two guests must get different default nicks: %r then %r" % (line, line2),
               hint="number the connections: guest1, guest2, ...")
    for p in ("bob", "c", "d"):
        r.expect(p, line2, "the second guest sent 'MSG another guest'")

    r.command("alice", "NICK alicia")
    for p in ("alice", "bob", "c", "d"):
        r.expect(p, "lobby alicia: renamed", "alice changed her nick to alicia, then sent 'MSG renamed'")
    for p in ("alice", "bob"):
        r.expect(p, "lobby bob: crlf line", "bob sent two blank lines, then 'MSG crlf line' ending in \\r\\n "
                 "(blank lines are ignored, the \\r is not part of the text)")
    r.command("alice", "LEAVE", "OK LEAVE lobby")
    r.command("alice", "JOIN lobby")
    r.end()


def room_isolation(j):
    rooms, per_room, msgs = j.params["rooms"], j.params["per_room"], j.params["messages"]
    timeout = j.params["deadline"]
    r = _Replay(j)
    members = {}
    for ri in range(rooms):
        for k in range(per_room):
            name = "u%d_%d" % (ri, k)
            r.client(name, "room%d" % ri)
            members.setdefault("room%d" % ri, []).append(name)
    for room, peers in members.items():
        for name in peers:
            got = r.collected(name, room, msgs * len(peers) + 1, timeout)
            want = sorted([(q, "%s says %d" % (q, k)) for q in peers for k in range(msgs)] +
                          [(peers[0], "end of %s" % room)])
            if sorted(got) != want:
                r.fail("client %s (room %s) received %s, expected each of %s once" % (name, room, sorted(got), want))
    r.end()


UTF8_TEXT = "h\u00e9llo w\u00f6rld \u2713"


def line_framing(j):
    pause = j.params["pause"]
    r = _Replay(j)
    r.client("a", "frames")
    r.client("b", "frames")

    def sent(texts, what):
        for text in texts:
            for p in ("b", "a"):
                r.expect(p, "frames a: " + text, what)

    sent(["hello world"], "a sent 'MSG hello world' in 3 pieces, %.0f ms apart (a line can arrive split across "
         "recv() calls: buffer until the newline)" % (pause * 1000))
    sent(["one", "two", "three"], "a sent three commands in one sendall() (one recv() can return several lines)")
    sent(["four", "five", "six"],
         "a sent 'MSG four', 'MSG five', 'MSG six' cut as 'MSG four\\nMSG fi' + 've\\nMSG six\\n'")
    sent([UTF8_TEXT], "a sent %r with the 3-byte UTF-8 character cut after its first byte (decode whole lines, "
         "not each recv())" % ("MSG " + UTF8_TEXT))
    sent(["slow"], "a sent 'MSG slow' one byte per send()")
    long_text = "".join(chr(0x61 + i % 26) for i in range(j.params["long_line"]))
    for p in ("b", "a"):
        got, _, _ = r.line(p)
        if got != "frames a: " + long_text:
            shown = "nothing" if got is None else "%d characters starting %r" % (len(got), got[:40])
            r.fail("client %s: a sent one %d-byte MSG line; expected it back whole, got %s"
                   % (p, len(long_text) + 4, shown),
                   hint="keep the bytes after the last newline and prepend them to the next recv()")
    r.end()


def join_leave(j):
    r = _Replay(j)
    for p in ("a", "b", "c"):
        r.client(p, "r1")
    r.command("a", "LEAVE", "OK LEAVE r1")
    for p in ("b", "c"):
        r.expect(p, "r1 b: after a left", "b sent 'MSG after a left'")
    r.expect("a", "OK JOIN r2", "a left r1 (OK LEAVE r1), b sent a message to r1, then a sent 'JOIN r2' "
             "(a must not get r1's messages after OK LEAVE r1)")
    r.command("c", "JOIN r2")
    r.expect("b", "r1 b: only b hears this", "b, now alone in r1, sent 'MSG only b hears this'")
    for p in ("a", "c"):
        r.expect(p, "r2 a: hello r2", "a sent 'MSG hello r2' to r2 (c moved from r1 to r2 with JOIN r2, "
                 "so c must not get b's r1 message)")
    r.command("a", "JOIN r1")
    for p in ("a", "b"):
        r.expect(p, "r1 b: welcome back", "a rejoined r1 and b sent 'MSG welcome back'")
    for i in range(3):
        r.client("gone%d" % i, "r1")
    for k in range(j.params["after_gone"]):
        for p in ("a", "b"):
            r.expect(p, "r1 b: still here %d" % k, "three members of r1 disconnected (one with a reset), "
                     "then b sent 'MSG still here %d'" % k)
    r.client("d", "r1")
    for p in ("a", "b", "d"):
        r.expect(p, "r1 b: hi d", "a new client d joined r1 after the others vanished, then b sent 'MSG hi d'")
    r.end()


def many_clients(j):
    n, rooms, msgs = j.params["clients"], j.params["rooms"], j.params["messages"]
    deadline = j.params["deadline"]
    r = _Replay(j)
    names = ["c%d" % i for i in range(n)]
    room_of = {name: "room%d" % (i % rooms) for i, name in enumerate(names)}
    size = {room: sum(1 for q in names if room_of[q] == room) for room in set(room_of.values())}
    for name in names:
        r.client(name, room_of[name])
    # The clients talk at once: the first thing that went wrong, by when it happened.
    talk = r.phase("talk")
    crashes = [ev[2] for ev in talk if ev[1] == "crash"]
    lines = {name: [] for name in names}
    problems = []
    for ev in talk:
        if ev[1] == "abort":
            problems.append((ev[0], ev[2], ev[3]))
        elif ev[1] == "line" and ev[2] in lines:
            mine = lines[ev[2]]
            want = msgs * size[room_of[ev[2]]]
            problem = _line_problem(ev[2], room_of[ev[2]], ev, len(mine), want, deadline)
            if problem:
                problems.append((ev[0],) + problem)
            else:
                mine.append(ev[3])
        elif ev[1] != "crash":
            j.fail("the run's log does not follow the scenario: %r among the clients' lines" % (ev[:4],))
    first = _first(problems)
    if first:
        r.fail(first[1], first[2], crashes=r.crashes + crashes)
    r.crashes += crashes
    for name in names:
        want = msgs * size[room_of[name]]
        if len(lines[name]) < want:
            r.fail("client %s (room %s) received %d of the %d messages sent to its room: the run's log ends there"
                   % (name, room_of[name], len(lines[name]), want), hint=HINT_ALL)
    for name in names:
        room = room_of[name]
        got = []
        for line in lines[name]:
            _, nick, text = _parse(line)
            sender, _, seq = text.partition("#")
            if not (sender == nick and seq.isdigit()):
                r.fail("client %s received %r from %s: the text or the nick was changed" % (name, text, nick))
            got.append((nick, int(seq)))
        produced = [(q, k) for q in names if room_of[q] == room for k in range(msgs)]
        message = exactly_once(produced, got, what="message")
        if message:
            r.fail("client %s (room %s): %s" % (name, room, message),
                   hint="each message goes once to each member of the sender's room")
        message = fifo_per_key(got, key=lambda x: x[0], seq=lambda x: x[1], what="sender")
        if message:
            r.fail("client %s (room %s): %s" % (name, room, message),
                   hint="one sender's messages must reach every member in the order they were sent")
    r.end()


def clean_stop(j):
    p = j.params
    stop_timeout, eof_timeout = p["stop_timeout"], p["eof_timeout"]
    r = _Replay(j)
    r.client("a", "room")
    r.client("b", "room")
    r.expect("b", "room a: before stop 0", "a sent 'MSG before stop 0'")
    _, _, took, running, left = r.next("stopped")
    j.expect(isinstance(took, (int, float)) and isinstance(left, list),
             "the run recorded stop() in an unexpected shape")
    if left:
        r.fail("%d thread(s) started by the server still run after stop() returned: %s "
               "(server threads before stop(): %d)" % (len(left), ", ".join(str(t) for t in left[:8]), running),
               hint="stop() must wake every thread (shutdown() their sockets, put a sentinel on their "
                    "queues) and join() each of them")
    for name in ("a", "b", "idle", "half"):
        ev = r.next("eof", name)
        if ev[3] is not True:
            r.fail("client %s is still connected %.1f s after stop() returned (no end-of-file)" % (name, eof_timeout),
                   hint="stop() must close every client connection")
    ev = r.next("port")
    if ev[3] != "refused":
        r.fail("a new connection to port %d was accepted after stop() returned" % ev[2],
               hint="close the listening socket in stop()")
    r.next("stopped_again")
    if not took < stop_timeout:
        r.fail("stop() took %.2f s" % took)
    for _ in range(2):
        left = r.next("idle_stopped")[2]
        j.expect(isinstance(left, list), "the run recorded stop() in an unexpected shape")
        if left:
            r.fail("a server with no client: thread(s) still running after stop(): %s"
                   % ", ".join(str(t) for t in left), hint="join the accept thread in stop()")
    r.end()


# -- problem solving ----------------------------------------------------------------------------

def _churn_cycle(name, n):
    """A churner's n-th cycle: (command, the reply it waits for)."""
    nick = "NICK %s_%d" % (name, n)
    return (("JOIN hub", "OK JOIN hub"), ("JOIN side", "OK JOIN side"), (nick, "OK " + nick),
            ("JOIN hub", "OK JOIN hub"), ("LEAVE", "OK LEAVE hub"), (nick, "OK " + nick))


def _churner_problem(j, name, events, deadline):
    """The first thing wrong in what a churner saw, as (t, message, hint), or None; and its cycles."""
    script = (step for n in range(10 ** 6) for step in _churn_cycle(name, n))
    may_get_hub = False          # from sending JOIN hub until the ack of leaving it
    cmd = want = joins_hub = None
    cycles = None
    for ev in events:
        if ev[1] == "sent":
            cmd, want = next(script)
            j.expect(ev[3] == cmd, "the run's log does not follow the scenario: churner %s sent %r where %r "
                     "was due" % (name, ev[3], cmd))
            joins_hub = cmd == "JOIN hub"
            may_get_hub = may_get_hub or joins_hub
        elif ev[1] == "line":
            line = ev[3]
            j.expect(cmd is not None, "the run's log does not follow the scenario: churner %s read before "
                     "sending" % name)
            if line is None:
                return (ev[0], "churner %s: no %r within %.1f s after sending %r%s" % (
                    name, want, deadline, cmd, "; the server closed the connection" if ev[4] else ""), None), cycles
            if line == want:
                may_get_hub = joins_hub
                continue
            if line.startswith("hub ") and not may_get_hub:
                return (ev[0], "churner %s received %r after the server had acknowledged that it left hub "
                        "(it then sent %r and was waiting for %r)" % (name, line, cmd, want),
                        "remove the client from the room under the same lock the broadcast holds while it "
                        "queues the line"), cycles
            if not line.startswith("hub "):
                return (ev[0], "churner %s: unexpected %r while waiting for %r" % (name, line, want), None), cycles
        elif ev[1] == "cycles":
            cycles = ev[3]
    return None, cycles


def membership_churn(j):
    p = j.params
    members_n, churners_n = p["members"], p["churners"]
    msgs, deadline = p["messages"], p["deadline"]
    r = _Replay(j)
    members = ["m%d" % i for i in range(members_n)]
    churners = ["x%d" % i for i in range(churners_n)]
    for name in members:
        r.client(name, "hub")
    for name in churners:
        r.client(name)
    churn = r.phase("churn")
    crashes = [ev[2] for ev in churn if ev[1] == "crash"]
    problems = [(ev[0], ev[2], ev[3]) for ev in churn if ev[1] == "abort"]
    got = {name: [] for name in members}
    for name in members:
        for ev in (ev for ev in churn if ev[1] in ("line", "gave_up") and ev[2] == name):
            if ev[1] == "gave_up":
                problems.append((ev[0], "client %s stopped getting messages" % name, None))
                break
            problem = _line_problem(name, "hub", ev, 0, 1, deadline)
            if problem:
                problems.append((ev[0],) + problem)
                break
            parsed = _parse(ev[3])
            got[name].append((parsed[1], parsed[2]))
    cycles = {}
    for name in churners:
        problem, n = _churner_problem(j, name, [ev for ev in churn if ev[1] in ("sent", "line", "cycles")
                                                and ev[2] == name], deadline)
        if problem:
            problems.append(problem)
        if n is not None:
            cycles[name] = n
    first = _first(problems)
    if first:
        r.fail(first[1], first[2], crashes=r.crashes + crashes)
    r.crashes += crashes
    if r.crashes:
        j.fail(_crashed(r.crashes), "guard the room membership with one lock; iterate over it (or a copy) "
                                    "only while holding that lock")
    produced = [(q, "%s#%d" % (q, k)) for q in members for k in range(msgs)]
    for name in members:
        # Each member waited for its own echoes: the lines still in flight were read after the churn.
        mine = got[name]
        rest = len(produced) - len(mine)
        if rest > 0:
            mine = mine + r.collected(name, "hub", rest, deadline)
        message = exactly_once(produced, mine, what="message")
        if message:
            r.fail("client %s (stable member of hub, while %d clients joined and left %d times in all): %s"
                   % (name, churners_n, sum(cycles.values()), message),
                   hint="a membership change must never make a broadcast skip or repeat a member")
        message = fifo_per_key([(nm, int(t.split("#")[1])) for nm, t in mine],
                               key=lambda x: x[0], seq=lambda x: x[1], what="sender")
        if message:
            r.fail("client %s: %s" % (name, message))
    r.end()


def _flood_setup(r):
    r.command("slow", "NICK slow")
    r.command("slow", "JOIN busy")
    r.client("a", "busy")
    r.client("b", "busy")
    r.client("c", "calm")
    r.client("d", "calm")


def _flood_lines(r, flood, p):
    """The flood as the readers got it: a line other than the next flood message fails (the earliest)."""
    n, size = p["flood_messages"], p["flood_bytes"]
    bad = []
    for name in ("a", "b"):
        lines = flood[name]
        r.j.expect(isinstance(lines, list), "the run recorded the flood in an unexpected shape")
        for k, (t, head, length) in enumerate(lines):
            if k >= n or not head.startswith("busy a: a#%d " % k):
                bad.append((t, "client %s expected flood message #%d, got %r" % (name, k, head[:60]), None))
                break
            want = len("busy a: a#%d " % k) + size
            if length != want:
                bad.append((t, "client %s expected flood message #%d whole (%d characters), got %d characters "
                               "starting %r" % (name, k, want, length, head[:40]), None))
                break
    first = _first(bad)
    if first:
        r.fail(first[1], first[2])


def _flood_count(flood, name):
    """How many flood messages a reader got, "none" when it had not finished (as the run used to say)."""
    return len(flood[name]) if flood["done_" + name] else "none"


def slow_client(j):
    p = j.params
    r = _Replay(j)
    _flood_setup(r)
    for q in ("c", "d"):
        got = r.next("probe", q)[3]
        if got != "calm c: are you there":
            r.fail("client slow (room busy) stopped reading while a flooded busy with %d messages of %d bytes; "
                   "then c sent 'MSG are you there' to room calm: %s expected it within %.1f s, got %s"
                   % (p["flood_messages"], p["flood_bytes"], q, p["probe_deadline"],
                      "nothing" if got is None else repr(got[:60])),
                   hint="never write to a socket while holding the lock every client needs: queue the line "
                        "for each member and let a writer thread per client send it")
    flood = r.next("flood")[2]
    _flood_lines(r, flood, p)
    for q in ("a", "b"):
        count = _flood_count(flood, q)
        if count != p["flood_messages"]:
            r.fail("client %s (room busy, reading) received %s of the %d flood messages within %.1f s while "
                   "client slow did not read%s" % (q, count, p["flood_messages"], p["flood_deadline"],
                                                   "; the sender failed: " + flood["send_error"]
                                                   if flood["send_error"] else ""),
                   hint=HINT_SLOW)
    r.end()


def backlog_bounded(j):
    p = j.params
    n = p["flood_messages"]
    r = _Replay(j)
    _flood_setup(r)
    flood = r.next("flood")[2]
    _flood_lines(r, flood, p)
    count = _flood_count(flood, "b")
    if count != n:
        r.fail("client b (reading) received %s of the %d flood messages while client slow did not read"
               % (count, n), hint=HINT_SLOW)
    _, _, eof, lines = r.next("slow_eof")
    if eof is not True:
        r.fail("client slow never read while %d messages of %d bytes went to its room; when it finally "
               "read, it got %d lines and the connection was still open after %.1f s: its backlog is "
               "unbounded (max_pending=%d)" % (n, p["flood_bytes"], lines, p["eof_timeout"], p["max_pending"]),
               hint="when max_pending lines already wait for a client, disconnect it instead of queuing more")
    if not lines < n:
        r.fail("client slow got all %d messages and then end-of-file: it was disconnected too late" % n)
    r.end()
