"""``geryon.plan`` loads its submodules on first use (the batch wrapper needs only
``geryon.plan.overrides`` and must not pay for the whole planner)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport sys\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('geryon.plan'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    return done.stdout.split()


def test_the_wrapper_loads_only_the_overrides_module() -> None:
    loaded = _loaded_after("import geryon.wrapper.launch")
    assert loaded == ["geryon.plan", "geryon.plan.overrides"]


def test_public_names_still_import_from_the_package() -> None:
    # The submodule geryon.plan.normalise loads first; the name stays the function.
    loaded = _loaded_after(
        "import geryon.plan.api\n"
        "from geryon.plan import Experiment, PlanResult, normalise, plan_experiment\n"
        "assert callable(plan_experiment) and callable(normalise)"
    )
    assert "geryon.plan.api" in loaded and "geryon.plan.stream" in loaded


def test_unknown_names_raise_attribute_error() -> None:
    import geryon.plan

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = geryon.plan.nope  # type: ignore[attr-defined]
    assert "plan_all_run_sets" in dir(geryon.plan)
