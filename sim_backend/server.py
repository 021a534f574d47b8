"""Raw SCPI sockets for simulated instruments (``labspin sim serve``).

Each instrument listens on its own port (127.0.0.1 unless told otherwise), reachable as the
VISA resource ``TCPIP::HOST::PORT::SOCKET`` from pyvisa-py or any other VISA client. The
protocol is line-based: a message ends with "\\n" (a "\\r" before it is dropped) and every
reply ends with the instrument's ``termination``. Several clients may connect at once;
each gets its own replies. Undecodable bytes are parsed like any other text (and fail with
a syntax error); a line longer than MAX_MESSAGE bytes is dropped with -363 Input buffer
overrun; a client that vanishes only ends its own thread. Faults apply: "timeout" sends
nothing, "garbled" sends corrupted bytes, "drop" closes that client's socket. A twin's
``reply_latency_s`` delays each reply by that much wall time.
"""
from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from typing import Mapping, Sequence

from .scpi import MAX_MESSAGE, SimInstrument

log = logging.getLogger(__name__)


class ServerHandle:
    """Running sockets: ``resources`` (name -> VISA resource), ``ports`` (name -> port).

    ``close()`` stops every thread promptly; usable as a context manager. A subclass serves
    another protocol by overriding :meth:`_client_loop` and ``resource_format``.
    """

    resource_format = "TCPIP::{host}::{port}::SOCKET"

    def __init__(self, host: str):
        self.host = host
        self.resources: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self._instruments: dict[socket.socket, SimInstrument] = {}
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._acceptor: threading.Thread | None = None

    # -- life cycle

    def _start(self) -> None:
        self._acceptor = threading.Thread(target=self._accept_loop, name="labspin-sim-accept",
                                          daemon=True)
        self._acceptor.start()

    def close(self, timeout: float = 2.0) -> None:
        """Close the listeners and every client, and join the threads (s, at most)."""
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        with self._lock:
            clients, threads = list(self._clients), list(self._threads)
        for sock in clients:
            _shutdown(sock)
        for thread in threads:
            thread.join(timeout)
        for sock in list(self._instruments):
            sock.close()
        self._wake_r.close()
        self._wake_w.close()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until closed (or ``timeout`` s); get whether it is closed."""
        return self._stop.wait(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- threads

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._wake_r, selectors.EVENT_READ)
            for listener in self._instruments:
                sel.register(listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stop.is_set():
                        return
                    try:
                        sock, _addr = key.fileobj.accept()
                    except OSError:
                        continue
                    self._start_client(sock, self._instruments[key.fileobj])

    def _start_client(self, sock: socket.socket, instrument: SimInstrument) -> None:
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(target=self._client_loop, args=(sock, instrument),
                                  name=f"labspin-sim-{type(instrument).__name__}", daemon=True)
        with self._lock:
            if self._stop.is_set():
                sock.close()
                return
            self._clients.add(sock)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _client_loop(self, sock: socket.socket, instrument: SimInstrument) -> None:
        buffer = bytearray()
        overflow = False
        try:
            while not self._stop.is_set():
                data = sock.recv(65536)
                if not data:
                    return
                buffer += data
                while True:
                    i = buffer.find(b"\n")
                    if i < 0:
                        if len(buffer) > MAX_MESSAGE:
                            buffer.clear()
                            if not overflow:
                                instrument.push_error(-363)
                            overflow = True
                        break
                    line = bytes(buffer[:i])
                    del buffer[:i + 1]
                    if overflow:  # the tail of an over-long line
                        overflow = False
                        continue
                    if len(line) > MAX_MESSAGE:
                        instrument.push_error(-363)
                        continue
                    if not self._serve_line(sock, instrument, line):
                        return
        except OSError:
            pass  # reset by the client, or shut down by close()
        finally:
            self._release(sock)

    def _release(self, sock: socket.socket) -> None:
        """Forget a client's socket, shut it down and close it."""
        with self._lock:
            self._clients.discard(sock)
        _shutdown(sock)
        sock.close()

    @staticmethod
    def _serve_line(sock: socket.socket, instrument: SimInstrument, line: bytes) -> bool:
        """Run one message and send its reply; False when the connection must close."""
        text = line.decode("latin-1")
        if text.endswith("\r"):
            text = text[:-1]
        if not text.strip():
            return True
        try:
            reply = instrument.respond(text)
        except Exception:  # a bug in a model must not take the server down
            log.exception("%s failed on %r", type(instrument).__name__, text)
            return True
        if reply.fault == "drop":
            return False
        payload = instrument.reply_bytes(reply)
        if payload is not None:
            if instrument.reply_latency_s:      # --latency: a slow instrument, in wall time
                time.sleep(instrument.reply_latency_s)
            sock.sendall(payload)
        return True


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def serve(instruments: Mapping[str, SimInstrument], host: str = "127.0.0.1",
          ports: Mapping[str, int] | Sequence[int] | None = None) -> ServerHandle:
    """Expose each instrument on its own TCP port and start serving in background threads.

    ``ports`` maps names to ports (or lists them in the order of ``instruments``); missing
    or 0 means a free port chosen by the system. Returns a :class:`ServerHandle` whose
    ``resources`` give "TCPIP::HOST::PORT::SOCKET" per name. OSError if a port is taken.
    """
    return listen(ServerHandle(host), instruments, ports)


def listen(handle: ServerHandle, instruments: Mapping[str, SimInstrument],
           ports: Mapping[str, int] | Sequence[int] | None = None) -> ServerHandle:
    """Open one listener per instrument on ``handle.host`` and start ``handle`` serving.

    ``ports`` as for :func:`serve`; each resource is ``handle.resource_format`` filled with
    the host and port. OSError (listeners closed again) if a port is taken.
    """
    if ports is None:
        ports = {}
    elif not isinstance(ports, Mapping):
        ports = dict(zip(instruments, ports))
    host = handle.host
    try:
        for name, instrument in instruments.items():
            listener = socket.create_server((host, int(ports.get(name, 0))))
            listener.setblocking(False)
            handle._instruments[listener] = instrument
            port = listener.getsockname()[1]
            handle.ports[name] = port
            handle.resources[name] = handle.resource_format.format(host=host, port=port)
    except OSError:
        for listener in handle._instruments:
            listener.close()
        handle._wake_r.close()
        handle._wake_w.close()
        raise
    handle._start()
    return handle
