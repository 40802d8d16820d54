"""The ``geryon`` command line. ``main(argv) -> int`` is the programmatic entry."""

from geryon.cli.main import main

__all__ = ["main"]
