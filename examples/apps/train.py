"""The Hydra app shared by the geryon examples: a fake, deterministic training run.

It reads a model, an optimizer, a seed and a step count, computes a loss curve from
them and writes ``metrics.json`` into its Hydra run directory (geryon appends
``hydra.run.dir=<run>/exec/workdirs/...`` to every command, so each attempt has its
own). The ``chaos`` keys make it misbehave on purpose for the resilience examples:

* ``chaos.sleep_sec``: sleep first, long enough for a timeout to kill it;
* ``chaos.fail``: exit with status 3 after training;
* ``chaos.fail_attempts``: fail the first N attempts of this config, then succeed.
  Attempts are counted in ``<workdirs>/attempt_counts/<wandb.name>`` (geryon
  gives every config a unique ``wandb.name``).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

EXIT_FAILED = 3


def loss_curve(lr: float, width: int, seed: int, steps: int) -> list[float]:
    """A decreasing loss curve with a little seeded noise."""
    rng = random.Random(seed)
    return [
        round(math.exp(-lr * width * step / 10) + rng.uniform(0, 0.01), 6)
        for step in range(steps)
    ]


def attempt_number(cfg: DictConfig, output_dir: Path) -> int:
    """How many times this config has started, counting this attempt."""
    # The run dir is <workdirs>/task_<J>_<T>/batch_<B>/line_<...>/.
    counts = output_dir.parents[2] / "attempt_counts"
    counts.mkdir(exist_ok=True)
    name = str(cfg.get("wandb", {}).get("name", "config"))
    counter = counts / name
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    return number


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    attempt = attempt_number(cfg, output_dir)
    time.sleep(float(cfg.chaos.sleep_sec))
    losses = loss_curve(
        float(cfg.optimizer.lr), int(cfg.model.width), int(cfg.seed), int(cfg.steps)
    )
    metrics = {
        "model": str(cfg.model.name),
        "optimizer": str(cfg.optimizer.name),
        "lr": float(cfg.optimizer.lr),
        "seed": int(cfg.seed),
        "attempt": attempt,
        "final_loss": losses[-1],
    }
    (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics))
    if cfg.chaos.fail or attempt <= int(cfg.chaos.fail_attempts):
        print(f"failing on purpose (attempt {attempt})", file=sys.stderr)
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
