"""The ``cropsm`` command line: thin click commands over :mod:`cropsm.pipelines`."""

from cropsm.cli.main import main

__all__ = ["main"]
