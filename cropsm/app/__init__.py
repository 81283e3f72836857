"""The Panel dashboard. The only package that imports panel, holoviews or bokeh."""

import holoviews.plotting.bokeh  # noqa: F401  (views set bokeh plot options)

from cropsm.app.layout import create_app, serve_page

__all__ = ["create_app", "serve_page"]
