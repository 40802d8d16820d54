"""Build an experiment with geryon.dsl, write it as YAML next to this file, launch it.

Run from the repository root:

    uv run python examples/dsl/build.py [output folder]

The sweep: a learning-rate pack made with ``pack_param_values``, a model pack made
with ``pack_map``, and a ``require`` predicate that allows the wide model only with
the smallest learning rate. 3 x 2 = 6 combinations, 4 survive.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geryon
from geryon.dsl import Experiment, pack_map, pack_param_values, require

HERE = Path(__file__).resolve().parent
EXPERIMENT = HERE / "experiment.yaml"


def build() -> Experiment:
    learning_rates = pack_param_values(
        pack_name="lr",
        param_path="optimizer.lr",
        values=[0.001, 0.01, 0.1],
        id_prefix="lr",
        tag_prefix="lr",
    )
    models = pack_map(
        pack_name="model",
        options={
            "mlp": {"model": {"name": "mlp", "width": 64}},
            "wide": {"model": {"name": "mlp", "width": 256}},
        },
        tag_prefix="model",
    )
    wide_needs_small_lr = require(
        rules=[
            ({"model": "mlp"}, {"optimizer.lr": ("gt", 0.0)}),
            ({"model": "wide"}, {"optimizer.lr": ("lte", 0.001)}),
        ],
        predicate_id="wide_needs_small_lr",
    )
    return (
        Experiment()
        .command("python", "../apps/train.py")
        .defaults(params={"steps": 5, "seed": 3}, tags=["dsl"])
        .add_pack(learning_rates)
        .add_pack(models)
        .add_predicate(wide_needs_small_lr)
    )


def main(argv: list[str]) -> int:
    out = argv[0] if argv else "outputs"
    experiment = build()
    # validate_with_geryon runs geryon's composer and planner checks before writing.
    experiment.to_yaml_file(EXPERIMENT, validate_with_geryon=True)
    print(f"wrote {EXPERIMENT} ({experiment.planned_config_count()} configs)")
    return geryon.main(
        [
            "launch",
            "--experiment",
            str(EXPERIMENT),
            "--out",
            out,
            "--batch-size",
            "2",
            "--run-id",
            "dsl",
        ]
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
