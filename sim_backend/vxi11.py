"""VXI-11 server for simulated instruments: LAN instruments with message ends, the
protocol of most LAN instruments before HiSLIP.

VXI-11 is ONC RPC (RFC 5531) over TCP, in records (RFC 5531 section 11 record marking),
arguments in XDR (packed with pyvisa-py's own ``xdrlib``). One server holds every twin
behind one *core channel* port, each twin under its LAN device name ``inst0``, ``inst1``, …
(in the order given), as a LAN/GPIB gateway does. Three listeners on 127.0.0.1:

* the core channel (program 0x0607AF, version 1): create_link, device_write (a message
  that ends with the END flag runs in the link's worker, messages in order; the write is
  answered when it has run, or at its io_timeout with the message still running, as an
  input buffer takes data in), device_read (one reply per message, its last
  chunk with reason END; a smaller request size gets REQCNT, a termination character set
  by the client gets CHR), device_readstb (MAV while a reply waits), device_trigger,
  device_clear (pending input and replies dropped, the twin's ``device_clear`` hook),
  device_remote / device_local, device_lock / device_unlock (granted at once or refused
  with error 11: nothing waits), device_enable_srq (accepted; no interrupt channel, so no
  SRQ is ever sent), destroy_link. create_intr_chan and device_docmd answer 8
  (operation not supported).
* the abort channel (program 0x0607B0): device_abort answers at once (every call above
  completes before its reply, so there is nothing to abort).
* a portmapper (program 100000, version 2, RFC 1833: NULL, GETPORT, DUMP) that gives the
  core and abort ports. Port 111 when it can be bound (root, nothing else on it), else the
  port asked for. pyvisa-py 0.8.1 asks the portmapper only on port 111
  (``rpc.PMAP_PORT``, fixed); elsewhere it skips the portmapper when the resource names
  the core port, ``TCPIP::127.0.0.1,PORT::inst0::INSTR`` — the form :attr:`resources`
  gives unless the portmapper is on 111 (then ``TCPIP::127.0.0.1::inst0::INSTR``).

A read waits for the reply of a message still running, at most its io_timeout (then 15,
io_timeout, before the client's own RPC deadline of io_timeout + 1 s, so a slow reply under
load times out cleanly instead of leaving the RPC stream behind); with nothing running it
answers 15 at once, as a real instrument would after the client's timeout: nothing waits on
the bench's clock. device_readstb and device_trigger first wait (as long) for the messages
written before them. Errors: an
unknown link id gets 4, a device name no twin has gets 3 on create_link, an RPC for
another program PROG_UNAVAIL, another version PROG_MISMATCH, another procedure
PROC_UNAVAIL, arguments that do not unpack GARBAGE_ARGS; a record longer than MAX_RECORD
closes that connection. Injected faults act as on the other servers: "timeout" leaves
nothing to read, "garbled" corrupts the reply, "drop" closes the connection.
"""
from __future__ import annotations

import itertools
import logging
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Mapping

from pyvisa_py.protocols import vxi11 as v
from pyvisa_py.protocols.xdrlib import Error as XDRError
from pyvisa_py.protocols.xdrlib import Packer, Unpacker

from .hislip import _recv_exact, run_message
from .scpi import MAX_MESSAGE, SimInstrument
from .server import ServerHandle, _shutdown

log = logging.getLogger(__name__)

PMAP_PROG, PMAP_VERS, PMAP_PORT = 100000, 2, 111
PMAPPROC_NULL, PMAPPROC_GETPORT, PMAPPROC_DUMP = 0, 3, 4
IPPROTO_TCP = 6
MAX_RECV_SIZE = MAX_MESSAGE
"""Largest device_write block announced in create_link (bytes)."""
MAX_RECORD = MAX_RECV_SIZE + 1024
"""Largest RPC record accepted (bytes: a full write block and its headers)."""

CALL, REPLY = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS = range(5)
RPC_MISMATCH = 0

E = v.ErrorCodes


class _ProcUnavailable(Exception):
    """The procedure number is not one of the program's."""


