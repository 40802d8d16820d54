"""A small Hydra app for the pipeline example: estimate pi by Monte Carlo.

It draws ``samples`` seeded random points in the unit square, counts those inside
the quarter circle and writes ``metrics.json`` (estimate and absolute error) into
its Hydra run directory, which geryon sets per attempt with ``hydra.run.dir``.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


def estimate_pi(samples: int, seed: int) -> float:
    rng = random.Random(seed)
    inside = sum(
        1 for _ in range(samples) if rng.random() ** 2 + rng.random() ** 2 <= 1
    )
    return 4 * inside / samples


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    estimate = estimate_pi(int(cfg.samples), int(cfg.seed))
    metrics = {
        "samples": int(cfg.samples),
        "seed": int(cfg.seed),
        "estimate": estimate,
        "abs_error": abs(estimate - math.pi),
    }
    out = Path(HydraConfig.get().runtime.output_dir) / "metrics.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"samples={cfg.samples} seed={cfg.seed}: pi ~ {estimate}")


if __name__ == "__main__":
    main()
