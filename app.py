"""CropSM dashboard: ``panel serve app.py``."""

import panel as pn

from cropsm.app import create_app

pn.extension("tabulator")
create_app().servable()
