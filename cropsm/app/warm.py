"""Warm a server's shared caches before its first session: ``panel serve --setup``.

    panel serve app.py --setup cropsm/app/warm.py

``python -m cropsm.app`` and ``make run`` pass it. Do not import it: importing warms.
"""

import gc

from cropsm.app.data import warm_caches

took = warm_caches()
# Panel collects garbage every few seconds while sessions close, and a full collection
# walks every tracked object, the libraries' modules and the warmed caches (about 0.4 M
# objects before the first session) included. Freeze what survives the warm-up out of
# those walks. The cost: a frozen object that later becomes part of unreachable cycles
# is never freed; the caches are bounded (pn.cache max_items) and their evicted entries
# are freed by reference counting unless cyclic. The soak (tests/test_load.py) watches it.
gc.collect()
gc.freeze()
print("CropSM caches warmed:", ", ".join(
    f"{name} {value:.2f} s" if isinstance(value, float) else f"{name} {value}"
    for name, value in took.items()), flush=True)
