"""Analyses of predictions: validation, comparisons, drought indices, map layers, tables."""
