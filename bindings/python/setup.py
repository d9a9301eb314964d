"""Only here to make the wheel platform-specific; metadata is in pyproject.toml.

The package ships a native library (libpushseal_ffi.so) that the generated
module loads with ctypes. That makes the wheel platform-specific but not tied
to a CPython ABI, so it is tagged py3-none-<platform> and installed into
platlib.
"""

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.dist import Distribution


class NativeLibDistribution(Distribution):
    def has_ext_modules(self):
        return True


class NativeLibWheel(bdist_wheel):
    def get_tag(self):
        _python, _abi, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeLibDistribution, cmdclass={"bdist_wheel": NativeLibWheel})
