"""The one error type of the readers: it names the file and what was expected."""

from __future__ import annotations

from pathlib import Path

from cropsm.core.errors import CropSMError

__all__ = ["ReaderError"]


class ReaderError(CropSMError, ValueError):
    """A file cannot be read as the format its reader expects.

    Parameters
    ----------
    path : str or Path
        The offending file (or pattern).
    problem : str
        What is wrong and what was expected, in one sentence.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {problem}")
