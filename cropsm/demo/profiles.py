"""Build profiles of the demo world."""

from __future__ import annotations

from dataclasses import dataclass

from cropsm.core.errors import CropSMError

__all__ = ["PROFILES", "Profile", "UnknownProfile", "get_profile"]


class UnknownProfile(CropSMError, ValueError):
    """A demo profile name that is not in :data:`PROFILES`."""


@dataclass(frozen=True)
class Profile:
    """What a demo build covers.

    Attributes
    ----------
    name : str
        Profile name.
    bbox : tuple of float or None
        ``(lon_min, lat_min, lon_max, lat_max)`` window; None for all of mainland China.
    first_year, last_year : int
        Station observation period (calendar years).
    map_year : int
        Year of daily gridded truth written for the map.
    n_stations : dict
        Number of stations per crop.
    prediction_period : tuple of str
        First and last day the run command precomputes with ``cropsm predict``.
    """

    name: str
    bbox: tuple[float, float, float, float] | None
    first_year: int
    last_year: int
    map_year: int
    n_stations: dict[str, int]
    record_years: tuple[int, int]  # min and max length of a station's record, years
    prediction_period: tuple[str, str]


PROFILES: dict[str, Profile] = {
    # Beijing and the Hebei plain: both crops, irrigated and rainfed land, rivers.
    "tiny": Profile("tiny", (115.4, 38.6, 117.2, 40.2), 2016, 2018, 2018,
                    {"wheat": 8, "maize": 10}, (2, 3), ("2018-05-01", "2018-05-10")),
    "demo": Profile("demo", None, 1993, 2018, 2018, {"wheat": 240, "maize": 290}, (4, 15),
                    ("2018-05-01", "2018-05-07")),
}


def get_profile(name: str) -> Profile:
    """Return a profile by name, with a clear error for unknown names."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UnknownProfile(
            f"Unknown profile {name!r}; choose one of: {', '.join(PROFILES)}."
        ) from None
