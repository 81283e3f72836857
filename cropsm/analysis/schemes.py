"""How held-out rows are chosen when two methods are compared; cheap to import."""

from __future__ import annotations

__all__ = ["SCHEMES"]

#: Splits of :func:`cropsm.analysis.method_comparison.compare_methods`: the paper's random
#: 70/30 split of the observations, whole stations held out (5-fold by station), and whole
#: agricultural zones held out (one fold per zone).
SCHEMES: tuple[str, ...] = ("random_70_30", "station_blocked", "zone_blocked")
