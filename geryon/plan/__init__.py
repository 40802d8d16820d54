"""The planner: composed experiment → plan artifacts (spec §4–§7).

Data flows through these modules in order:

* :mod:`.normalise` validates the composed document into an :class:`Experiment`
  (:mod:`.model`), with :mod:`.predicates` and :mod:`.values`;
* :mod:`.stream` enumerates the product lazily, merging with :mod:`.merge`,
  filtering with rules and predicates, and naming configs with :mod:`.identity`
  and :mod:`.overrides`;
* :mod:`.writer` streams the artifacts to disk; :mod:`.diagnostics` summarises;
* :mod:`.api` ties it together.

The names below are imported on first use (module ``__getattr__``): the batch
wrapper imports only :mod:`.overrides`, and loading the whole planner with the
package would cost every batch job about a quarter of a second.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geryon.plan.api import (
        PlanResult,
        plan_all_run_sets,
        plan_composition,
        plan_experiment,
    )
    from geryon.plan.model import Experiment
    from geryon.plan.normalise import normalise

# Public name → the submodule that defines it.
_SOURCES = {
    "Experiment": "geryon.plan.model",
    "PlanResult": "geryon.plan.api",
    "normalise": "geryon.plan.normalise",
    "plan_all_run_sets": "geryon.plan.api",
    "plan_composition": "geryon.plan.api",
    "plan_experiment": "geryon.plan.api",
}

__all__ = [
    "Experiment",
    "PlanResult",
    "normalise",
    "plan_all_run_sets",
    "plan_composition",
    "plan_experiment",
]


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SOURCES})


class _Package(types.ModuleType):
    """Keeps ``geryon.plan.normalise`` the function, as the eager package had it.

    Importing a submodule binds it on the package under its own name, and the
    submodule :mod:`.normalise` shares its name with its public function; without
    this, ``from geryon.plan import normalise`` would give the module whenever
    the submodule was loaded before the name was first asked for.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "normalise" and isinstance(value, types.ModuleType):
            value = value.normalise
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
