"""Raw counts to temperatures and back: the Planck model with emissivity, reflected
radiation, the atmosphere and an IR window (FLIR's published model, as Thermimage's
``raw2temp``/``temp2raw`` and flyr compute it).

The object's radiance is what the camera saw, divided by the transmissions, minus what the
reflected surroundings, the two atmosphere halves and the window added; the temperature is
the inverse Planck curve of that radiance.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from shigu.solutions.thermal.rjpeg import Calibration

KELVIN = 273.15


def transmission(cal: Calibration) -> float:
    """Atmospheric transmission over half the object distance (one of tau1, tau2)."""
    t = cal.atmospheric_temperature - KELVIN
    water = cal.relative_humidity * math.exp(
        1.5587 + 0.06939 * t - 0.00027816 * t**2 + 0.00000068455 * t**3
    )
    d = -math.sqrt(max(cal.object_distance, 0.0) / 2)
    a1 = math.exp(d * (cal.alpha1 + cal.beta1 * math.sqrt(water)))
    a2 = math.exp(d * (cal.alpha2 + cal.beta2 * math.sqrt(water)))
    return cal.atmospheric_x * a1 + (1 - cal.atmospheric_x) * a2


def _planck_raw(cal: Calibration, kelvin: float) -> float:
    """The raw count a black body at ``kelvin`` gives."""
    return cal.planck_r1 / (cal.planck_r2 * (math.exp(cal.planck_b / kelvin) - cal.planck_f)) - (
        cal.planck_o
    )


def _terms(cal: Calibration) -> tuple[float, float]:
    """(scale, offset): ``raw_object = raw * scale - offset``."""
    e, irt = cal.emissivity, cal.ir_window_transmission
    if not 0 < e <= 1 or not 0 < irt <= 1:
        raise ValueError("emissivity and window transmission must be in (0, 1]")
    tau = transmission(cal)
    refl = _planck_raw(cal, cal.reflected_temperature)
    atm = _planck_raw(cal, cal.atmospheric_temperature)
    wind = _planck_raw(cal, cal.ir_window_temperature)
    offset = (
        (1 - e) / e * refl  # reflected, in front of the window
        + (1 - tau) / e / tau * atm  # atmosphere between window and camera
        + (1 - irt) / (e * tau * irt) * wind  # the window's own emission
        + (1 - tau) / (e * tau * irt) / tau * atm  # atmosphere between object and window
    )  # the window reflects nothing (FLIR's model: refl_wind = 0)
    return 1.0 / (e * tau * irt * tau), offset


def raw_to_celsius(raw: np.ndarray | float, cal: Calibration) -> np.ndarray:
    """Temperatures in degrees Celsius (float64) of raw counts."""
    scale, offset = _terms(cal)
    obj = np.asarray(raw, dtype=np.float64) * scale - offset
    with np.errstate(divide="ignore", invalid="ignore"):
        kelvin = cal.planck_b / np.log(cal.planck_r1 / (cal.planck_r2 * (obj + cal.planck_o))
                                       + cal.planck_f)  # fmt: skip
    return kelvin - KELVIN


def celsius_to_raw(celsius: np.ndarray | float, cal: Calibration) -> np.ndarray:
    """The raw counts the camera would record for objects at ``celsius`` (the inverse)."""
    scale, offset = _terms(cal)
    kelvin = np.asarray(celsius, dtype=np.float64) + KELVIN
    obj = cal.planck_r1 / (cal.planck_r2 * (np.exp(cal.planck_b / kelvin) - cal.planck_f)) - (
        cal.planck_o
    )
    return (obj + offset) / scale


def with_scene(
    cal: Calibration,
    *,
    emissivity: float | None = None,
    distance: float | None = None,
    reflected_c: float | None = None,
    atmosphere_c: float | None = None,
    window_c: float | None = None,
    window_transmission: float | None = None,
    humidity: float | None = None,
) -> Calibration:
    """The calibration with scene parameters replaced (Celsius; humidity as a fraction)."""
    changes: dict[str, float] = {}
    if emissivity is not None:
        changes["emissivity"] = emissivity
    if distance is not None:
        changes["object_distance"] = distance
    if reflected_c is not None:
        changes["reflected_temperature"] = reflected_c + KELVIN
    if atmosphere_c is not None:
        changes["atmospheric_temperature"] = atmosphere_c + KELVIN
    if window_c is not None:
        changes["ir_window_temperature"] = window_c + KELVIN
    if window_transmission is not None:
        changes["ir_window_transmission"] = window_transmission
    if humidity is not None:
        changes["relative_humidity"] = humidity
    return replace(cal, **changes)
