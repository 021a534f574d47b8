"""HiSLIP server for simulated instruments: LAN instruments with message ends.

Each twin listens on its own port of 127.0.0.1 as the VISA resource
``TCPIP::127.0.0.1::hislip0,PORT::INSTR``. HiSLIP (IVI-6.1) carries every message in a
framed packet and marks its last packet (DataEnd), so a reply always arrives with END and
a client needs no termination settings — as with GPIB. Served, in synchronized mode:

* Initialize / AsyncInitialize (protocol 1.0, sub-address ``hislip0``), one session per
  client pair of connections; any number of sessions per twin.
* Data / DataEnd: the message is run once DataEnd arrives (several lines in one message run
  in turn); the replies go back as Data packets no larger than the client's maximum
  message size, the last one DataEnd, carrying the message's MessageID.
* Device clear (AsyncDeviceClear, DeviceClearComplete): input received in between is
  discarded and the twin's ``device_clear`` hook runs; feature bitmap 0 (no overlap). A
  reply already sent is in the client's hands: pyvisa-py 0.8.1's viClear does not flush it
  (it then reads that reply where it expects DeviceClearAcknowledge), so read or clear
  before a query's reply is out, as with any HiSLIP server.
* AsyncStatusQuery: the status byte (``SimInstrument.status_byte``), with MAV set while the
  last reply has not been reported delivered (the RMT-delivered bit of the client's next
  message); it first waits (at most STATUS_WAIT_S) for the message sent just before it on
  the synchronous connection to have run, so a write followed by a status read sees MAV.
* Trigger (the twin's ``trigger``), AsyncMaxMsgSize, AsyncLock (exclusive, granted at
  once or refused), AsyncLockInfo, AsyncRemoteLocalControl.

Errors: a packet without the "HS" prologue, or a connection that does not start with
(Async)Initialize, gets FatalError and is closed; an unknown message type gets Error 1
"Unrecognized Message Type" and its payload is skipped; a packet larger than the announced
maximum gets Error 4 "Message too large" and is skipped; a message longer than MAX_MESSAGE
queues -363 Input buffer overrun on the twin. Injected faults act as on the raw sockets:
"timeout" sends nothing, "garbled" corrupts the reply, "drop" closes the session.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Mapping, Sequence

from .scpi import MAX_MESSAGE, SimInstrument
from .server import ServerHandle, _shutdown, listen

log = logging.getLogger(__name__)

HEADER = struct.Struct("!2sBBIQ")
"""Prologue "HS", message type, control code, message parameter, payload length."""
PROTOCOL_VERSION = 0x0100
"""HiSLIP 1.0 (major, minor bytes)."""
VENDOR_ID = 0x4C53
"""Our two-character vendor id, "LS"."""
SUB_ADDRESS = "hislip0"
STATUS_WAIT_S = 0.05
"""Longest wait of a status query for the message sent just before it on the other
connection (s)."""
MAX_MSG_SIZE = 1 << 20
"""Largest packet (header + payload, bytes) the server accepts, announced in AsyncMaxMsgSize."""

(INITIALIZE, INITIALIZE_RESPONSE, FATAL_ERROR, ERROR, ASYNC_LOCK, ASYNC_LOCK_RESPONSE, DATA,
 DATA_END, DEVICE_CLEAR_COMPLETE, DEVICE_CLEAR_ACKNOWLEDGE, ASYNC_REMOTE_LOCAL_CONTROL,
 ASYNC_REMOTE_LOCAL_RESPONSE, TRIGGER, INTERRUPTED, ASYNC_INTERRUPTED, ASYNC_MAX_MSG_SIZE,
 ASYNC_MAX_MSG_SIZE_RESPONSE, ASYNC_INITIALIZE, ASYNC_INITIALIZE_RESPONSE, ASYNC_DEVICE_CLEAR,
 ASYNC_SERVICE_REQUEST, ASYNC_STATUS_QUERY, ASYNC_STATUS_RESPONSE,
 ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, ASYNC_LOCK_INFO, ASYNC_LOCK_INFO_RESPONSE) = range(26)

FATAL_POORLY_FORMED, FATAL_BAD_INIT = 1, 3
ERROR_UNRECOGNIZED_TYPE, ERROR_TOO_LARGE = 1, 4


class ProtocolError(Exception):
    """A fatal protocol error: FatalError ``code`` is sent and the connection closed."""

    def __init__(self, code: int, text: str):
        self.code, self.text = code, text
        super().__init__(text)


def pack(msg_type: int, control: int = 0, parameter: int = 0, payload: bytes = b"") -> bytes:
    """Get one HiSLIP packet."""
    return HEADER.pack(b"HS", msg_type, control, parameter, len(payload)) + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise ConnectionResetError("client closed the connection")
        data += chunk
    return bytes(data)


def _skip(sock: socket.socket, n: int) -> None:
    while n > 0:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ConnectionResetError("client closed the connection")
        n -= len(chunk)


def read_header(sock: socket.socket) -> tuple[int, int, int, int]:
    """Read one header; get (type, control code, parameter, payload length)."""
    prologue, msg_type, control, parameter, length = HEADER.unpack(
        _recv_exact(sock, HEADER.size))
    if prologue != b"HS":
        raise ProtocolError(FATAL_POORLY_FORMED, "Poorly formed message header")
    return msg_type, control, parameter, length


class _Session:
    """One client: its synchronous and asynchronous connections to one twin."""

    def __init__(self, sid: int, instrument: SimInstrument, sync: socket.socket):
        self.id, self.instrument, self.sync = sid, instrument, sync
        self.async_sock: socket.socket | None = None
        self.client_max = MAX_MSG_SIZE     # the client's largest packet (AsyncMaxMsgSize)
        self.clearing = False              # between AsyncDeviceClear and DeviceClearComplete
        self.reply_pending = False         # a reply sent, not yet reported delivered (MAV)
        self.done = threading.Condition()
        self.last_id: int | None = None    # MessageID of the last message handled

    def handled(self, message_id: int | None) -> None:
        """Record that the message ``message_id`` has been run (None: after a clear)."""
        with self.done:
            self.last_id = message_id
            self.done.notify_all()

    def wait_handled(self, next_id: int, timeout: float = STATUS_WAIT_S) -> None:
        """Wait until the message before ``next_id`` (the id a status query carries: the
        client's next MessageID) has been run, at most ``timeout`` s (it may never have
        been sent)."""
        wanted = (next_id - 2) & 0xFFFF_FFFF
        with self.done:
            self.done.wait_for(lambda: self.last_id in (wanted, next_id), timeout)


class HiSLIPServerHandle(ServerHandle):
    """Running HiSLIP servers; ``resources`` give "TCPIP::HOST::hislip0,PORT::INSTR"."""

    resource_format = "TCPIP::{host}::" + SUB_ADDRESS + ",{port}::INSTR"

    def __init__(self, host: str):
        super().__init__(host)
        self._sessions: dict[int, _Session] = {}
        self._next_id = 0
        self._exclusive: dict[int, int] = {}     # id(instrument) -> session id holding it

    def _client_loop(self, sock: socket.socket, instrument: SimInstrument) -> None:
        session = None
        try:
            msg_type, _control, parameter, length = read_header(sock)
            payload = _recv_exact(sock, length) if length <= 256 else None
            if msg_type == INITIALIZE and payload is not None:
                session = self._open_session(sock, instrument, payload)
                self._sync_loop(session)
            elif msg_type == ASYNC_INITIALIZE and not length:
                session = self._attach_async(sock, instrument, parameter)
                self._async_loop(session)
            else:
                raise ProtocolError(FATAL_BAD_INIT, "Invalid Initialization sequence")
        except ProtocolError as err:
            _send_quietly(sock, pack(FATAL_ERROR, err.code, 0, err.text.encode()))
        except (OSError, struct.error):
            pass  # reset by the client, or shut down by close()
        finally:
            self._release(sock)
            if session is not None:
                self._end_session(session)

    # -- sessions

    def _open_session(self, sock: socket.socket, instrument: SimInstrument,
                      sub_address: bytes) -> _Session:
        if sub_address.decode("latin-1").lower() not in ("", SUB_ADDRESS):
            raise ProtocolError(FATAL_BAD_INIT, f"unknown sub-address {sub_address!r}; "
                                f"this server has {SUB_ADDRESS}")
        with self._lock:
            self._next_id = self._next_id % 0xFFFF + 1
            session = _Session(self._next_id, instrument, sock)
            self._sessions[session.id] = session
        sock.sendall(pack(INITIALIZE_RESPONSE, 0, PROTOCOL_VERSION << 16 | session.id))
        return session

    def _attach_async(self, sock: socket.socket, instrument: SimInstrument,
                      sid: int) -> _Session:
        with self._lock:
            session = self._sessions.get(sid)
            if session is None or session.instrument is not instrument or session.async_sock:
                raise ProtocolError(FATAL_BAD_INIT, f"no session {sid} awaits its "
                                    "asynchronous channel")
            session.async_sock = sock
        sock.sendall(pack(ASYNC_INITIALIZE_RESPONSE, 0, VENDOR_ID))
        return session

    def _end_session(self, session: _Session) -> None:
        with self._lock:
            if self._sessions.pop(session.id, None) is None:
                return
            key = id(session.instrument)
            if self._exclusive.get(key) == session.id:
                del self._exclusive[key]
        for sock in (session.sync, session.async_sock):
            if sock is not None:
                _shutdown(sock)

    # -- synchronous channel

    def _sync_loop(self, session: _Session) -> None:
        sock, message, overflow = session.sync, bytearray(), False
        while not self._stop.is_set():
            msg_type, control, parameter, length = read_header(sock)
            if msg_type in (DATA, DATA_END):
                if length > MAX_MSG_SIZE:
                    _skip(sock, length)
                    sock.sendall(pack(ERROR, ERROR_TOO_LARGE, 0, b"Message too large"))
                    continue
                payload = _recv_exact(sock, length)
                if control & 1:
                    session.reply_pending = False        # RMT delivered
                if session.clearing:
                    continue
                if not overflow:
                    message += payload
                    if len(message) > MAX_MESSAGE:
                        session.instrument.push_error(-363)
                        message.clear()
                        overflow = True
                if msg_type == DATA_END:
                    text, overflow = bytes(message), False
                    message.clear()
                    if text and not self._execute(session, text, parameter):
                        return
                    session.handled(parameter)
            elif msg_type == TRIGGER:
                if not session.clearing:
                    with session.instrument.lock:
                        session.instrument.trigger()
                session.handled(parameter)
            elif msg_type == DEVICE_CLEAR_COMPLETE:
                message.clear()
                overflow = session.clearing = session.reply_pending = False
                session.handled(None)
                sock.sendall(pack(DEVICE_CLEAR_ACKNOWLEDGE, 0))
            elif msg_type == FATAL_ERROR:
                return
            else:
                _skip(sock, length)
                if msg_type != ERROR:
                    sock.sendall(pack(ERROR, ERROR_UNRECOGNIZED_TYPE, 0,
                                      b"Unrecognized Message Type"))

    def _execute(self, session: _Session, message: bytes, message_id: int) -> bool:
        """Run each line of a message and send the replies; False when the session must end."""
        out = run_message(session.instrument, message)
        if out is None:
            return False
        if out:
            self._send_reply(session, out, message_id)
        return True

    def _send_reply(self, session: _Session, data: bytes, message_id: int) -> None:
        chunk = max(session.client_max - HEADER.size, 1)
        packets = [pack(DATA, 0, message_id, data[i:i + chunk])
                   for i in range(0, len(data) - chunk, chunk)]
        packets.append(pack(DATA_END, 0, message_id, data[len(packets) * chunk:]))
        session.reply_pending = True
        session.sync.sendall(b"".join(packets))

    # -- asynchronous channel

    def _async_loop(self, session: _Session) -> None:
        sock, instrument = session.async_sock, session.instrument
        while not self._stop.is_set():
            msg_type, control, parameter, length = read_header(sock)
            payload = _recv_exact(sock, length) if length <= MAX_MSG_SIZE else None
            if payload is None:
                _skip(sock, length)
                sock.sendall(pack(ERROR, ERROR_TOO_LARGE, 0, b"Message too large"))
            elif msg_type == ASYNC_STATUS_QUERY:
                session.wait_handled(parameter)
                if control & 1:
                    session.reply_pending = False
                with instrument.lock:
                    stb = instrument.status_byte(session.reply_pending)
                sock.sendall(pack(ASYNC_STATUS_RESPONSE, stb))
            elif msg_type == ASYNC_DEVICE_CLEAR:
                session.clearing, session.reply_pending = True, False
                with instrument.lock:
                    instrument.device_clear()
                sock.sendall(pack(ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, 0))
            elif msg_type == ASYNC_MAX_MSG_SIZE and len(payload) == 8:
                session.client_max = max(struct.unpack("!Q", payload)[0], HEADER.size + 1)
                sock.sendall(pack(ASYNC_MAX_MSG_SIZE_RESPONSE, 0, 0,
                                  struct.pack("!Q", MAX_MSG_SIZE)))
            elif msg_type == ASYNC_LOCK:
                sock.sendall(pack(ASYNC_LOCK_RESPONSE, self._lock_request(session, control)))
            elif msg_type == ASYNC_LOCK_INFO:
                with self._lock:
                    held = id(instrument) in self._exclusive
                sock.sendall(pack(ASYNC_LOCK_INFO_RESPONSE, int(held), int(held)))
            elif msg_type == ASYNC_REMOTE_LOCAL_CONTROL:
                sock.sendall(pack(ASYNC_REMOTE_LOCAL_RESPONSE))
            elif msg_type == FATAL_ERROR:
                return
            elif msg_type != ERROR:
                sock.sendall(pack(ERROR, ERROR_UNRECOGNIZED_TYPE, 0, b"Unrecognized Message Type"))

    def _lock_request(self, session: _Session, control: int) -> int:
        """AsyncLock: request (control 1) or release (0); get the response code
        (0 failure, 1 success, 3 error)."""
        key = id(session.instrument)
        with self._lock:
            holder = self._exclusive.get(key)
            if control == 1:
                if holder not in (None, session.id):
                    return 0
                self._exclusive[key] = session.id
                return 1
            if holder != session.id:
                return 3
            del self._exclusive[key]
            return 1


def run_message(instrument: SimInstrument, message: bytes) -> bytes | None:
    """Run each line of a message that arrived with END; get the replies' bytes, joined
    (b"" when nothing answers), or None when a "drop" fault ends the connection."""
    out = bytearray()
    for line in message.decode("latin-1").split("\n"):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            reply = instrument.respond(line)
        except Exception:  # a bug in a model must not take the server down
            log.exception("%s failed on %r", type(instrument).__name__, line)
            continue
        if reply.fault == "drop":
            return None
        data = instrument.reply_bytes(reply)
        if data is not None:
            out += data
    if out and instrument.reply_latency_s:      # --latency: a slow instrument, in wall time
        time.sleep(instrument.reply_latency_s)
    return bytes(out)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except OSError:
        pass


def serve_hislip(instruments: Mapping[str, SimInstrument], host: str = "127.0.0.1",
                 ports: Mapping[str, int] | Sequence[int] | None = None) -> HiSLIPServerHandle:
    """Serve each instrument over HiSLIP on its own port (0 or missing: a free one).

    Returns a :class:`HiSLIPServerHandle`; ``resources`` give
    "TCPIP::HOST::hislip0,PORT::INSTR" per name. OSError if a port is taken.
    """
    return listen(HiSLIPServerHandle(host), instruments, ports)
