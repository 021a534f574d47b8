"""pyvisa backend shim: ``ResourceManager("@labspin")`` imports ``pyvisa_labspin`` and reads
WRAPPER_CLASS. The backend itself is :mod:`labspin.sim_backend.visa_library`."""
from labspin.sim_backend.visa_library import LabspinVisaLibrary as WRAPPER_CLASS

__all__ = ["WRAPPER_CLASS"]
