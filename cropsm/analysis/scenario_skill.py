"""How right a scenario's response is: the model's change of SM against the true change.

On the demo world a scenario's true response comes from re-simulating the world's truth
under the same change (:mod:`cropsm.demo.counterfactual`). The response skill compares
the two over pixel-days: the correlation and bias of ΔSM, the share of pixel-days where
the model's change has the right sign, and the ratio of the mean changes.
"""

from __future__ import annotations

import numpy as np

from cropsm.core import metrics

__all__ = ["NO_TRUTH", "SIGN_THRESHOLD", "SKILL_SENTENCE", "response_skill", "skill_sentence",
           "verdict"]

#: What a response on real data is told: there is nothing to check it against.
NO_TRUTH = ("No counterfactual truth to check this response against (real data have none; "
            "the demo world does).")

#: True changes smaller than this (m³ m⁻³) have no sign to get right: about the
#: product store's rounding (1e-4) times ten.
SIGN_THRESHOLD = 0.001


def response_skill(model_change, true_change) -> dict[str, float]:
    """Skill of a modelled ΔSM against the true ΔSM over the pixel-days both have.

    Parameters
    ----------
    model_change, true_change : array_like
        ΔSM (m³ m⁻³) of the same pixel-days, any matching shape; NaN where absent.

    Returns
    -------
    dict
        ``n`` pixel-days; ``r`` and ``bias`` (model - true, m³ m⁻³) of ΔSM;
        ``sign_agreement``, the share of pixel-days with a true change of at least
        :data:`SIGN_THRESHOLD` whose modelled change has the same sign (NaN without
        any); ``mean_model`` and ``mean_true`` (m³ m⁻³) and their ``mean_ratio``.
    """
    model = np.asarray(model_change, "f8").ravel()
    true = np.asarray(true_change, "f8").ravel()
    both = np.isfinite(model) & np.isfinite(true)
    model, true = model[both], true[both]
    n = int(both.sum())
    if n == 0:
        return {"n": 0, "r": np.nan, "bias": np.nan, "sign_agreement": np.nan,
                "mean_model": np.nan, "mean_true": np.nan, "mean_ratio": np.nan}
    signed = np.abs(true) >= SIGN_THRESHOLD
    with np.errstate(invalid="ignore", divide="ignore"):
        r = float(metrics.pearson_r(model, true)) if n > 2 else np.nan
        mean_model, mean_true = float(model.mean()), float(true.mean())
        return {
            "n": n, "r": r, "bias": mean_model - mean_true,
            "sign_agreement": (float((np.sign(model[signed]) == np.sign(true[signed])).mean())
                               if signed.any() else np.nan),
            "mean_model": mean_model, "mean_true": mean_true,
            "mean_ratio": mean_model / mean_true if mean_true != 0 else np.nan,
        }


#: The sentence :func:`skill_sentence` fills: a dashboard translates this template.
SKILL_SENTENCE = ("true {mean} {mean_true}, {model} {mean_model} m³ m⁻³ (ratio {ratio}); "
                  "ΔSM r {r}, bias {bias}; sign right on {sign} of pixel-days.")


def skill_sentence(skill: dict[str, float], model: str = "model",
                   mean: str = "mean difference", template: str = SKILL_SENTENCE) -> str:
    """:func:`response_skill`'s figures as the sentence the dashboard shows.

    ``model`` names what responded, ``mean`` what the means are of; ``template`` is
    :data:`SKILL_SENTENCE` or a translation of it with the same fields.
    """
    k = skill
    return template.format(
        mean=mean, model=model, mean_true=f"{k['mean_true']:+.4f}",
        mean_model=f"{k['mean_model']:+.4f}", ratio=f"{k['mean_ratio']:.2f}",
        r=f"{k['r']:.2f}", bias=f"{k['bias']:+.4f}", sign=f"{k['sign_agreement']:.0%}")


def verdict(skill: dict[str, float]) -> str | None:
    """What an analyst must be told beside a response, or None if it holds up.

    A response is flagged when its sign is wrong on most pixel-days, or its mean is off
    by more than a factor of two (or of the wrong sign).
    """
    sign, ratio = skill.get("sign_agreement", np.nan), skill.get("mean_ratio", np.nan)
    problems = []
    if np.isfinite(sign) and sign < 0.5:
        problems.append(f"its sign is right on only {sign:.0%} of the pixel-days")
    if np.isfinite(ratio) and not 0.5 <= ratio <= 2.0:
        problems.append(f"its mean is {ratio:.2f} times the true mean change")
    if not problems:
        return None
    return ("The model's response is wrong here: " + " and ".join(problems)
            + " (checked against the demo world's re-simulated truth).")
