"""Shared fixtures. Tests import the installed labspin (see README)."""
from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """Get ../shared/realdata, skipping when the checkout has no shared/ beside it."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata not present")
    return REALDATA