@dataclass
class _Link:
    """One link of a client to one twin: its input, the messages waiting to run (in its
    own worker thread, in order), and the replies not yet read."""
    id: int
    device: str
    instrument: SimInstrument
    sock: socket.socket
    message: bytearray = field(default_factory=bytearray)  # written, no END yet
    overflow: bool = False
    replies: deque = field(default_factory=deque)           # one bytes per message
    pending: deque = field(default_factory=deque)           # messages with END, not run
    running: bool = False                                   # a worker is running them
    generation: int = 0                                     # bumped by device clear
    cond: threading.Condition = field(default_factory=threading.Condition)

    def idle(self) -> bool:
        return not self.pending and not self.running

    def wait(self, ready, timeout_ms: int) -> bool:
        """Wait until ``ready()`` (at most the client's io_timeout); get whether it is."""
        with self.cond:
            return self.cond.wait_for(ready, timeout_ms / 1000.0)


class VXI11ServerHandle(ServerHandle):
    """A running VXI-11 server: ``resources`` (name -> VISA resource), ``ports`` (name ->
    core port), ``devices`` (name -> LAN device name), ``core_port``, ``abort_port`` and
    ``portmapper_port``."""

    def __init__(self, host: str):
        super().__init__(host)
        self.devices: dict[str, str] = {}
        self._by_device: dict[str, SimInstrument] = {}
        self._links: dict[int, _Link] = {}
        self._link_ids = itertools.count(1)
        self._exclusive: dict[int, int] = {}   # id(instrument) -> link id holding its lock
        self.core_port = self.abort_port = self.portmapper_port = 0
        self._programs: dict[str, tuple[int, int, Callable]] = {
            "core": (v.DEVICE_CORE_PROG, v.DEVICE_CORE_VERS, self._core),
            "abort": (v.DEVICE_ASYNC_PROG, v.DEVICE_ASYNC_VERS, self._abort),
            "portmap": (PMAP_PROG, PMAP_VERS, self._portmap),
        }

    # -- RPC records

    def _client_loop(self, sock: socket.socket, channel: str) -> None:
        prog, vers, handler = self._programs[channel]
        try:
            while not self._stop.is_set():
                record = _read_record(sock)
                if record is None:
                    return
                reply = self._call(record, prog, vers, handler, sock)
                if reply is None:
                    return
                if reply:
                    sock.sendall(struct.pack("!I", 0x8000_0000 | len(reply)) + reply)
        except (OSError, ConnectionError):
            pass  # reset by the client, or shut down by close()
        except Exception:  # a bug must end this connection only, not the server
            log.exception("VXI-11 %s channel failed", channel)
        finally:
            self._release(sock)
            self._drop_links(sock)

    def _call(self, record: bytes, prog: int, vers: int, handler: Callable,
              sock: socket.socket) -> bytes | None:
        """Answer one RPC call record; b"" sends nothing, None closes the connection."""
        u = Unpacker(record)
        try:
            xid, mtype = u.unpack_uint(), u.unpack_int()
            if mtype != CALL:
                return b""
            rpcvers, cprog, cvers, proc = (u.unpack_uint() for _ in range(4))
            for _ in range(2):          # credentials, verifier: accepted, not checked
                u.unpack_uint()
                u.unpack_opaque()
        except (XDRError, EOFError, struct.error):
            return None                 # not an RPC call: nothing sensible to answer
        p = Packer()
        p.pack_uint(xid)
        p.pack_int(REPLY)
        if rpcvers != 2:
            for x in (MSG_DENIED, RPC_MISMATCH, 2, 2):
                p.pack_uint(x)
            return p.get_buffer()
        p.pack_uint(MSG_ACCEPTED)
        p.pack_uint(0)                  # verifier AUTH_NONE
        p.pack_opaque(b"")
        if cprog != prog:
            p.pack_uint(PROG_UNAVAIL)
            return p.get_buffer()
        if cvers != vers:
            for x in (PROG_MISMATCH, vers, vers):
                p.pack_uint(x)
            return p.get_buffer()
        body = Packer()
        try:
            result = handler(proc, u, body, sock)
            u.done()
        except _ProcUnavailable:
            p.pack_uint(PROC_UNAVAIL)
            return p.get_buffer()
        except (XDRError, EOFError, struct.error, UnicodeDecodeError):
            p.pack_uint(GARBAGE_ARGS)
            return p.get_buffer()
        if result is None:
            return None
        p.pack_uint(SUCCESS)
        return p.get_buffer() + body.get_buffer()

    # -- programs: each unpacks its arguments from u, packs its results into p; None when
    # the connection must close

    def _portmap(self, proc: int, u: Unpacker, p: Packer, _sock) -> bool:
        table = [(v.DEVICE_CORE_PROG, v.DEVICE_CORE_VERS, self.core_port),
                 (v.DEVICE_ASYNC_PROG, v.DEVICE_ASYNC_VERS, self.abort_port),
                 (PMAP_PROG, PMAP_VERS, self.portmapper_port)]
        if proc == PMAPPROC_NULL:
            return True
        if proc == PMAPPROC_GETPORT:
            prog, vers, prot, _port = (u.unpack_uint() for _ in range(4))
            p.pack_uint(next((port for tp, tv, port in table
                              if (tp, tv, IPPROTO_TCP) == (prog, vers, prot)), 0))
            return True
        if proc == PMAPPROC_DUMP:
            for prog, vers, port in table:
                p.pack_bool(True)
                for x in (prog, vers, IPPROTO_TCP, port):
                    p.pack_uint(x)
            p.pack_bool(False)
            return True
        raise _ProcUnavailable

    def _abort(self, proc: int, u: Unpacker, p: Packer, _sock) -> bool:
        if proc != v.DEVICE_ABORT:
            raise _ProcUnavailable
        p.pack_int(E.no_error if u.unpack_int() in self._links else E.invalid_link_identifier)
        return True

    def _core(self, proc: int, u: Unpacker, p: Packer, sock: socket.socket) -> bool | None:
        if proc == v.CREATE_LINK:
            return self._create_link(u, p, sock)
        if proc in (v.CREATE_INTR_CHAN, v.DESTROY_INTR_CHAN):
            if proc == v.CREATE_INTR_CHAN:
                for _ in range(5):
                    u.unpack_uint()
            p.pack_int(E.operation_not_supported)
            return True
        if proc not in (v.DEVICE_WRITE, v.DEVICE_READ, v.DEVICE_READSTB, v.DEVICE_TRIGGER,
                        v.DEVICE_CLEAR, v.DEVICE_REMOTE, v.DEVICE_LOCAL, v.DEVICE_LOCK,
                        v.DEVICE_UNLOCK, v.DEVICE_ENABLE_SRQ, v.DEVICE_DOCMD,
                        v.DESTROY_LINK):
            raise _ProcUnavailable
        link = self._links.get(u.unpack_int())
        if link is None or link.sock is not sock:
            _skip_args(proc, u)
            p.pack_int(E.invalid_link_identifier)
            _pack_empty_results(proc, p)
            return True
        if proc == v.DEVICE_WRITE:
            return self._write(link, u, p)
        if proc == v.DEVICE_READ:
            return self._read(link, u, p)
        if proc == v.DEVICE_DOCMD:
            _skip_args(proc, u)
            p.pack_int(E.operation_not_supported)
            p.pack_opaque(b"")
            return True
        io_timeout = _generic_io_timeout(proc, u)
        inst = link.instrument
        if proc in (v.DEVICE_READSTB, v.DEVICE_TRIGGER):
            link.wait(link.idle, io_timeout)     # after the messages written before it
        if proc == v.DEVICE_READSTB:
            with inst.lock:
                stb = inst.status_byte(bool(link.replies))
            p.pack_int(E.no_error)
            p.pack_uint(stb)
        elif proc == v.DEVICE_TRIGGER:
            with inst.lock:
                inst.trigger()
            p.pack_int(E.no_error)
        elif proc == v.DEVICE_CLEAR:
            with link.cond:
                link.message.clear()
                link.replies.clear()
                link.pending.clear()
                link.generation += 1         # a message running now answers nothing
                link.overflow = False
            with inst.lock:
                inst.device_clear()
            p.pack_int(E.no_error)
        elif proc == v.DEVICE_LOCK:
            p.pack_int(self._lock_request(link, True))
        elif proc == v.DEVICE_UNLOCK:
            p.pack_int(self._lock_request(link, False))
        elif proc == v.DESTROY_LINK:
            self._destroy(link)
            p.pack_int(E.no_error)
        else:                           # remote, local, enable_srq
            p.pack_int(E.no_error)
        return True

    # -- core procedures

    def _create_link(self, u: Unpacker, p: Packer, sock: socket.socket) -> bool:
        _client_id, lock_device, _lock_timeout = u.unpack_int(), u.unpack_bool(), u.unpack_uint()
        device = u.unpack_string().decode("ascii").lower()
        instrument = self._by_device.get(device)
        if instrument is None:
            error, lid = E.device_not_accessible, 0
        else:
            with self._lock:
                lid = next(self._link_ids)
                self._links[lid] = _Link(lid, device, instrument, sock)
            error = self._lock_request(self._links[lid], True) if lock_device else E.no_error
            if error:
                self._destroy(self._links[lid])
                lid = 0
        p.pack_int(error)
        p.pack_int(lid)
        p.pack_uint(self.abort_port)
        p.pack_uint(MAX_RECV_SIZE)
        return True

    def _write(self, link: _Link, u: Unpacker, p: Packer) -> bool | None:
        io_timeout, _lock_timeout, flags = u.unpack_uint(), u.unpack_uint(), u.unpack_int()
        data = u.unpack_opaque()
        if self._locked_by_other(link):
            p.pack_int(E.device_locked_by_another_link)
            p.pack_uint(0)
            return True
        if not link.overflow:
            link.message += data
            if len(link.message) > MAX_MESSAGE:
                link.instrument.push_error(-363)
                link.message.clear()
                link.overflow = True
        if flags & v.OP_FLAG_END:
            message, link.overflow = bytes(link.message), False
            link.message.clear()
            if message:
                self._queue(link, message)
                link.wait(link.idle, io_timeout)   # answered when run, or at io_timeout
        p.pack_int(E.no_error)
        p.pack_uint(len(data))
        return True

    def _queue(self, link: _Link, message: bytes) -> None:
        """Hand a message to the link's worker: the write is acknowledged once the data is
        in, as an instrument's input buffer does, and the message runs meanwhile."""
        with link.cond:
            link.pending.append(message)
            if link.running:
                return
            link.running = True
        threading.Thread(target=self._work, args=(link,), daemon=True,
                         name=f"labspin-vxi11-link-{link.id}").start()

    def _work(self, link: _Link) -> None:
        while True:
            with link.cond:
                if not link.pending:
                    link.running = False
                    link.cond.notify_all()
                    return
                message, generation = link.pending.popleft(), link.generation
            out = run_message(link.instrument, message)
            with link.cond:
                if out is None:                   # a "drop" fault: the connection ends
                    link.pending.clear()
                    link.running = False
                    link.cond.notify_all()
                    _shutdown(link.sock)
                    return
                if out and generation == link.generation:
                    link.replies.append(out)
                link.cond.notify_all()

    def _read(self, link: _Link, u: Unpacker, p: Packer) -> bool:
        size, io_timeout, _lock_timeout = u.unpack_uint(), u.unpack_uint(), u.unpack_uint()
        flags, term = u.unpack_int(), u.unpack_int() & 0xFF
        # a reply still being made is waited for, at most io_timeout; none coming: at once
        link.wait(lambda: link.replies or link.idle(), io_timeout)
        if self._locked_by_other(link) or not link.replies:
            p.pack_int(E.device_locked_by_another_link if link.replies else E.io_timeout)
            p.pack_int(0)
            p.pack_opaque(b"")
            return True
        with link.cond:
            return self._take(link, size, flags, term, p)

    @staticmethod
    def _take(link: _Link, size: int, flags: int, term: int, p: Packer) -> bool:
        reply = link.replies[0]
        n, reason = min(size, len(reply)), 0
        if flags & v.OP_FLAG_TERMCHAR_SET:
            i = reply.find(bytes([term]), 0, n)
            if i >= 0:
                n, reason = i + 1, v.RX_CHR
        if n == len(reply):
            link.replies.popleft()
            reason |= v.RX_END
        else:
            link.replies[0] = reply[n:]
            if n == size:
                reason |= v.RX_REQCNT
        p.pack_int(E.no_error)
        p.pack_int(reason)
        p.pack_opaque(reply[:n])
        return True

    def _locked_by_other(self, link: _Link) -> bool:
        with self._lock:
            return self._exclusive.get(id(link.instrument), link.id) != link.id

    def _lock_request(self, link: _Link, acquire: bool) -> int:
        key = id(link.instrument)
        with self._lock:
            holder = self._exclusive.get(key)
            if acquire:
                if holder not in (None, link.id):
                    return E.device_locked_by_another_link
                self._exclusive[key] = link.id
                return E.no_error
            if holder != link.id:
                return E.no_lock_held_by_this_link
            del self._exclusive[key]
            return E.no_error

    def _destroy(self, link: _Link) -> None:
        with self._lock:
            self._links.pop(link.id, None)
            if self._exclusive.get(id(link.instrument)) == link.id:
                del self._exclusive[id(link.instrument)]

    def _drop_links(self, sock: socket.socket) -> None:
        """Destroy the links a closed connection held."""
        with self._lock:
            links = [link for link in self._links.values() if link.sock is sock]
        for link in links:
            self._destroy(link)


