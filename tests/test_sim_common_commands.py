"""Every twin that speaks IEEE 488.2 answers the common commands (installed once in scpi.py)."""
from __future__ import annotations

import pytest

from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualBench
from labspin.sim_backend.wirings import twin_classes

IEEE488_TWINS = [key for key, cls in twin_classes().items() if cls.ieee488]


@pytest.mark.parametrize("key", IEEE488_TWINS)
def test_common_commands(key):
    twin = twin_classes()[key](VirtualBench(load_sample("inplane_sot_hallbar"), seed=0), key)

    def ask(message: str) -> str:
        return twin.handle(message).removesuffix(twin.termination)

    assert ask("*IDN?") == twin.idn and twin.idn.count(",") == 3  # maker,model,serial,firmware
    assert ask("*OPT?")
    twin.handle("*RST")
    twin.handle("*CLS")
    assert int(ask("*ESR?")) == 0
    twin.handle("*ESE 33")
    twin.handle("*SRE 48")
    assert (int(ask("*ESE?")), int(ask("*SRE?"))) == (33, 48)
    twin.handle("*OPC")
    assert int(ask("*ESR?")) & 1 == 1  # operation complete bit; reading clears it
    assert int(ask("*ESR?")) == 0
    twin.handle("*WAI")
    assert ask("*OPC?") == "1" and ask("*TST?") == "0"
    assert 0 <= int(ask("*STB?")) <= 255
    twin.handle("*ESE 300")  # out of 0..255: -222 data out of range, an execution error (ESR bit 4)
    assert int(ask("*ESR?")) & 16 == 16
