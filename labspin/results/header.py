"""The one reader of a results file's header: its '#' lines, the procedure's parameters,
the metadata, and the two kinds of sample metadata kept apart (design.md): ``Sample
constants`` (known before measuring; analyses may use them as priors) and ``Sample
parameters`` (the simulator's truth, for comparison only; analyses never read them).

pymeasure writes ``#Parameters:`` and ``#Metadata:`` sections with one ``#\\tName: value
unit`` line each; other labs' ``# key: value`` lines go to ``other``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_KEY_VALUE = re.compile(r"#\s*([^:]+?)\s*:\s*(.*?)\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class ResultsHeader:
    """A results header; values are the text after 'Name:' (``number`` reads one as float)."""
    lines: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)
    sample_constants: dict = field(default_factory=dict)
    sample_parameters: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The header lines joined by newlines."""
        return "\n".join(self.lines)

    def number(self, name: str) -> float | None:
        """Get the leading number of parameter or metadata ``name`` (None if absent or not a
        number): '0.001 A' → 0.001."""
        value = self.parameters.get(name, self.metadata.get(name, self.other.get(name)))
        m = _NUMBER.match(value or "")
        return float(m.group(0)) if m else None


def parse_header(text: str) -> ResultsHeader:
    """Read the '#' lines of ``text`` (a whole file or just its header) into a ResultsHeader."""
    header = ResultsHeader()
    section = header.other
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        header.lines.append(line)
        m = _KEY_VALUE.fullmatch(line)
        if m is None:
            continue
        key, value = m.group(1), m.group(2)
        if not value:                                   # a section: "#Parameters:"
            section = {"Parameters": header.parameters, "Metadata": header.metadata}.get(
                key, header.other)
            continue
        section[key] = value
    for key, attr in (("Sample constants", "sample_constants"),
                      ("Sample parameters", "sample_parameters")):
        raw = header.metadata.get(key, header.other.get(key, ""))
        try:
            value = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            value = {}
        setattr(header, attr, value if isinstance(value, dict) else {})
    return header


def read_header(path: str | Path) -> ResultsHeader:
    """Read the header of the results file at ``path`` (its leading '#' lines)."""
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line.rstrip("\n"))
    return parse_header("\n".join(lines))


def read_trailer(path: str | Path) -> dict[str, str]:
    """Read the '#Key: value' lines after the data of the results file at ``path`` (the
    run's end: ``End time``, ``Status``, ``Message``) into {key: value}."""
    out: dict[str, str] = {}
    seen_data = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                seen_data = seen_data or bool(line.strip())
                continue
            m = _KEY_VALUE.fullmatch(line.rstrip("\r\n")) if seen_data else None
            if m:
                out[m.group(1)] = m.group(2)
    return out