def _read_record(sock: socket.socket) -> bytes | None:
    """Read one RPC record (its fragments joined); None at a clean end of the connection,
    or when it is longer than MAX_RECORD."""
    record = bytearray()
    while True:
        try:
            (mark,) = struct.unpack("!I", _recv_exact(sock, 4))
        except ConnectionError:
            return None
        length = mark & 0x7FFF_FFFF
        if len(record) + length > MAX_RECORD:
            return None
        record += _recv_exact(sock, length)
        if mark & 0x8000_0000:
            return bytes(record)


_GENERIC = (v.DEVICE_READSTB, v.DEVICE_TRIGGER, v.DEVICE_CLEAR, v.DEVICE_REMOTE,
            v.DEVICE_LOCAL)


def _skip_args(proc: int, u: Unpacker) -> None:
    """Unpack the arguments after the link id (so that garbage is detected)."""
    if proc in _GENERIC:
        u.unpack_int()
        u.unpack_uint()
        u.unpack_uint()
    elif proc == v.DEVICE_LOCK:
        u.unpack_int()
        u.unpack_uint()
    elif proc == v.DEVICE_ENABLE_SRQ:
        u.unpack_bool()
        u.unpack_opaque()
    elif proc == v.DEVICE_WRITE:
        u.unpack_uint(), u.unpack_uint(), u.unpack_int(), u.unpack_opaque()
    elif proc == v.DEVICE_READ:
        for _ in range(5):
            u.unpack_uint()
    elif proc == v.DEVICE_DOCMD:
        for _ in range(4):
            u.unpack_uint()
        u.unpack_bool()
        u.unpack_int()
        u.unpack_opaque()


