"""PushSeal Python bindings.

`pushseal_ffi.py` and `libpushseal_ffi.so` in this folder are produced by
bindings/build.sh (UniFFI generator + cargo); this file only re-exports them.
"""

from .pushseal_ffi import *  # noqa: F401,F403
from .pushseal_ffi import __all__ as _ffi_all

__all__ = list(_ffi_all)

