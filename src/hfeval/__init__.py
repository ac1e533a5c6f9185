"""hfeval: evaluate Housing First programmes in Norwegian and Danish municipalities."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hfeval")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
