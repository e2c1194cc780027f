"""The built-in algorithm's hyperparameters: table (rows as data) -> rules -> Hyperparameters.

spec (how one string becomes a value) -> table (one row per name: type, range, aliases,
policy) -> parsing.parse (names, values, cross-field rules from `rules`, dropped names) ->
a frozen `Hyperparameters` that fit reads.
"""

from boostbox.training.hyperparameters.parsing import Hyperparameters, parse
from boostbox.training.hyperparameters.table import MULTI_OBJECTIVES

__all__ = ["MULTI_OBJECTIVES", "Hyperparameters", "parse"]
