"""Units at the boundary: check the units an input carries and convert to CropSM's.

Every input of ``cropsm ingest`` names its units, in the file (the CF ``units``
attribute) or in its config entry (``units:``); :func:`units_of` picks the one that
applies and :func:`convert` brings the values to the units CropSM computes in, e.g.
precipitation to mm day-1, temperature to degC, fractions to 1.

Unit strings are parsed by pint with cf-xarray's registry, which understands CF and
UDUNITS spellings ("mm day-1", "kg m-2 s-1", "m3 m-3", "%", "degC", "K", "mm month-1").
A leading scale factor as UDUNITS allows it ("0.1 mm", the unit of CMA daily rain) is
read too, and "fraction" means 1.

Besides pint's own conversions, one physical equivalence is added, as a pint context
(:data:`WATER_CONTEXT`): water mass per area and water depth, through the density of
liquid water, 1000 kg m-3, so 1 kg m-2 is 1 mm. It converts reanalysis and land-model
precipitation and evaporation (kg m-2 s-1, kg m-2 day-1, kg m-2) to depths (mm day-1,
mm). It relates only mass per area with length (and their rates), so it cannot turn
anything else into a depth. Depths in metres (ERA5 ``tp``) convert to mm by pint alone.

An amount per time step (mm, m, kg m-2: a daily or monthly total) is not a rate; it
converts to one (mm day-1) only when the caller says how long the step is (``step=``).

Every refusal is a one-line :class:`cropsm.io.readers.ReaderError` that names the file,
the unit found, the unit expected and how to fix the config.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, TypeVar

import numpy as np
import pint
import xarray as xr
from cf_xarray.units import units as ureg
from pint.facets.context import Context

from cropsm.io.readers._errors import ReaderError

__all__ = ["WATER_CONTEXT", "WATER_DENSITY", "convert", "same_units", "units_of"]

#: Density of liquid water used for water equivalence, kg m-3 (1 kg m-2 = 1 mm).
WATER_DENSITY = 1000.0

#: Name of the pint context, registered on cf-xarray's registry, that relates water mass
#: per area to water depth (and mass flux to depth per time).
WATER_CONTEXT = "cropsm-water"

#: Unit names pint does not define, and what they mean.
_ALIASES = {"fraction": "1"}

#: A leading scale factor, as in UDUNITS "0.1 mm": the number and the rest.
_SCALED = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*\*?\s*(\S.*)")

#: Encoding entries that describe how the old values were packed; stale once converted.
_PACKING = ("scale_factor", "add_offset", "dtype", "_FillValue", "missing_value", "units")

Values = TypeVar("Values", np.ndarray, xr.DataArray)


def _water_context() -> Context:
    rho = ureg.Quantity(WATER_DENSITY, "kg m-3")

    def to_depth(ureg: Any, value: Any, **kwargs: Any) -> Any:  # pint names the args
        return value / rho

    def to_mass(ureg: Any, value: Any, **kwargs: Any) -> Any:
        return value * rho

    context = Context(WATER_CONTEXT)
    area_mass, depth = "[mass] / [length] ** 2", "[length]"
    for per_time in ("", " / [time]"):
        context.add_transformation(area_mass + per_time, depth + per_time, to_depth)
        context.add_transformation(depth + per_time, area_mass + per_time, to_mass)
    return context


ureg.add_context(_water_context())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _parse(units: str) -> tuple[float, pint.Unit]:
    """Scale factor and pint unit of a unit string; raises on anything unparseable."""
    text = _ALIASES.get(units.strip().lower(), units.strip())
    try:
        return 1.0, ureg.Unit(text)
    except Exception as direct:  # pint's tokenizer raises many types on bad text
        scaled = _SCALED.fullmatch(text)
        if scaled is None:
            raise direct from None
        return float(scaled.group(1)), ureg.Unit(scaled.group(2))


def _parse_or_none(units: str) -> tuple[float, pint.Unit] | None:
    try:
        return _parse(units)
    except Exception:  # any parse failure means "not a unit"
        return None


def _parse_error(units: str, target: str, *, source: str, name: str,
                 where: str = "has units") -> ReaderError:
    return ReaderError(source, f"{name} {where} {units!r}, which is not a unit pint can "
                               f"read; use a CF/UDUNITS unit string convertible to "
                               f"{target!r} (e.g. {target!r} itself) in the file's units "
                               f"attribute or in the `units:` of its config entry.")


def _affine(units: str, target: str, step: str | None, *, source: str,
            name: str) -> tuple[float, float]:
    """``(scale, offset)`` with ``value_in_target = scale * value + offset``."""
    try:
        factor, unit = _parse(units)
    except Exception:  # pint's tokenizer raises many types
        raise _parse_error(units, target, source=source, name=name) from None
    try:
        target_factor, target_unit = _parse(target)
    except Exception as err:  # pint's tokenizer raises many types
        raise ValueError(f"target unit {target!r} is not a unit: {_one_line(err)}") from None
    # the quantities of the values 0, 1 and 10
    quantity = ureg.Quantity(np.array([0.0, 1.0, 10.0]) * factor, unit)
    try:
        try:
            converted = quantity.to(target_unit, WATER_CONTEXT).magnitude
        except pint.DimensionalityError:
            if step is None:
                raise
            step_factor, step_unit = _parse(step)
            per_step = quantity / ureg.Quantity(step_factor, step_unit)
            converted = per_step.to(target_unit, WATER_CONTEXT).magnitude
    except pint.DimensionalityError:
        found = ureg.get_dimensionality(unit)
        wanted = ureg.get_dimensionality(target_unit)
        hint = ""
        if step is None and ureg.get_dimensionality(target_unit * ureg.Unit("s")) == found:
            hint = (" It looks like a total per time step, which becomes a rate only "
                    "with the length of the step.")
        raise ReaderError(source, f"{name} has units {units!r} ({found}), which cannot be "
                                  f"converted to {target!r} ({wanted}).{hint} Check that "
                                  f"the file holds {name}; a wrong units attribute must be "
                                  f"fixed in the file, a wrong `units:` in its config "
                                  f"entry.") from None
    except Exception as err:  # pint's offset-unit and parsing errors
        raise ReaderError(source, f"{name} has units {units!r}, which cannot be converted "
                                  f"to {target!r} ({_one_line(err)}); give its values in a "
                                  f"unit convertible to {target!r}.") from None
    converted = np.asarray(converted, dtype="f8") / target_factor
    offset = float(converted[0])
    scale = float(converted[1] - converted[0])
    if not math.isclose(converted[2], offset + 10 * scale, rel_tol=1e-9,
                        abs_tol=1e-12 * max(1.0, abs(offset))):
        raise ReaderError(source, f"{name} has units {units!r}, which is not a linear "
                                  f"unit; give its values in {target!r}.")
    return scale, offset


def _float_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype in (np.dtype("f4"), np.dtype("f8")) else np.dtype("f8")


def convert(values: Values, units: str | None, target: str, *, source: str, name: str,
            step: str | None = None) -> Values:
    """Values in ``target`` units.

    Parameters
    ----------
    values : numpy.ndarray or xarray.DataArray
        Values in ``units``; a DataArray may be dask-backed (it stays lazy).
    units : str or None
        The units the values are in (CF/UDUNITS string), e.g. from :func:`units_of`.
        None or an empty string is refused: a unit is never assumed.
    target : str
        The units wanted, e.g. ``"mm day-1"``, ``"degC"``, ``"1"``.
    source : str
        The file the values come from, named in error messages.
    name : str
        The quantity, e.g. ``"precipitation"``, named in error messages.
    step : str, optional
        The accumulation period of one value, e.g. ``"day"`` or ``"1 day"``, for amounts
        per time step (mm, m, kg m-2) when ``target`` is a rate (mm day-1). Ignored when
        ``units`` converts to ``target`` without it.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        The same type as ``values``, float32 if ``values`` is float32 and float64
        otherwise. A DataArray keeps its attributes with ``units`` set to ``target``;
        once the values change, the encoding entries that packed the old values
        (``scale_factor``, ``add_offset``, ``dtype``, ``_FillValue``, ``missing_value``)
        are dropped. The input itself is returned (as a float array) when no
        conversion is needed.

    Raises
    ------
    cropsm.io.readers.ReaderError
        If ``units`` is missing, is not a unit, or cannot be converted to ``target``.

    Notes
    -----
    Every conversion is affine, ``scale * value + offset``: pint converts two reference
    values (offset units such as degC through pint's Quantity arithmetic, never by
    scaling) and the array is then converted with that scale and offset, so large and
    lazy arrays cost one pass. Water mass per area converts to depth with the water
    density :data:`WATER_DENSITY` (1 kg m-2 = 1 mm, so 1 kg m-2 s-1 = 86400 mm day-1).
    pint's ``month`` is a twelfth of a year (30.44 days): mm month-1 to mm day-1
    divides by 30.44, not by the days of each calendar month.
    """
    if units is None or not str(units).strip():
        raise ReaderError(source, f"{name} has no units attribute; add `units: <...>` to "
                                  f"its config entry (expected {target} or a convertible "
                                  f"unit).")
    scale, offset = _affine(str(units), target, step, source=source, name=name)
    identity = scale == 1.0 and offset == 0.0
    if isinstance(values, xr.DataArray):
        dtype = _float_dtype(values.dtype)
        data = values.data.astype(dtype, copy=False)
        if not identity:
            data = _apply(data, scale, offset)
        out = values.copy(data=data)
        out.attrs = {**values.attrs, "units": target}
        if not identity:
            out.encoding = {k: v for k, v in values.encoding.items() if k not in _PACKING}
        return out
    array = np.asarray(values)
    array = array.astype(_float_dtype(array.dtype), copy=False)
    return array if identity else _apply(array, scale, offset)


def _apply(data, scale: float, offset: float):
    # Python floats are "weak" scalars: float32 data stays float32 (NEP 50).
    if scale != 1.0:
        data = data * scale
    if offset != 0.0:
        data = data + offset
    return data


def same_units(a: str, b: str) -> bool:
    """Whether two unit strings mean the same unit (the same numbers in both).

    ``"mm/day"`` and ``"mm day-1"`` are the same, as are ``"m3 m-3"`` and ``"1"``;
    ``"%"`` and ``"1"``, or ``"kg m-2"`` and ``"mm"``, are not. Unparseable strings
    are the same only if they are equal.
    """
    if a.strip() == b.strip():
        return True
    pa, pb = _parse_or_none(a), _parse_or_none(b)
    if pa is None or pb is None:
        return False
    try:
        low, high = ureg.Quantity(np.array([0.0, 1.0]) * pa[0], pa[1]).to(pb[1]).magnitude
    except Exception:  # different dimensions, offset trouble
        return False
    low, high = low / pb[0], high / pb[0]
    return math.isclose(high - low, 1.0, rel_tol=1e-9) and abs(low) < 1e-9


def units_of(da: xr.DataArray, config_units: str | None, *, source: str, name: str,
             target: str | None = None) -> str:
    """The units an input's values are in: the file's, or else its config entry's.

    Parameters
    ----------
    da : xarray.DataArray
        The input as read; its ``units`` attribute is the file's unit.
    config_units : str or None
        ``units:`` from the input's config entry, if any.
    source : str
        The file, named in error messages.
    name : str
        The quantity, e.g. ``"precipitation"``, named in error messages.
    target : str, optional
        The unit CropSM wants, only to say so in the message when no unit is given.

    Returns
    -------
    str
        The file's ``units`` attribute when it has one, else ``config_units``.

    Raises
    ------
    cropsm.io.readers.ReaderError
        If neither gives a unit; if the config's unit is not a unit; or if both are
        given and differ as units (``"mm/day"`` and ``"mm day-1"`` do not differ): the
        config never overrides the file.

    Warns
    -----
    UserWarning
        If the file's unit is not a unit pint can read and the config gives one: the
        config's is used, since the two cannot be compared.
    """
    file_units = _text(da.attrs.get("units"))
    config = _text(config_units)
    if file_units is None and config is None:
        expected = f" (expected {target} or a convertible unit)" if target else ""
        raise ReaderError(source, f"{name} has no units attribute; add `units: <...>` to "
                                  f"its config entry{expected}.")
    if config is None:
        return file_units  # type: ignore[return-value]  # not both None, see above
    if _parse_or_none(config) is None:
        raise _parse_error(config, target or config, source=source, name=name,
                           where="has config `units:`")
    if file_units is None:
        return config
    if _parse_or_none(file_units) is None:
        warnings.warn(f"{source}: {name} has units {file_units!r} in the file, which is "
                      f"not a unit pint can read; using the config's {config!r}.",
                      UserWarning, stacklevel=2)
        return config
    if not same_units(file_units, config):
        raise ReaderError(source, f"the file says {name} is in {file_units!r} and the "
                                  f"config says {config!r}; remove one (a file's own units "
                                  f"are not overridden: if they are wrong, fix the file).")
    return file_units


def _text(units: object) -> str | None:
    if units is None:
        return None
    if isinstance(units, bytes):
        units = units.decode("utf-8", "replace")
    text = str(units).strip()
    return text or None
