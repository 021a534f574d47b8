"""README's Python snippets import from the repository root as from anywhere: the checkout's
labspin/ folder (first on sys.path when Python starts in the root) must not hide the
installed labspin.drivers, labspin.procedures and labspin.sim_backend."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def import_lines(block: str) -> str:
    tree = ast.parse(block)
    return "\n".join(ast.unparse(n) for n in tree.body
                     if isinstance(n, (ast.Import, ast.ImportFrom)))


def test_readme_has_python_snippets_that_import_labspin():
    assert sum("labspin" in import_lines(b) for b in BLOCKS) >= 3


@pytest.mark.parametrize("cwd", ["root", "elsewhere"])
@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_snippet_imports_resolve(k, cwd, tmp_path):
    code = import_lines(BLOCKS[k])
    where = ROOT if cwd == "root" else tmp_path
    # -c puts the working directory first on sys.path, as `python` in the root does
    r = subprocess.run([sys.executable, "-c", code], cwd=where, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_subpackages_come_from_the_repository_folders_in_a_checkout():
    code = ("import labspin.drivers.keithley as d, labspin.sim_backend as s, "
            "labspin.procedures as p; print(d.__file__); print(s.__file__); print(p.__file__)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d, s, p = r.stdout.split()
    # in the root, the checkout's own folders (the labspin/ found first is the checkout's)
    assert Path(d).parent.name == "drivers" and Path(s).parent.name == "sim_backend"
    assert Path(p).parent.name == "procedures"
