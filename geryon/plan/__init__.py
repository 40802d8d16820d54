"""The planner: composed experiment → plan artifacts (spec §4–§7).

Data flows through these modules in order:

* :mod:`.normalise` validates the composed document into an :class:`Experiment`
  (:mod:`.model`), with :mod:`.predicates` and :mod:`.values`;
* :mod:`.stream` enumerates the product lazily, merging with :mod:`.merge`,
  filtering with rules and predicates, and naming configs with :mod:`.identity`
  and :mod:`.overrides`;
* :mod:`.writer` streams the artifacts to disk; :mod:`.diagnostics` summarises;
* :mod:`.api` ties it together.
"""

from geryon.plan.api import (
    PlanResult,
    plan_all_run_sets,
    plan_composition,
    plan_experiment,
)
from geryon.plan.model import Experiment
from geryon.plan.normalise import normalise

__all__ = [
    "Experiment",
    "PlanResult",
    "normalise",
    "plan_all_run_sets",
    "plan_composition",
    "plan_experiment",
]
