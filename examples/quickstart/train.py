"""A tiny Hydra "training" app for the geryon quickstart.

It reads a learning rate, a seed and a model choice, computes a fake loss
curve from them and writes ``metrics.json`` into its Hydra run directory
(geryon passes ``hydra.run.dir=<run>/exec/workdirs/...`` to every command).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

WIDTHS = {"mlp": 64, "cnn": 32}


def fake_training(lr: float, seed: int, width: int, steps: int) -> list[float]:
    """A deterministic, decreasing loss curve with a little seeded noise."""
    rng = random.Random(seed)
    return [
        round(math.exp(-lr * width * step / 10) + rng.uniform(0, 0.01), 6)
        for step in range(steps)
    ]


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    width = WIDTHS[cfg.model.name]
    losses = fake_training(float(cfg.lr), int(cfg.seed), width, int(cfg.steps))
    metrics = {
        "model": cfg.model.name,
        "lr": float(cfg.lr),
        "seed": int(cfg.seed),
        "final_loss": losses[-1],
        "losses": losses,
    }
    out = Path(HydraConfig.get().runtime.output_dir) / "metrics.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"{cfg.model.name} lr={cfg.lr} seed={cfg.seed}: final loss {losses[-1]}")


if __name__ == "__main__":
    main()
