"""Deliverable 3: a threaded chat server with rooms, over TCP.

Design: one accept thread; per client a reader thread (parses lines, runs commands) and a writer
thread (sends what is queued for that client). Room membership lives in one dict guarded by one
lock; a broadcast only puts the line on each member's queue while holding that lock, so no thread
ever does socket I/O under the lock and a client that does not read can only fill its own queue.
"""
import itertools
import queue
import socket
import threading

ENCODING = "utf-8"
MAX_NAME = 32          # longest nick or room name
MAX_LINE = 65536       # longest command line, in bytes (without the newline)
_BATCH = 64            # most queued lines one sendall() carries


def _valid_name(name):
    return 0 < len(name) <= MAX_NAME and not any(ch.isspace() for ch in name)


class _Client:
    """One connection: its socket, nick, room, queue of outgoing lines and its two threads."""

    def __init__(self, server, sock, ident):
        self.server = server
        self.sock = sock
        self.nick = "guest%d" % ident
        self.room = None                 # changed only under server._lock
        self.outbox = queue.Queue()      # encoded lines; None tells the writer to stop
        self.reader = threading.Thread(target=self._read_loop, name="chat-reader-%d" % ident, daemon=True)
        self.writer = threading.Thread(target=self._write_loop, name="chat-writer-%d" % ident, daemon=True)

    def start(self):
        self.writer.start()
        self.reader.start()

    def enqueue(self, line, limit):
        """Queues one line; False when the client already has `limit` unsent lines."""
        if self.outbox.qsize() >= limit:
            return False
        self.outbox.put((line + "\n").encode(ENCODING))
        return True

    def reply(self, line):
        if not self.enqueue(line, self.server.max_pending):
            self.server._drop(self)

    def shutdown(self):
        """Wakes both threads: recv() returns b"" and sendall() fails; the writer gets its sentinel."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.outbox.put(None)

    def _read_loop(self):
        buf = b""
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                buf += data
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    self.server._handle(self, raw.decode(ENCODING, "replace").rstrip("\r"))
                if len(buf) > MAX_LINE:
                    self.reply("ERR line too long")
                    break
        finally:
            self.server._drop(self)
            self.writer.join()
            self.sock.close()

    def _write_loop(self):
        try:
            while True:
                first = self.outbox.get()
                if first is None:
                    return
                chunk, stop = [first], False
                while len(chunk) < _BATCH:       # send what is already queued in one call
                    try:
                        nxt = self.outbox.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    chunk.append(nxt)
                self.sock.sendall(b"".join(chunk))
                if stop:
                    return
        except OSError:
            pass
        finally:
            self.server._drop(self)


class ChatServer:
    """A chat server with rooms; see starter/deliverable-3/chat_server.py for the full contract."""

    def __init__(self, host="127.0.0.1", port=0, max_pending=1000):
        self.host = host
        self.port = port
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._rooms = {}           # room name -> set of _Client
        self._clients = set()
        self._readers = []         # every reader thread not yet known to be finished
        self._ids = itertools.count(1)
        self._listener = None
        self._acceptor = None
        self._stopping = False

    def start(self):
        self._listener = socket.create_server((self.host, self.port), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="chat-accept", daemon=True)
        self._acceptor.start()
        return self.port

    def stop(self):
        with self._lock:
            if self._stopping or self._listener is None:
                return
            self._stopping = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)   # wakes accept()
        except OSError:
            pass
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            clients = list(self._clients)
            readers = list(self._readers)
        for client in clients:
            self._drop(client)
        for reader in readers:        # each reader joins its writer and closes its socket
            reader.join()

    # -- accepting -------------------------------------------------------------------------

    def _accept_loop(self):
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return                 # the listener was shut down by stop()
            with self._lock:
                if self._stopping:
                    sock.close()
                    return
                client = _Client(self, sock, next(self._ids))
                self._clients.add(client)
                self._readers = [t for t in self._readers if t.is_alive()]
                self._readers.append(client.reader)
            client.start()

    # -- commands --------------------------------------------------------------------------

    def _handle(self, client, line):
        if not line:
            return
        cmd, _, arg = line.partition(" ")
        if cmd == "MSG":
            self._broadcast(client, arg)
        elif cmd == "JOIN":
            if not _valid_name(arg):
                client.reply("ERR room names are 1-%d characters without spaces" % MAX_NAME)
                return
            with self._lock:
                self._leave_locked(client)
                self._rooms.setdefault(arg, set()).add(client)
                client.room = arg
            client.reply("OK JOIN %s" % arg)
        elif cmd == "LEAVE":
            with self._lock:
                room = self._leave_locked(client)
            client.reply("OK LEAVE %s" % room if room else "ERR not in a room")
        elif cmd == "NICK":
            if not _valid_name(arg):
                client.reply("ERR nicks are 1-%d characters without spaces" % MAX_NAME)
                return
            client.nick = arg
            client.reply("OK NICK %s" % arg)
        else:
            client.reply("ERR unknown command %s" % cmd[:MAX_NAME])

    def _leave_locked(self, client):
        room = client.room
        if room is not None:
            members = self._rooms.get(room)
            if members is not None:
                members.discard(client)
                if not members:
                    del self._rooms[room]
            client.room = None
        return room

    def _broadcast(self, client, text):
        overflowing = []
        with self._lock:
            room = client.room
            if room is not None:
                line = "%s %s: %s" % (room, client.nick, text)
                for member in self._rooms.get(room, ()):
                    if not member.enqueue(line, self.max_pending):
                        overflowing.append(member)
        if room is None:
            client.reply("ERR not in a room")
        for member in overflowing:     # a client that does not read is cut off, not waited for
            self._drop(member)

    def _drop(self, client):
        """Forgets a client (idempotent) and wakes its threads; they finish on their own."""
        with self._lock:
            self._leave_locked(client)
            self._clients.discard(client)
        client.shutdown()
