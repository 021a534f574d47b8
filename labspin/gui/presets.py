"""Parameter presets: a procedure window's parameters and bench choice saved to, and loaded
from, a TOML file in the sequence file's format (``labspin.run.sequence``) without a grid, so
``labspin sequence PRESET.toml`` runs the same measurement once."""
from __future__ import annotations

import json
import math
from pathlib import Path

from labspin.run.sequence import SequenceError, load_sequence


def toml_value(value) -> str:
    """Get ``value`` (a parameter's value: number, bool, text or a list of them) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value)
                                                          else "inf" if value > 0 else "-inf")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)   # a TOML basic string


def preset_text(procedure, bench: dict) -> str:
    """Get the preset of ``procedure`` (its parameters as set) on ``bench`` (BenchChoice's
    values: bench, sample, set, seed)."""
    lines = [f"# labspin preset: {procedure.NAME} ({procedure.DESCRIPTION})",
             "# load it in the procedure's window (File > Load preset), or run it once with",
             "#   labspin sequence THIS_FILE.toml",
             f"procedure = {toml_value(procedure.NAME)}"]
    if bench.get("bench"):
        lines.append(f"bench = {toml_value(str(Path(bench['bench']).resolve()))}")
    else:
        if bench.get("sample"):
            sample = bench["sample"]
            sample = str(Path(sample).resolve()) if sample.endswith(".toml") else sample
            lines.append(f"sample = {toml_value(sample)}")
        if bench.get("set"):
            lines.append(f"set = {toml_value(list(bench['set']))}")
    lines.append(f"seed = {int(bench.get('seed') or 0)}")
    lines.append("")
    lines.append("[params]")
    for key, parameter in procedure.parameter_objects().items():
        unit = f"  # {parameter.units}" if getattr(parameter, "units", None) else ""
        lines.append(f"{key} = {toml_value(parameter.value)}{unit}")
    return "\n".join(lines) + "\n"


def save_preset(path: str | Path, procedure, bench: dict) -> Path:
    """Write the preset of ``procedure`` on ``bench`` to ``path``; get the path."""
    path = Path(path)
    path.write_text(preset_text(procedure, bench), encoding="utf-8")
    return path


def read_preset(path: str | Path, procedure_name: str):
    """Get the Sequence of preset ``path`` for procedure ``procedure_name``; SequenceError
    names the file and what is wrong (another procedure's preset, a grid of runs)."""
    seq = load_sequence(path)
    if seq.procedure != procedure_name:
        raise SequenceError(f"{path}: a preset of {seq.procedure}, not of {procedure_name}; "
                            f"open it in the {seq.procedure} window")
    if seq.points != [{}]:
        raise SequenceError(f"{path}: a sequence of {len(seq.points)} runs, not one parameter "
                            "set; run it with `labspin sequence` or drop its grid")
    return seq
