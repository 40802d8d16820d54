"""Shared reporting code of the Hydra test apps (imported by the app scripts).

The report is one JSON document:

* ``config``: ``OmegaConf.to_container(cfg, resolve=False)`` without the ``hydra`` key;
* ``resolved``: the same with interpolations resolved (what ``cfg.key`` returns), or
  null when resolving fails, with the error text in ``resolve_error``;
* ``non_string_keys``: dotted paths of mapping keys that are not strings (JSON would
  silently turn them into strings, so they are listed here);
* ``output_dir``: Hydra's run directory; ``cwd``: the working directory;
* ``argv``: the arguments the app received.

It is written to the file named by ``GERYON_ECHO_OUT`` (stdout when unset). The app
then exits with ``GERYON_ECHO_EXIT`` (default 0).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf


def _non_string_keys(value: Any, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                found.append(f"{child} ({type(key).__name__})")
            found.extend(_non_string_keys(item, child))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_non_string_keys(item, f"{path}[{index}]"))
    return found


def _without_hydra(container: Any) -> Any:
    if isinstance(container, dict):
        container.pop("hydra", None)
    return container


def build_report(cfg: DictConfig) -> dict[str, Any]:
    config = _without_hydra(OmegaConf.to_container(cfg, resolve=False))
    try:
        resolved = _without_hydra(OmegaConf.to_container(cfg, resolve=True))
        resolve_error = None
    except Exception as err:  # any OmegaConf resolution failure is worth reporting
        resolved, resolve_error = None, f"{type(err).__name__}: {err}"
    return {
        "config": config,
        "resolved": resolved,
        "resolve_error": resolve_error,
        "non_string_keys": _non_string_keys(config, ""),
        "output_dir": HydraConfig.get().runtime.output_dir,
        "cwd": os.getcwd(),
        "argv": sys.argv[1:],
    }


def write_report_and_exit(cfg: DictConfig) -> None:
    text = json.dumps(build_report(cfg), ensure_ascii=True, allow_nan=True)
    out_path = os.environ.get("GERYON_ECHO_OUT")
    if out_path:
        with open(out_path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        print(text)
    sys.exit(int(os.environ.get("GERYON_ECHO_EXIT", "0")))
