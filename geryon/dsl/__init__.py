"""geryon.dsl: build schema-v4 experiment files from typed Python (spec §11).

The builders produce plain documents and YAML; they plan nothing themselves. Bad
arguments raise :class:`geryon.errors.ConfigError` naming the builder call and
the argument. Validation reuses geryon's own schema, composer and planner. See
``docs/dsl.md`` for the reference and a worked example.
"""

from __future__ import annotations

from geryon.dsl.experiment import Experiment
from geryon.dsl.predicates import ConstraintRule, Predicate, PredicateArg
from geryon.dsl.rules import match_ids, require
from geryon.dsl.specs import (
    DefaultsSpec,
    MergeSpec,
    Option,
    OptionSource,
    Pack,
    PackSelector,
    RunSetSpec,
)
from geryon.dsl.sweeps import (
    TaggedParams,
    pack_map,
    pack_param_linspace,
    pack_param_logspace,
    pack_param_values,
)

DSL_API_VERSION = "0.1.0"
SUPPORTED_SCHEMA_VERSION = 4

__all__ = [
    "DSL_API_VERSION",
    "SUPPORTED_SCHEMA_VERSION",
    "ConstraintRule",
    "DefaultsSpec",
    "Experiment",
    "MergeSpec",
    "Option",
    "OptionSource",
    "Pack",
    "PackSelector",
    "Predicate",
    "PredicateArg",
    "RunSetSpec",
    "TaggedParams",
    "match_ids",
    "pack_map",
    "pack_param_linspace",
    "pack_param_logspace",
    "pack_param_values",
    "require",
]
