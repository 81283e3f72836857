"""CropSM dashboard: ``panel serve app.py``."""

import panel as pn

from cropsm.app import serve_page

pn.extension("tabulator")
serve_page()
