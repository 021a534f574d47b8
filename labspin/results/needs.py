"""What an analysis reads from a table, declared once next to the analysis (its module's
``NEEDS``): the columns it needs (name with unit, other accepted names, a one-line doc), the
optional ones, and the header keys it reads. The reader converts constants and columns
named in other units onto these names; ``labspin analyze P --help`` prints them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FIELD_ALTERNATIVES = ("Field (mT)", "Field (Oe)", "Field (G)")
"""Other names of a "Field (T)" column the reader converts (any field unit of the table)."""


@dataclass(frozen=True)
class Column:
    """A column an analysis reads: ``name`` ("Field (T)"), ``doc`` (one line, units),
    ``alternatives`` (other names it accepts, e.g. "Field (mT)", "Field (Oe)"),
    ``required``."""
    name: str
    doc: str
    alternatives: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Needs:
    """The columns (:class:`Column`) and header keys (name → one-line doc) of an analysis."""
    columns: tuple[Column, ...]
    header_keys: dict[str, str] = field(default_factory=dict)

    @property
    def targets(self) -> list[str]:
        """The column names the reader converts constants and other units onto."""
        return [c.name for c in self.columns]

    def missing(self, columns) -> list[str]:
        """Get the required columns that neither they nor an alternative are in
        ``columns``."""
        have = set(map(str, columns))
        return [c.name for c in self.columns if c.required
                and not ({c.name, *c.alternatives} & have)]

    def help_lines(self) -> list[str]:
        """Get the lines of ``labspin analyze P --help`` about the table."""
        lines = ["columns it needs:"]
        for required in (True, False):
            if not required:
                lines.append("optional columns:")
            for c in self.columns:
                if c.required is required:
                    alt = f"  (or {', '.join(c.alternatives)})" if c.alternatives else ""
                    lines.append(f"  {c.name:26s} {c.doc}{alt}")
        if self.header_keys:
            lines.append("header keys it reads (labspin's '#' header, or a --option):")
            lines += [f"  {k:26s} {doc}" for k, doc in self.header_keys.items()]
        return lines
