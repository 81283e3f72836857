"""Data access: the only part of CropSM that opens files."""
