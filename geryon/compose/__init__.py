"""Composition: the experiment file and its imports become one document (spec §1–§2).

``compose(path, run_set=None)`` loads the root file and its imports, checks every
file against the experiment JSON Schema, registers definitions under qualified
names, applies the selected run set and expands ``select`` into the final list of
packs. ``run_set_names(path)`` lists the root's run sets cheaply.
"""

from geryon.compose.composer import Composition, compose, run_set_names
from geryon.compose.loader import LoadedFile

__all__ = ["Composition", "LoadedFile", "compose", "run_set_names"]
