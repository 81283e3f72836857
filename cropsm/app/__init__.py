"""The Panel dashboard. The only package that imports panel, holoviews or bokeh."""

from cropsm.app.layout import create_app

__all__ = ["create_app"]
