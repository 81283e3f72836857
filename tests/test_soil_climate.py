import numpy as np
import pytest

from cropsm.core import landscape
from cropsm.core.soil import saxton_rawls
from cropsm.demo import climate


@pytest.mark.parametrize("sand, clay, om, wp, fc, sat", [
    # Saxton & Rawls (2006) Table 3 (OM 2.5 %): loam, sandy loam, silty clay, clay loam
    (0.40, 0.20, 2.5, 0.14, 0.28, 0.46),
    (0.65, 0.10, 2.5, 0.08, 0.18, 0.45),
    (0.10, 0.45, 2.5, 0.27, 0.41, 0.52),
    (0.30, 0.35, 2.5, 0.22, 0.36, 0.48),
])
def test_saxton_rawls_reproduces_published_table(sand, clay, om, wp, fc, sat):
    s = saxton_rawls(sand, clay, om)
    assert s.wilting_point == pytest.approx(wp, abs=0.015)
    assert s.field_capacity == pytest.approx(fc, abs=0.015)
    assert s.saturation == pytest.approx(sat, abs=0.015)


def test_saxton_rawls_orders_water_contents():
    rng = np.random.default_rng(0)
    sand = rng.uniform(0.05, 0.9, 1000)
    clay = np.minimum(rng.uniform(0.03, 0.55, 1000), 0.95 - sand)
    s = saxton_rawls(sand, clay, rng.uniform(0.2, 6, 1000))
    assert np.all(s.residual < s.wilting_point)
    assert np.all(s.wilting_point < s.field_capacity)
    assert np.all(s.field_capacity < s.saturation)
    assert np.all((s.bulk_density > 0.9) & (s.bulk_density < 1.9))


def test_thornthwaite_pet_reference_value():
    # Thornthwaite's worked example: all months 20 C at the equator-ish (12 h days)
    # gives I = 12 * (20/5)**1.514 and PET = 16 * (10*20/I)**a per 30-day month.
    t = np.full((12, 1), 20.0)
    pet = climate.thornthwaite_pet(t, np.array([0.0]))
    heat = 12 * (20 / 5) ** 1.514
    a = 6.75e-7 * heat**3 - 7.71e-5 * heat**2 + 1.792e-2 * heat + 0.49239
    expected_30day = 16 * (10 * 20 / heat) ** a
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    np.testing.assert_allclose(pet[:, 0], expected_30day * days / 30, rtol=0.01)


def test_pet_is_zero_below_freezing_and_moisture_index_bounds():
    t = np.array([[-5.0], [25.0]] * 6)
    pet = climate.thornthwaite_pet(t, np.array([40.0]))
    assert pet[0, 0] == 0 and pet[1, 0] > 0
    assert landscape.moisture_index(0.0, 800.0) == pytest.approx(-1.0)
    assert landscape.moisture_index(800.0, 800.0) == pytest.approx(0.0)
