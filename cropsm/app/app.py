"""The dashboard as a script of the installed package, for ``panel serve``.

``panel serve`` runs this file once per browser session and names the page after it,
so an installed CropSM serves the same ``/app`` page as the repository's ``app.py``::

    python -m cropsm.app --port 5006          # or: panel serve <site-packages>/cropsm/app/app.py

Do not import it: importing builds a dashboard.
"""

import panel as pn

from cropsm.app import serve_page

pn.extension("tabulator")
serve_page()
