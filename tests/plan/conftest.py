"""Helpers for planner tests: plan hand-written composed documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from geryon.plan import PlanResult, normalise, plan_composition


@dataclass
class Composed:
    """A stand-in for a Composition when the test writes the composed document."""

    document: dict[str, Any]
    root_path: Path
    diagnostics: dict[str, Any] = field(default_factory=dict)
    run_set_info: dict[str, Any] = field(
        default_factory=lambda: {
            "selected": None,
            "available": [],
            "resolved_order": [],
            "applied_operations": [],
        }
    )
    files: list[dict[str, Any]] = field(default_factory=list)


FILE = Path("/exp/experiment.yaml")

WORKED_EXAMPLE: dict[str, Any] = {
    "command": {"program": "python", "args": ["train.py"]},
    "defaults": {"params": {"train": {"epochs": 10}}, "tags": ["base"]},
    "packs": [
        {
            "name": "model",
            "options": [
                {"id": "small", "tag": "m-small", "params": {"model": {"width": 64}}},
                {"id": "large", "params": {"model": {"width": 256}}},
            ],
        },
        {
            "name": "seed",
            "options": [
                {"id": "s1", "params": {"seed": 1}},
                {"id": "s2", "params": {"seed": 2}},
            ],
        },
    ],
    "constraints": {"exclude": [{"when": {"model": "large", "seed": "s2"}}]},
}


def packs_doc(*packs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A composed document with packs named p0, p1, … holding ``packs`` options."""
    return {
        "command": {"program": "python", "args": ["app.py"]},
        "packs": [{"name": f"p{i}", "options": opts} for i, opts in enumerate(packs)],
        **extra,
    }


@pytest.fixture
def plan_doc(tmp_path: Path) -> Any:
    """``plan_doc(document, **options) -> PlanResult`` into ``tmp_path / 'out'``."""

    def run(document: dict[str, Any], **options: Any) -> PlanResult:
        experiment = tmp_path / "experiment.yaml"
        text = yaml.safe_dump(document, sort_keys=False)
        experiment.write_text(text, encoding="utf-8")
        composed = Composed(
            document=document,
            root_path=experiment,
            files=[{"path": str(experiment), "package": None, "text": text}],
        )
        options.setdefault("out", tmp_path / "out")
        options.setdefault("batch_size", 2)
        return plan_composition(composed, **options)

    return run


def stream_of(
    document: dict[str, Any],
    batch_size: int = 100,
    preview_limit: int = 10**6,
    sink: Any = None,
) -> Any:
    """Run the planner's enumeration without writing; returns the ConfigStream."""
    from geryon.plan.stream import ConfigStream
    from geryon.plan.writer import NullSink

    experiment = normalise(document, FILE)
    stream = ConfigStream(
        experiment,
        run_id="r",
        batch_size=batch_size,
        sink=sink or NullSink(),
        preview_limit=preview_limit,
    )
    stream.run()
    return stream


def merged_params(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Params of every planned config, without the injected wandb keys."""
    configs = stream_of(document).result.preview
    return [{k: v for k, v in c["params"].items() if k != "wandb"} for c in configs]
