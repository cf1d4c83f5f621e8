"""Model specifications (TOML) and their priors."""

from capmodel.spec.errors import SpecError
from capmodel.spec.priors import DEFAULT_PRIORS, Prior
from capmodel.spec.spec import Sampling, Spec, load_spec, spec_from_dict, spec_with

__all__ = [
    "DEFAULT_PRIORS",
    "Prior",
    "Sampling",
    "Spec",
    "SpecError",
    "load_spec",
    "spec_from_dict",
    "spec_with",
]
