"""The Planck model against Thermimage's worked example, and its inverse."""

from __future__ import annotations

import numpy as np
import pytest

from shigu.solutions.thermal.planck import (
    KELVIN,
    celsius_to_raw,
    raw_to_celsius,
    transmission,
    with_scene,
)
from shigu.solutions.thermal.rjpeg import Calibration

# Thermimage's documented defaults: R1 21106.77, B 1501, F 1, O -7340, R2 0.012545258
BASE = Calibration(planck_r1=21106.77, planck_r2=0.012545258, planck_b=1501, planck_f=1,
                   planck_o=-7340, emissivity=1.0, object_distance=0.0,
                   reflected_temperature=20 + KELVIN, atmospheric_temperature=20 + KELVIN,
                   ir_window_temperature=20 + KELVIN, ir_window_transmission=1.0,
                   relative_humidity=0.5)  # fmt: skip


def test_thermimage_temp2raw_example() -> None:
    # temp2raw(23, E=1, OD=0, RTemp=20, ATemp=20, IRWTemp=20, IRT=1, RH=50) = 17994.06
    assert float(celsius_to_raw(23.0, BASE)) == pytest.approx(17994.06, abs=0.01)


def test_thermimage_raw2temp_example() -> None:
    # raw2temp(17994.06, E=0.95, OD=1, RTemp=20, ATemp=20, IRWTemp=20, IRT=0.96, RH=50)
    cal = with_scene(BASE, emissivity=0.95, distance=1.0, window_transmission=0.96)
    assert float(raw_to_celsius(17994.06, cal)) == pytest.approx(23.31223, abs=1e-4)


def test_inverse_round_trip_over_scenes() -> None:
    rng = np.random.default_rng(3)
    temps = rng.uniform(-20, 300, 500)
    for e, d, irt, rh in [(0.95, 1, 1, 0.5), (0.6, 25, 0.9, 0.9), (0.98, 0, 1, 0.1)]:
        cal = with_scene(BASE, emissivity=e, distance=d, window_transmission=irt, humidity=rh,
                         reflected_c=30, atmosphere_c=5)  # fmt: skip
        back = raw_to_celsius(celsius_to_raw(temps, cal), cal)
        np.testing.assert_allclose(back, temps, atol=1e-6)


def test_transmission_is_one_at_zero_distance_and_falls_with_distance() -> None:
    assert transmission(BASE) == pytest.approx(1.0)
    far = [transmission(with_scene(BASE, distance=d)) for d in (1, 10, 100)]
    assert 1 > far[0] > far[1] > far[2] > 0.5


def test_bad_emissivity_is_refused() -> None:
    with pytest.raises(ValueError, match="emissivity"):
        raw_to_celsius(17000, with_scene(BASE, emissivity=0.0))
