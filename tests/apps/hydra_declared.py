"""A Hydra app that declares keys: a typed structured section plus JSON defaults.

The primary config (registered in Hydra's ConfigStore as ``geryon_declared``) is:

* every key of the JSON object in the file named by ``GERYON_ECHO_DEFAULTS``
  (untyped nodes; nothing when the variable is unset);
* ``typed``: the structured section :class:`Typed` (typed nodes, struct mode).

Hydra puts the composed config in struct mode, so only ``+``/``++`` overrides can add
keys. See ``echo_report.py`` for what the app writes and how it exits.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import hydra
from echo_report import write_report_and_exit
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf


@dataclass
class Typed:
    lr: float = 0.1
    steps: int = 10
    name: str = "base"
    flag: bool = False
    tags: list[str] = field(default_factory=lambda: ["declared"])
    anything: Any = "declared"
    nested: dict[str, Any] = field(default_factory=lambda: {"inner": 1})


def _primary_config() -> DictConfig:
    defaults_path = os.environ.get("GERYON_ECHO_DEFAULTS")
    defaults: dict[str, Any] = {}
    if defaults_path:
        with open(defaults_path, encoding="utf-8") as handle:
            defaults = json.load(handle)
    config = OmegaConf.create(defaults)
    config.typed = OmegaConf.structured(Typed)
    return config


ConfigStore.instance().store(name="geryon_declared", node=_primary_config())


@hydra.main(version_base=None, config_path=None, config_name="geryon_declared")
def main(cfg: DictConfig) -> None:
    write_report_and_exit(cfg)


if __name__ == "__main__":
    main()
