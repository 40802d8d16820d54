"""A Hydra app without any config: every key it receives was added on the command line.

Run it as ``python tests/apps/hydra_echo.py ++key=value ...``; see ``echo_report.py``
for what it writes and how it exits.
"""

from __future__ import annotations

import hydra
from echo_report import write_report_and_exit
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=None)
def main(cfg: DictConfig) -> None:
    write_report_and_exit(cfg)


if __name__ == "__main__":
    main()
