"""CropSM: daily 1 km soil moisture for China's dryland wheat and maize."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cropsm")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
