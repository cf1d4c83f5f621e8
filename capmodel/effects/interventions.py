"""Interventions do(support = value): parsing, naming, applying to observed supports.

Text forms (CLI and Python): ``"reflection=1"``, ``"reflection=1,referral=0"``, ``"none"``
(no CEP at all: every support 0), ``"observed"`` (supports as received: no intervention).
Supports an intervention leaves out keep their observed values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from capmodel.effects.units import EffectsError

NONE = "none"
OBSERVED = "observed"


@dataclass(frozen=True)
class Intervention:
    """Set some supports to 0/1 for everyone (``values``); ``everything`` sets every support
    of the model to ``everything`` (used for "none": no CEP at all)."""

    values: tuple[tuple[str, int], ...] = ()
    everything: int | None = None

    @property
    def name(self) -> str:
        if self.everything is not None:
            return NONE if self.everything == 0 else "all"
        if not self.values:
            return OBSERVED
        return ",".join(f"{k}={v}" for k, v in self.values)

    def apply(self, supports: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Supports (P, K) after the intervention (a new array)."""
        out = np.array(supports, dtype=float, copy=True)
        if self.everything is not None:
            out[:] = float(self.everything)
            return out
        for k, v in self.values:
            out[:, list(names).index(k)] = float(v)
        return out

    def check(self, names: Sequence[str]) -> Intervention:
        """Refuse supports the model does not use (naming the allowed ones)."""
        bad = [k for k, _ in self.values if k not in names]
        if bad:
            raise EffectsError(
                f"unknown support(s) {bad} in intervention {self.name!r}; "
                f"the model's supports are {list(names)} (or 'none' for no CEP, "
                "'observed' for supports as received)"
            )
        return self

    def complement(self) -> Intervention:
        """The natural control: each set support flipped (k=1 -> k=0); 'none' -> 'observed'."""
        if self.everything is not None:
            return Intervention()
        if not self.values:
            return Intervention(everything=0)
        return Intervention(tuple((k, 1 - v) for k, v in self.values))


def parse_intervention(text: str | Intervention | Mapping[str, int]) -> Intervention:
    """``"k=1,j=0"``, ``"none"``, ``"observed"``, a mapping {k: 0/1} or an Intervention."""
    if isinstance(text, Intervention):
        return text
    items: list[tuple[str, int | str]]
    if isinstance(text, Mapping):
        items = list(text.items())
    else:
        t = str(text).strip()
        if t.lower() in (NONE, "no_cep", "no-cep"):
            return Intervention(everything=0)
        if t.lower() == OBSERVED or t == "":
            return Intervention()
        items = []
        for part in t.split(","):
            if "=" not in part:
                raise EffectsError(
                    f"cannot read intervention {text!r}: expected 'support=0' or "
                    "'support=1' items separated by commas, 'none' or 'observed'"
                )
            key, value = (x.strip() for x in part.split("=", 1))
            items.append((key, value))
    out = []
    seen = set()
    for k, v in items:
        if str(v) not in ("0", "1"):
            raise EffectsError(
                f"intervention {text!r}: support {k!r} must be set to 0 or 1, got {v!r}"
            )
        if k in seen:
            raise EffectsError(f"intervention {text!r}: support {k!r} is set twice")
        seen.add(k)
        out.append((str(k), int(v)))
    return Intervention(tuple(out))


def support_contrasts(
    names: Sequence[str], supports: Sequence[str] | None = None, cep: bool = True
) -> list[tuple[Intervention, Intervention]]:
    """(treated, control) pairs: do(k = 1) vs do(k = 0) for each support (others as
    observed), and the CEP as received vs no CEP at all when ``cep``."""
    chosen = list(names) if supports is None else list(supports)
    pairs = [
        (Intervention(((k, 1),)).check(names), Intervention(((k, 0),)).check(names)) for k in chosen
    ]
    if cep:
        pairs.append((Intervention(), Intervention(everything=0)))
    return pairs


def contrast_name(treated: Intervention, control: Intervention) -> str:
    if (
        len(treated.values) == 1
        and control.values == ((treated.values[0][0], 0),)
        and (treated.values[0][1] == 1)
    ):
        return treated.values[0][0]
    if treated.name == OBSERVED and control.name == NONE:
        return "cep"
    return f"{treated.name} vs {control.name}"
