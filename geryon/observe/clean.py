"""``clean``: remove a run's plan, execution state or the whole run root (spec O17).

Safety rules, stricter than upstream:

* the ``--run`` path is resolved (symlinks followed) and must be a geryon run root
  (it has ``run.json`` or ``plan/``); anything else is refused;
* nothing outside the run root is touched: a ``plan`` or ``exec`` entry that is a
  symlink is unlinked, never followed, and ``shutil.rmtree`` does not follow
  symlinks inside the tree;
* a run whose lock is held (a runner is active) is refused;
* a directory that is already gone is reported as not present, not an error.

With ``--exec`` or ``--all``, tmux sessions registered by the wrapper under
``exec/state/tmux_sessions/`` whose wrapper process is gone are killed first
(:func:`geryon.wrapper.executors.tmux.kill_stale_sessions`), since their record
is about to disappear.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError, RunLockedError
from geryon.layout import RunLayout
from geryon.observe.live import run_lock_held, run_lock_path
from geryon.wrapper.executors.tmux import kill_stale_sessions, sessions_dir

log = logging.getLogger("geryon.observe.clean")


@dataclass
class CleanResult:
    removed: list[str] = field(default_factory=list)
    not_present: list[str] = field(default_factory=list)
    tmux_sessions_killed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "removed": self.removed,
            "not_present": self.not_present,
            "tmux_sessions_killed": self.tmux_sessions_killed,
        }


def run_root_for_clean(run_dir: str | Path) -> RunLayout:
    """The resolved run root, or a :class:`ConfigError` when it is not one."""
    root = Path(run_dir).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(
            "run directory not found",
            file=root,
            hint="Pass an existing run directory (<out>/runs/<run_id>)",
        )
    layout = RunLayout(root)
    if not layout.run_json.is_file() and not layout.plan_dir.is_dir():
        raise ConfigError(
            "refusing to clean: this is not a geryon run root "
            "(it has neither run.json nor plan/)",
            file=root,
            hint="Pass the run directory printed by 'geryon plan' (<out>/runs/<run_id>)",
        )
    return layout


def clean(
    run_dir: str | Path, *, plan: bool = False, exec_: bool = False, all_: bool = False
) -> CleanResult:
    """Remove the selected parts of a run root; ``all_`` removes the run root itself."""
    if not (plan or exec_ or all_):
        raise ConfigError(
            "clean needs at least one of --plan, --exec, --all",
            key_path="--plan/--exec/--all",
            hint="Choose what to delete",
        )
    layout = run_root_for_clean(run_dir)
    if run_lock_held(layout):
        raise RunLockedError(
            f"refusing to clean {layout.root}: the run is active "
            f"(its lock {run_lock_path(layout)} is held); wait for it to finish"
        )
    result = CleanResult()
    if all_ or exec_:
        result.tmux_sessions_killed = _kill_recorded_sessions(layout)
    targets = [layout.root] if all_ else []
    if not all_:
        targets += [layout.plan_dir] if plan else []
        targets += [layout.exec_dir] if exec_ else []
    for target in targets:
        _remove(layout.root, target, result)
    return result


def _remove(root: Path, target: Path, result: CleanResult) -> None:
    if target != root and target.parent != root:
        raise ConfigError(f"refusing to remove {target}: outside the run root {root}")
    if target.is_symlink():
        log.info("removing symlink %s (not following it)", target)
        target.unlink()
        result.removed.append(str(target))
        return
    if not target.exists():
        result.not_present.append(str(target))
        return
    log.info("removing %s", target)
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    result.removed.append(str(target))


def _kill_recorded_sessions(layout: RunLayout) -> list[str]:
    """Kill sessions the wrapper registered whose wrapper process is gone."""
    if not sessions_dir(layout).is_dir() or shutil.which("tmux") is None:
        return []
    return kill_stale_sessions(layout)
