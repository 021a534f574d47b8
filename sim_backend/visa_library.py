"""The ``@labspin`` pyvisa backend: simulated instruments, in-process.

``pyvisa.ResourceManager(LIBRARY)`` (through the top-level ``pyvisa_labspin`` shim) lists and
opens the twins of one simulated bench; ``Instrument(name, visa_library=LIBRARY)`` works the
same way in pymeasure. LIBRARY picks the bench:

* ``"@labspin"``: the default bench, one twin of every model on GPIB board 0, its clock
  following wall time (or the bench ``LABSPIN_SIM_BENCH`` names); see :mod:`.default_bench`;
* ``"SPEC@labspin"``: the bench SPEC names (``perpendicular_sot_hallbar:transport``, a
  sample, a sample or bench config file), made on first use;
* ``"bench-<n>@labspin"``: the registry of one :class:`VirtualBench` of this process
  (:attr:`VirtualBench.visa_library`), as labspin's own simulated runs use it.

Opening a resource the bench does not have raises :class:`ResourceNotFound` (a VisaIOError
with VI_ERROR_RSRC_NFOUND) naming the resources it has.

Semantics, close to a GPIB or USBTMC instrument:

* Writes are split into messages at ``\\n`` (a trailing ``\\r`` is dropped); with
  send_end enabled (the default) the end of a write also ends a message, so any
  write_termination works. Each message runs at once; its reply waits in the session's
  output queue.
* A read returns up to ``count`` bytes of the oldest reply, stopping after the termination
  character when enabled, and ends with END at the end of each reply. Replies carry the
  instrument's own ``termination`` ("\\n" unless the model says otherwise).
* A read with nothing to read raises VI_ERROR_TMO immediately (nothing could ever arrive)
  and queues -420 Query UNTERMINATED; a reply suppressed by an injected "timeout" raises
  VI_ERROR_TMO without -420. A new message while a reply is unread discards it and queues
  -410 Query INTERRUPTED. An injected "drop" loses the session: every later call raises
  VI_ERROR_CONN_LOST until it is reopened.
* A message longer than MAX_MESSAGE bytes without terminator is dropped with -363.
"""
from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

from pyvisa import attributes, constants, errors, highlevel, rname
from pyvisa.constants import ResourceAttribute as RA
from pyvisa.constants import StatusCode
from pyvisa.util import LibraryPath

from .registry import BENCH_ID, Registry, lookup
from .scpi import MAX_MESSAGE, SimInstrument

_READ_DISCARD = (constants.BufferOperation.discard_read_buffer
                 | constants.BufferOperation.discard_read_buffer_no_io
                 | constants.BufferOperation.discard_receive_buffer
                 | constants.BufferOperation.discard_receive_buffer2)
_WRITE_DISCARD = (constants.BufferOperation.discard_write_buffer
                  | constants.BufferOperation.discard_transmit_buffer)


class _Session:
    """One open resource: attributes and the message buffers of one client."""

    def __init__(self, rm_session: int, parsed: rname.ResourceName, instrument: SimInstrument):
        self.instrument = instrument
        self.attrs: dict[int, Any] = {
            RA.resource_manager_session: rm_session,
            RA.resource_name: str(parsed),
            RA.resource_class: parsed.resource_class,
            RA.interface_type: parsed.interface_type_const,
            RA.timeout_value: 2000,
            RA.termchar: ord("\n"),
            RA.termchar_enabled: False,
            RA.send_end_enabled: True,
            RA.suppress_end_enabled: False,
        }
        board = getattr(parsed, "board", None)
        if board is not None and str(board).isdigit():
            self.attrs[RA.interface_number] = int(board)
        self.inbuf = bytearray()
        self.out: deque[bytes] = deque()
        self.suppressed = False
        self.lost = False
        self.overflow = False

    def receive(self, data: bytes) -> None:
        """Take written bytes and run every complete message."""
        inst = self.instrument
        self.inbuf += data
        messages = []
        while True:
            i = self.inbuf.find(b"\n")
            if i < 0:
                break
            messages.append(bytes(self.inbuf[:i]))
            del self.inbuf[:i + 1]
        if self.inbuf and self.attrs[RA.send_end_enabled]:
            messages.append(bytes(self.inbuf))
            self.inbuf.clear()
        elif len(self.inbuf) > MAX_MESSAGE:
            self.inbuf.clear()
            self.overflow = True
            inst.push_error(-363)
        for raw in messages:
            if self.overflow:  # the tail of an over-long message
                self.overflow = False
                continue
            if len(raw) > MAX_MESSAGE:
                inst.push_error(-363)
                continue
            text = raw.decode("latin-1")
            if text.endswith("\r"):
                text = text[:-1]
            if not text.strip():
                continue
            if self.out:
                self.out.clear()
                inst.push_error(-410)
            reply = inst.respond(text)
            if reply.fault == "drop":
                self.lost = True
                self.inbuf.clear()
                return
            payload = inst.reply_bytes(reply)
            self.suppressed = payload is None and reply.fault == "timeout"
            if payload is not None:
                self.out.append(payload)

    def take(self, count: int) -> tuple[bytes, StatusCode]:
        """Read up to ``count`` bytes of the oldest reply."""
        if not self.out:
            if not self.suppressed:
                self.instrument.push_error(-420)
            self.suppressed = False
            return b"", StatusCode.error_timeout
        msg = self.out[0]
        end = min(count, len(msg))
        status = StatusCode.success if end == len(msg) else StatusCode.success_max_count_read
        if self.attrs[RA.termchar_enabled]:
            i = msg.find(bytes((self.attrs[RA.termchar],)), 0, end)
            if i >= 0:
                end = i + 1
                status = (StatusCode.success if end == len(msg)
                          else StatusCode.success_termination_character_read)
        if end == len(msg):
            self.out.popleft()
        else:
            self.out[0] = msg[end:]
        return msg[:end], status


