"""Core: grid, crops, regions, cropping patterns, skill metrics, errors."""
