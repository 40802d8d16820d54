"""geryon: plan and run giant Hydra experiment sweeps on Snakemake."""

from geryon.errors import ConfigError, GeryonError

__version__ = "0.1.0"

__all__ = ["ConfigError", "GeryonError", "__version__"]
