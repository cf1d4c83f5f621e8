"""capmodel: Bayesian capability-approach models for evaluating career guidance (CEP).

The layout follows the work: data -> spec -> model -> fit -> effects -> report.
"""

from capmodel.data.schema import Covariate, Extra, Group, Indicator, MissingPolicy, Schema

__version__ = "0.1.0"

__all__ = [
    "Covariate",
    "Extra",
    "Group",
    "Indicator",
    "MissingPolicy",
    "Schema",
    "__version__",
]
