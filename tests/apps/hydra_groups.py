"""A Hydra app with config groups: ``optimizer`` (``adam``, ``sgd.v2``) and the nested
group ``model/encoder`` (``cnn``, ``vit large``), defaults ``adam`` and ``cnn``.

Its primary config is ``groups_conf/config.yaml``. See ``echo_report.py`` for what the
app writes and how it exits.
"""

from __future__ import annotations

import hydra
from echo_report import write_report_and_exit
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path="groups_conf", config_name="config")
def main(cfg: DictConfig) -> None:
    write_report_and_exit(cfg)


if __name__ == "__main__":
    main()
