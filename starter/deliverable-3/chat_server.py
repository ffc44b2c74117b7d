"""Deliverable 3: a threaded chat server with rooms, over TCP.

Protocol: UTF-8 text, one command per line. Lines end with "\\n"; a "\\r" just before it is ignored and
empty lines are ignored. A line may be up to 65536 bytes long.

Client -> server:

    NICK <name>    set your nick (1-32 characters, no whitespace)     reply: OK NICK <name>
    JOIN <room>    join <room> (1-32 characters, no whitespace),       reply: OK JOIN <room>
                   leaving the room you were in (one room at a time)
    LEAVE          leave your room                                    reply: OK LEAVE <room>
    MSG <text>     send <text> (the rest of the line, spaces included) to every member of your
                   room, yourself included

Server -> client:

    OK ...                  the command took effect (sent only to the client that gave it)
    ERR <reason>            the command was refused: an unknown command, a missing or invalid name,
                            MSG or LEAVE while in no room. The connection stays open.
    <room> <nick>: <text>   a chat message, e.g. "lobby alice: hello there"

Until it sends NICK, a client's nick is "guest<N>", N a number unique to its connection.

What the tests check:

* every member of a room, the sender included, receives each message sent to that room exactly once,
  and no client receives a message of a room it is not in;
* the messages of one sender reach every member in the order they were sent;
* once a client has received "OK JOIN r" it receives every message sent to r after that; once it has
  received "OK LEAVE r" (or "OK JOIN" of another room) it receives no more messages from r;
* TCP is a byte stream: a command may arrive in several pieces (even cut inside a UTF-8 character)
  and several commands may arrive in one recv();
* a client that stops reading never delays the others; when max_pending lines already wait to be sent
  to one client, the server disconnects that client instead of queuing more;
* a client that disconnects, even abruptly, is removed from its room and the others carry on;
  no server thread dies with an uncaught exception;
* stop() returns promptly; when it returns no thread started by the server is alive, every client
  has seen end-of-file and the port refuses new connections. stop() twice is harmless.
"""
import queue  # noqa: F401  (you will need these)
import socket  # noqa: F401
import threading  # noqa: F401


class ChatServer:
    """A chat server with rooms, one or more threads per client.

    ChatServer(host="127.0.0.1", port=0, max_pending=1000)
        port 0 means "any free port". Nothing happens until start().
    start() -> int
        binds and listens, starts serving in background threads and returns the port actually bound
        (also kept in self.port). It returns at once; clients can connect as soon as it has returned.
    stop() -> None
        closes the listening socket and every client connection and joins every thread the server
        started, then returns. Calling it again does nothing.
    max_pending
        the most lines that may wait to be sent to one client; a client with that many unsent lines
        is disconnected rather than given more.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, max_pending: int = 1000):
        self.host = host
        self.port = port
        self.max_pending = max_pending
        # TODO: the room membership (room -> clients), the lock that guards it, the list of threads
        # to join in stop(), a stopping flag.

    def start(self) -> int:
        # TODO: bind and listen (socket.create_server), start the accept thread, return the port.
        # Per client: a thread that reads and buffers lines and runs the commands, and a way to send
        # to the client that never blocks the other clients (a queue and a writer thread).
        raise NotImplementedError("ChatServer.start")

    def stop(self) -> None:
        # TODO: wake every thread (shutdown() their sockets, a sentinel on each queue) and join them.
        raise NotImplementedError("ChatServer.stop")
