"""The one base of every error CropSM raises on purpose.

A :class:`CropSMError` means the input was refused (a missing file, a bad date, a
region outside China) and its message says what to do. The CLI and the dashboard show
those messages; any other exception is a bug, logged with its traceback.
Subclasses keep :class:`ValueError` or :class:`OSError` as a mixin, so ``except
ValueError`` in user code still works.
"""

from __future__ import annotations

__all__ = ["CropSMError", "InputDataError"]


class CropSMError(Exception):
    """An input CropSM refuses, with a message that says what to do."""


class InputDataError(CropSMError, ValueError):
    """Tables or stores that lack what a step needs (observations, metadata columns)."""
