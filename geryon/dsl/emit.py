"""YAML emission and the checks that reuse geryon's own composer and planner.

Strict emission validates the document with the experiment JSON Schema that the
YAML path uses, and ``validate_with_geryon`` / ``max_configs`` run the real
composer and a dry-run plan, so the DSL has no second validator that could drift
from the YAML one (Q41). Those checks run on a temporary file written *next to*
the target file: relative ``imports`` then resolve exactly as they will for the
final file (upstream checked a copy in a temporary directory, which broke relative
imports, Q40).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from geryon import storage
from geryon.errors import ConfigError

log = logging.getLogger("geryon.dsl")

T = TypeVar("T")

# Spec Y12: plans for the config budget use this batch size.
BUDGET_BATCH_SIZE = 1024


class _BlockDumper(yaml.SafeDumper):
    """Safe YAML with list items indented under their key, as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(document: dict[str, Any], *, sort_keys: bool) -> str:
    """Block-style YAML, 2-space indent, non-ASCII escaped, lines never folded."""
    text: str = yaml.dump(
        document,
        Dumper=_BlockDumper,
        default_flow_style=False,
        indent=2,
        allow_unicode=False,
        sort_keys=sort_keys,
        width=2**31 - 1,
    )
    return text


def validate(document: dict[str, Any], *, source: str | Path) -> None:
    """Structural validation with the experiment schema the YAML path uses.

    ``source`` names the file or the builder call in error messages.
    """
    from geryon import schemas

    schemas.validate(document, "experiment", file=source)


@dataclass(frozen=True, kw_only=True)
class InPlaceChecks:
    """What :func:`write_checked` runs before the final file is written."""

    validate: bool = False
    validate_run_set: str | None = None
    max_configs: int | None = None
    budget_run_set: str | None = None

    def __post_init__(self) -> None:
        limit = self.max_configs
        valid = isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
        if limit is not None and not valid:
            raise ConfigError(
                f"Experiment.to_yaml_file: argument 'max_configs' must be a positive "
                f"integer; got {limit!r}"
            )

    @property
    def any(self) -> bool:
        return self.validate or self.max_configs is not None


def write_checked(target: Path, text: str, checks: InPlaceChecks) -> None:
    """Write ``text`` to ``target`` atomically, after the requested checks pass."""
    if not checks.any:
        storage.write_text_atomic(target, text)
        return
    with _scratch_file(target.parent, target.name, text) as scratch:
        _rename_errors(scratch, target, lambda: _run_checks(scratch, checks))
        os.replace(scratch, target)
    log.info("wrote checked experiment %s", target)


def count_configs(text: str, directory: Path, run_set: str | None) -> int:
    """Dry-run plan ``text`` as if it were a file in ``directory``; its config count."""
    with _scratch_file(directory, "experiment.yaml", text) as scratch:
        return _rename_errors(scratch, None, lambda: _plan_count(scratch, run_set))


def _run_checks(path: Path, checks: InPlaceChecks) -> None:
    if checks.validate:
        from geryon.compose import compose
        from geryon.plan import normalise

        # The same two steps as `geryon validate-config`: composition, then the
        # planner's normalisation of the composed document (spec §1–§5).
        log.info("validating %s with geryon's composer and planner", path)
        composition = compose(path, run_set=checks.validate_run_set)
        normalise(composition.document, composition.root_path)
    if checks.max_configs is not None:
        count = _plan_count(path, checks.budget_run_set)
        if count > checks.max_configs:
            scope = (
                f" (run set {checks.budget_run_set!r})" if checks.budget_run_set else ""
            )
            raise ConfigError(
                f"the experiment plans {count} configs{scope}, more than "
                f"max_configs={checks.max_configs}",
                hint="Narrow the packs or constraints, or raise max_configs.",
            )


def _plan_count(path: Path, run_set: str | None) -> int:
    from geryon.plan import plan_experiment

    with tempfile.TemporaryDirectory(prefix="geryon-dsl-plan-") as out:
        log.info("dry-run planning %s to count its configs", path)
        result = plan_experiment(
            path,
            out=Path(out),
            batch_size=BUDGET_BATCH_SIZE,
            run_set=run_set,
            dry_run=True,
        )
        return result.total_configs


@contextmanager
def _scratch_file(directory: Path, name: str, text: str) -> Iterator[Path]:
    """A hidden temporary experiment file in ``directory``, removed afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(
        prefix=f".{name}.", suffix=".dsl-check.yaml", dir=directory
    )
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        # The scratch file becomes the target by rename, so it must be on disk.
        os.fsync(handle.fileno())
    try:
        yield Path(raw)
    finally:
        Path(raw).unlink(missing_ok=True)


def _rename_errors(scratch: Path, target: Path | None, check: Callable[[], T]) -> T:
    """Run ``check``; errors about the scratch file name the real target instead."""
    try:
        return check()
    except ConfigError as err:
        shown = str(target) if target is not None else "Experiment.planned_config_count"
        # The composer reports resolved paths (spec C4); match both spellings.
        names = {str(scratch), str(scratch.resolve())}
        problem = err.problem
        for name in names:
            problem = problem.replace(name, shown)
        file = shown if err.file is None or err.file in names else err.file
        raise ConfigError(
            problem, file=file, key_path=err.key_path, hint=err.hint
        ) from err