def _generic_io_timeout(proc: int, u: Unpacker) -> int:
    """Unpack the arguments after the link id; get the io_timeout (ms) of Device_GenericParms
    (0 for other procedures)."""
    if proc in _GENERIC:
        u.unpack_int()
        u.unpack_uint()
        return u.unpack_uint()
    _skip_args(proc, u)
    return 0


def _pack_empty_results(proc: int, p: Packer) -> None:
    """The results after the error code of a failed call."""
    if proc in (v.DEVICE_WRITE, v.DEVICE_READSTB):
        p.pack_uint(0)
    elif proc == v.DEVICE_READ:
        p.pack_int(0)
        p.pack_opaque(b"")
    elif proc == v.DEVICE_DOCMD:
        p.pack_opaque(b"")


def serve_vxi11(instruments: Mapping[str, SimInstrument], host: str = "127.0.0.1", *,
                core_port: int = 0, portmapper_port: int | None = PMAP_PORT,
                fallback_port: int = 0) -> VXI11ServerHandle:
    """Serve the instruments over VXI-11 as ``inst0``, ``inst1``, … behind one core port
    (0: a free one), with a portmapper on ``portmapper_port`` (None: none); if that port
    cannot be bound, on ``fallback_port`` (0: a free one). OSError if the core port is
    taken."""
    handle = VXI11ServerHandle(host)
    listeners: list[socket.socket] = []
    try:
        def bind(port: int, channel: str) -> int:
            listener = socket.create_server((host, port))
            listener.setblocking(False)
            listeners.append(listener)
            handle._instruments[listener] = channel
            return listener.getsockname()[1]

        handle.core_port = bind(core_port, "core")
        handle.abort_port = bind(0, "abort")
        if portmapper_port is not None:
            try:
                handle.portmapper_port = bind(portmapper_port, "portmap")
            except OSError:
                handle.portmapper_port = bind(fallback_port, "portmap")
    except OSError:
        for listener in listeners:
            listener.close()
        handle._wake_r.close()
        handle._wake_w.close()
        raise
    standard = handle.portmapper_port == PMAP_PORT
    for i, (name, instrument) in enumerate(instruments.items()):
        device = f"inst{i}"
        handle.devices[name], handle._by_device[device] = device, instrument
        handle.ports[name] = handle.core_port
        address = host if standard else f"{host},{handle.core_port}"
        handle.resources[name] = f"TCPIP::{address}::{device}::INSTR"
    handle._start()
    return handle


__all__ = ["VXI11ServerHandle", "serve_vxi11", "PMAP_PORT"]
