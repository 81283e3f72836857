"""Library pipelines: train, validate, compare and predict runs that return typed results."""
