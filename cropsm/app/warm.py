"""Warm a server's shared caches before its first session: ``panel serve --setup``.

    panel serve app.py --setup cropsm/app/warm.py

``python -m cropsm.app`` and ``make run`` pass it. Do not import it: importing warms.
"""

from cropsm.app.data import warm_caches

took = warm_caches()
print("CropSM caches warmed:", ", ".join(
    f"{name} {value:.2f} s" if isinstance(value, float) else f"{name} {value}"
    for name, value in took.items()), flush=True)