class ResourceNotFound(errors.VisaIOError):
    """VI_ERROR_RSRC_NFOUND, saying which bench was asked and which resources it has."""

    def __init__(self, resource: str, where: str, available: tuple[str, ...] | None):
        super().__init__(StatusCode.error_resource_not_found)
        if available is None:
            self.args = (f"no simulated bench {where} in this process (it was released, or "
                         f"made in another process) (VI_ERROR_RSRC_NFOUND)",)
        else:
            self.args = (f"{resource} is not on the simulated bench {where} "
                         f"(VI_ERROR_RSRC_NFOUND); its resources: "
                         f"{', '.join(available) or 'none'}",)


class LabspinVisaLibrary(highlevel.VisaLibraryBase):
    """pyvisa library whose resources are the twins of one simulated bench (module doc)."""

    sessions: dict[int, Any]

    @staticmethod
    def get_library_paths() -> tuple[LibraryPath, ...]:
        """The one pseudo-path: the default bench."""
        return (LibraryPath("labspin"),)

    @staticmethod
    def get_debug_info() -> dict[str, str]:
        """Backend details for ``pyvisa-info``."""
        return {"Backend": "labspin simulated bench (in-process)",
                "Benches": "@labspin (default), SPEC@labspin, bench-<n>@labspin"}

    def _init(self) -> None:
        self.sessions = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.spec = str(self.library_path)

    def _where(self) -> str:
        return f"{self.spec}@labspin" if self.spec not in ("", "labspin") else "@labspin"

    def registry(self) -> Registry:
        """Get the registry of this library's bench (a process bench's, found by its id
        while it exists; a served bench's, made on first use)."""
        if BENCH_ID.fullmatch(self.spec):
            found = lookup(self.spec)
            if found is None:
                raise ResourceNotFound("", self._where(), None)
            return found
        from .default_bench import served_bench
        return served_bench(self.spec).resources

    def _register(self, obj: Any) -> int:
        with self._lock:
            session = next(self._ids)
            self.sessions[session] = obj
        return session

    def _session(self, session: Any) -> _Session:
        sess = self.sessions.get(session)
        if not isinstance(sess, _Session):
            self.handle_return_value(session, StatusCode.error_invalid_object)
        if sess.lost:
            self.handle_return_value(session, StatusCode.error_connection_lost)
        return sess

    # -- resource manager

    def open_default_resource_manager(self) -> tuple[int, StatusCode]:
        """Open the resource manager session."""
        return self._register(self), self.handle_return_value(None, StatusCode.success)

    def list_resources(self, session: Any, query: str = "?*::INSTR") -> tuple[str, ...]:
        """List the registered resource names matching the VISA expression ``query``."""
        return tuple(rname.filter(self.registry().resources(), query))

    def open(self, session: Any, resource_name: str,
             access_mode: constants.AccessModes = constants.AccessModes.no_lock,
             open_timeout: int = constants.VI_TMO_IMMEDIATE) -> tuple[int, StatusCode]:
        """Open a session to a registered instrument."""
        try:
            parsed = rname.parse_resource_name(resource_name)
        except rname.InvalidResourceName:
            return 0, self.handle_return_value(None, StatusCode.error_invalid_resource_name)
        reg = self.registry()
        instrument = reg.get(str(parsed))
        if instrument is None:
            raise ResourceNotFound(str(parsed), self._where(), reg.resources())
        new = self._register(_Session(session, parsed, instrument))
        return new, self.handle_return_value(new, StatusCode.success)

    def close(self, session: Any) -> StatusCode:
        """Close a session (or the resource manager)."""
        with self._lock:
            found = self.sessions.pop(session, None) is not None
        status = StatusCode.success if found else StatusCode.error_invalid_object
        return self.handle_return_value(session, status)

    # -- message-based I/O

    def write(self, session: Any, data: bytes) -> tuple[int, StatusCode]:
        """Send bytes; complete messages run at once."""
        sess = self._session(session)
        with sess.instrument.lock:
            sess.receive(bytes(data))
        return len(data), self.handle_return_value(session, StatusCode.success)

    def read(self, session: Any, count: int) -> tuple[bytes, StatusCode]:
        """Read up to ``count`` bytes; VI_ERROR_TMO at once when nothing will come."""
        sess = self._session(session)
        with sess.instrument.lock:
            data, status = sess.take(count)
        return data, self.handle_return_value(session, status)

    def clear(self, session: Any) -> StatusCode:
        """Device clear: empty this session's buffers and call the instrument's hook."""
        sess = self._session(session)
        with sess.instrument.lock:
            sess.inbuf.clear()
            sess.out.clear()
            sess.suppressed = sess.overflow = False
            sess.instrument.device_clear()
        return self.handle_return_value(session, StatusCode.success)

    def flush(self, session: Any, mask: constants.BufferOperation) -> StatusCode:
        """Discard the read (output) or write (input) buffer as ``mask`` says."""
        sess = self._session(session)
        with sess.instrument.lock:
            if mask & _READ_DISCARD:
                sess.out.clear()
            if mask & _WRITE_DISCARD:
                sess.inbuf.clear()
        return self.handle_return_value(session, StatusCode.success)

    def read_stb(self, session: Any) -> tuple[int, StatusCode]:
        """Serial poll: the instrument's status byte, MAV from this session's queue."""
        sess = self._session(session)
        with sess.instrument.lock:
            stb = sess.instrument.status_byte(mav=bool(sess.out))
        return stb, self.handle_return_value(session, StatusCode.success)

    def assert_trigger(self, session: Any, protocol: constants.TriggerProtocol) -> StatusCode:
        """Group execute trigger: the instrument's ``trigger()`` hook."""
        sess = self._session(session)
        with sess.instrument.lock:
            sess.instrument.trigger()
        return self.handle_return_value(session, StatusCode.success)

    # -- attributes

    def get_attribute(self, session: Any, attribute: Any) -> tuple[Any, StatusCode]:
        """Get a VISA attribute; unset ones read as pyvisa's documented default."""
        sess = self.sessions.get(session)
        if not isinstance(sess, _Session):
            return 0, self.handle_return_value(session, StatusCode.error_nonsupported_attribute)
        if attribute in sess.attrs:
            return sess.attrs[attribute], self.handle_return_value(session, StatusCode.success)
        info = attributes.AttributesByID.get(attribute)
        if info is None or info.default is attributes.NotAvailable:
            return 0, self.handle_return_value(session, StatusCode.error_nonsupported_attribute)
        return info.default, self.handle_return_value(session, StatusCode.success)

    def set_attribute(self, session: Any, attribute: Any, attribute_state: Any) -> StatusCode:
        """Set a writable VISA attribute (stored; timeouts never make anything wait)."""
        sess = self.sessions.get(session)
        info = attributes.AttributesByID.get(attribute)
        if not isinstance(sess, _Session) or info is None:
            return self.handle_return_value(session, StatusCode.error_nonsupported_attribute)
        if not info.write:
            return self.handle_return_value(session, StatusCode.error_attribute_read_only)
        sess.attrs[attribute] = attribute_state
        return self.handle_return_value(session, StatusCode.success)

    # -- no-ops a simulated instrument needs no more than acknowledging

    def disable_event(self, session: Any, event_type: Any, mechanism: Any) -> StatusCode:
        """Events are not simulated; accepted."""
        return StatusCode.success

    def discard_events(self, session: Any, event_type: Any, mechanism: Any) -> StatusCode:
        """Events are not simulated; accepted."""
        return StatusCode.success

    def lock(self, session: Any, lock_type: Any, timeout: int,
             requested_key: str | None = None) -> tuple[str, StatusCode]:
        """Locks always succeed (one process)."""
        return requested_key or "", StatusCode.success

    def unlock(self, session: Any) -> StatusCode:
        """Locks always succeed (one process)."""
        return StatusCode.success

    def gpib_control_ren(self, session: Any, mode: Any) -> StatusCode:
        """Remote enable is accepted and has no effect."""
        return StatusCode.success

