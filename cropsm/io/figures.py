"""Static figures as PNG bytes: the bulletin's class map, with basemap, legend, provenance.

Rendered with matplotlib's Agg backend, off screen, so the CLI and the dashboard make
the same file without a browser.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

__all__ = ["class_map_png"]


def class_map_png(codes: np.ndarray, x: np.ndarray, y: np.ndarray,
                  classes: Mapping[str, str], title: str, provenance: Mapping[str, object],
                  boundaries: np.ndarray | None = None, rivers: np.ndarray | None = None,
                  dpi: int = 120) -> bytes:
    """A map of class codes as PNG bytes.

    Parameters
    ----------
    codes : numpy.ndarray
        (y, x) class codes ``0 … len(classes) - 1``; any other code is left blank.
    x, y : numpy.ndarray
        Cell centres of the columns and rows (grid metres; ``y`` descending).
    classes : mapping of str to str
        Class name -> colour, by code.
    title : str
    provenance : mapping
        Printed under the map, one ``key: value`` per line.
    boundaries, rivers : numpy.ndarray, optional
        (n, 2) NaN-broken lines in grid metres
        (:func:`cropsm.pipelines.basemap.basemap_lines`), drawn grey and blue.
    dpi : int

    Returns
    -------
    bytes
        The PNG file.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    names = list(classes)
    colours = list(classes.values())
    codes = np.asarray(codes)
    shown = np.ma.masked_array(codes.astype("i2"), mask=codes >= len(names))
    cmap = ListedColormap(colours).with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    dx = float(x[1] - x[0]) if len(x) > 1 else 1000.0
    dy = float(y[0] - y[1]) if len(y) > 1 else 1000.0
    extent = (x[0] - dx / 2, x[-1] + dx / 2, y[-1] - dy / 2, y[0] + dy / 2)
    fig = Figure(figsize=(7.5, 7.0), dpi=dpi)
    ax = fig.add_axes((0.04, 0.22, 0.72, 0.70))
    ax.imshow(shown, extent=extent, origin="upper", interpolation="nearest",
              interpolation_stage="rgba", cmap=cmap,
              norm=BoundaryNorm(np.arange(len(names) + 1) - 0.5, len(names)))
    if rivers is not None and len(rivers):
        ax.plot(rivers[:, 0], rivers[:, 1], color="#4a90c2", linewidth=0.6)
    if boundaries is not None and len(boundaries):
        ax.plot(boundaries[:, 0], boundaries[:, 1], color="#555555", linewidth=0.8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    fig.legend(handles=[Patch(facecolor=c, edgecolor="#333333", label=n)
                        for n, c in zip(names, colours, strict=True)],
               loc="upper left", bbox_to_anchor=(0.78, 0.92), fontsize=8, frameon=False)
    text = "\n".join(f"{k}: {v}" for k, v in provenance.items())
    fig.text(0.04, 0.02, text, fontsize=6.5, va="bottom", family="monospace")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
