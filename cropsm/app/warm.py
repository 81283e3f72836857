"""Warm a server's shared caches before its first session: ``panel serve --setup``.

    panel serve app.py --setup cropsm/app/warm.py

``python -m cropsm.app`` and ``make run`` pass it. Do not import it: importing warms.
"""

from cropsm.app.data import warm_caches

took = warm_caches()
print("CropSM caches warmed:", ", ".join(f"{name} {seconds:.2f} s"
                                         for name, seconds in took.items()), flush=True)
