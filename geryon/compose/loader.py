"""Loading the root file and its imports into a registry (spec C1–C16, S1–S4).

Each file goes through the same steps: parse (safe YAML 1.1), require a mapping,
reject values JSON cannot hold (dates…), check the ``schema`` block, apply the
file's ``unknown_key_behavior`` to unknown top-level keys (and, in the root, to
unknown ``select`` keys), drop the sections an imported file cannot use, check
the structure with the JSON Schema, load its imports depth-first, and only then
register its definitions.

Deliberate differences from upstream (spec §12):

* Q1: sections of an imported file that have no effect (``command``, ``select``,
  ``defaults``, ``constraints``, ``merge``, ``run_sets``) produce a warning and are
  not validated.
* Q4: every warning is recorded once.
* Q7: with ``unknown_key_behavior: warn`` unknown keys are really dropped, so
  planning cannot fail on them later.
* The structure of every definition is checked when its file is loaded, also for
  definitions nothing selects; references are still resolved lazily (C18).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon import schemas, yamlio
from geryon.compose.registry import KINDS, Registry, Site
from geryon.compose.tree import cycle_chain
from geryon.errors import ConfigError, key_path

log = logging.getLogger("geryon.compose")

TOP_LEVEL_KEYS = (
    "schema",
    "imports",
    "option_sets",
    "packs",
    "groups",
    "command",
    "select",
    "defaults",
    "constraints",
    "merge",
    "run_sets",
)
SELECT_KEYS = ("groups", "packs")
IGNORED_IN_IMPORTS = (
    "command",
    "select",
    "defaults",
    "constraints",
    "merge",
    "run_sets",
)
REMOVED_KEYS = {
    "registry": "Move its definitions to the top-level keys option_sets, packs, groups",
    "package": "Give the package on the import instead: imports: [{path: ..., package: ...}]",
}

FileKey = tuple[Path, str | None]


@dataclass(frozen=True)
class LoadedFile:
    """One loaded file, as the planner copies it into the plan snapshot (Q23)."""

    path: Path
    package: str | None
    text: str


@dataclass
class Warnings:
    """Composition warnings in first-seen order, each recorded once (Q4)."""

    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        if message in self.items:
            return
        self.items.append(message)
        log.warning("%s", message)


@dataclass
class LoadState:
    registry: Registry = field(default_factory=Registry)
    warnings: Warnings = field(default_factory=Warnings)
    files: list[LoadedFile] = field(default_factory=list)
    file_diagnostics: list[dict[str, Any]] = field(default_factory=list)
    loaded: set[FileKey] = field(default_factory=set)
    stack: list[FileKey] = field(default_factory=list)


@dataclass(frozen=True)
class _Import:
    path: Path
    package: str | None
    site: Site


def load_tree(root_path: Path) -> tuple[dict[str, Any], LoadState]:
    """Load the root file and, recursively, its imports; return the root document."""
    state = LoadState()
    root = _load_file(root_path, None, state, importer=None)
    return root, state


def load_root_only(root_path: Path) -> tuple[dict[str, Any], Warnings]:
    """Parse and check the root file alone (for cheap questions like run-set names)."""
    warnings = Warnings()
    text = _read_root(root_path)
    document = prepare_document(text, root_path, is_root=True, warnings=warnings)
    return document, warnings


def _load_file(
    path: Path, package: str | None, state: LoadState, *, importer: _Import | None
) -> dict[str, Any]:
    text = _read_root(path) if importer is None else _read_import(importer)
    document = prepare_document(
        text, path, is_root=importer is None, warnings=state.warnings
    )
    key = (path, package)
    state.stack.append(key)
    imports = [
        _import_of(entry, index, Site(path, package, ()))
        for index, entry in enumerate(document.get("imports") or [])
    ]
    for edge in imports:
        _follow(edge, state)
    state.stack.pop()
    registered = _register_all(document, Site(path, package, ()), state.registry)
    state.loaded.add(key)
    state.files.append(LoadedFile(path, package, text))
    state.file_diagnostics.append(_file_record(path, package, imports, registered))
    log.debug("loaded %s (package %s)", path, package)
    return document


def _follow(edge: _Import, state: LoadState) -> None:
    key = (edge.path, edge.package)
    if key in state.loaded:
        return
    if key in state.stack:
        chain = [_show_key(item) for item in [*state.stack, key]]
        raise edge.site.error(
            "Import cycle detected:\n" + cycle_chain(chain),
            hint="Remove one of these imports so that no file imports itself",
        )
    if edge.package is not None:
        state.registry.packages.add(edge.package)
    _load_file(edge.path, edge.package, state, importer=edge)


def _show_key(key: FileKey) -> str:
    path, package = key
    return f"{path} (package {package or '<none>'})"


def _import_of(entry: dict[str, Any], index: int, file_site: Site) -> _Import:
    raw_path = str(entry["path"]).strip()
    raw_package = entry.get("package")
    package = raw_package.strip() if isinstance(raw_package, str) else None
    site = file_site.child("imports", index, "path")
    return _Import(
        resolve_path(file_site.file.parent / raw_path, site), package or None, site
    )


def resolve_path(path: Path, site: Site | None = None) -> Path:
    """Absolute path with ``..`` and symlinks resolved (C4); a symlink loop is bad input."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as err:
        raise ConfigError(
            f"cannot resolve the path {path}: {err}",
            file=site.file if site else path,
            key_path=key_path(site.where) if site else None,
            hint="Check for a symbolic link that points to itself",
        ) from err


def _read_root(path: Path) -> str:
    try:
        return yamlio.read_text(path)
    except ConfigError as err:
        raise ConfigError(
            f"cannot read the experiment file: {err.problem}",
            file=path,
            hint="Check the --experiment path (relative paths start at the current directory)",
        ) from err


def _read_import(edge: _Import) -> str:
    try:
        return yamlio.read_text(edge.path)
    except ConfigError as err:
        importer = edge.site
        raise ConfigError(
            f"imported file {edge.path}: {err.problem}",
            file=importer.file,
            key_path=key_path(importer.where),
            hint=f"It is imported from {importer.file} (package "
            f"{importer.package or '<none>'}); import paths are relative to "
            f"{importer.file.parent}",
        ) from err


def prepare_document(
    text: str, path: Path, *, is_root: bool, warnings: Warnings
) -> dict[str, Any]:
    """Parse one file and check everything about it that needs no other file."""
    document = yamlio.parse_yaml_text(text, file=path)
    if not isinstance(document, dict):
        found = "an empty file" if document is None else schemas.describe(document)
        raise ConfigError(
            f"YAML root must be a mapping, found {found}",
            file=path,
            hint="An experiment file is a mapping with keys such as command, select, "
            "option_sets",
        )
    yamlio.reject_non_json(document, file=path)
    _reject_removed_keys(document, path)
    if "schema" in document:
        schemas.validate({"schema": document["schema"]}, "experiment", file=path)
    behavior = (document.get("schema") or {}).get("unknown_key_behavior", "error")
    document = _drop_unknown_top_level(document, path, behavior, warnings)
    if is_root:
        document = _drop_unknown_select_keys(document, path, behavior, warnings)
    else:
        document = _drop_ignored_sections(document, path, warnings)
    schemas.validate(document, "experiment", file=path)
    return document


def _reject_removed_keys(document: dict[str, Any], path: Path) -> None:
    for key, hint in REMOVED_KEYS.items():
        if key in document:
            raise ConfigError(
                f"top-level key '{key}' was removed in experiment schema version 4",
                file=path,
                key_path=key,
                hint=hint,
            )


def _drop_unknown_top_level(
    document: dict[str, Any], path: Path, behavior: str, warnings: Warnings
) -> dict[str, Any]:
    unknown = [key for key in document if key not in TOP_LEVEL_KEYS]
    if not unknown:
        return document
    if behavior != "warn":
        raise ConfigError(
            f"unknown top-level key '{unknown[0]}'",
            file=path,
            key_path=str(unknown[0]),
            hint=f"Allowed top-level keys: {', '.join(TOP_LEVEL_KEYS)}. To ignore "
            "unknown keys with a warning, set schema.unknown_key_behavior: warn",
        )
    for key in unknown:
        warnings.add(
            f"{path}: unknown top-level key '{key}' ignored (unknown_key_behavior: warn)"
        )
    return {key: value for key, value in document.items() if key in TOP_LEVEL_KEYS}


def _drop_unknown_select_keys(
    document: dict[str, Any], path: Path, behavior: str, warnings: Warnings
) -> dict[str, Any]:
    """C19 for the root's ``select`` and for ``select`` inside run-set append/replace."""
    out = dict(document)
    if isinstance(out.get("select"), dict):
        out["select"] = _clean_select(
            out["select"], ("select",), path, behavior, warnings
        )
    run_sets = out.get("run_sets")
    if isinstance(run_sets, dict):
        out["run_sets"] = {
            name: _clean_run_set(spec, ("run_sets", name), path, behavior, warnings)
            for name, spec in run_sets.items()
        }
    return out


def _clean_run_set(
    spec: Any, where: tuple[str, ...], path: Path, behavior: str, warnings: Warnings
) -> Any:
    if not isinstance(spec, dict):
        return spec
    out = dict(spec)
    for operation in ("append", "replace"):
        payload = out.get(operation)
        if isinstance(payload, dict) and isinstance(payload.get("select"), dict):
            select_where = (*where, operation, "select")
            select = _clean_select(
                payload["select"], select_where, path, behavior, warnings
            )
            out[operation] = {**payload, "select": select}
    return out


def _clean_select(
    select: dict[str, Any],
    where: tuple[str, ...],
    path: Path,
    behavior: str,
    warnings: Warnings,
) -> dict[str, Any]:
    unknown = [key for key in select if key not in SELECT_KEYS]
    if not unknown:
        return select
    first = key_path([*where, str(unknown[0])])
    if behavior != "warn":
        raise ConfigError(
            f"unknown key '{unknown[0]}' in select",
            file=path,
            key_path=first,
            hint="select allows only groups and packs. To ignore unknown keys with a "
            "warning, set schema.unknown_key_behavior: warn",
        )
    for key in unknown:
        at = key_path([*where, str(key)])
        warnings.add(f"{path}: unknown key '{at}' ignored (unknown_key_behavior: warn)")
    return {key: value for key, value in select.items() if key in SELECT_KEYS}


def _drop_ignored_sections(
    document: dict[str, Any], path: Path, warnings: Warnings
) -> dict[str, Any]:
    ignored = [key for key in IGNORED_IN_IMPORTS if key in document]
    if not ignored:
        return document
    warnings.add(
        f"{path}: imported file has section(s) {', '.join(ignored)} that are ignored; "
        "only schema, imports, option_sets, packs and groups of an imported file "
        "take effect"
    )
    return {key: value for key, value in document.items() if key not in ignored}


def _register_all(
    document: dict[str, Any], file_site: Site, registry: Registry
) -> dict[str, list[str]]:
    registered: dict[str, list[str]] = {}
    for kind in KINDS:
        names = [
            registry.register(kind, raw_key, value, site=file_site.child(kind, raw_key))
            for raw_key, value in (document.get(kind) or {}).items()
        ]
        registered[kind] = sorted(names)
    return registered


def _file_record(
    path: Path,
    package: str | None,
    imports: list[_Import],
    registered: dict[str, list[str]],
) -> dict[str, Any]:
    return {
        "path": str(path),
        "package": package,
        "imports": [str(edge.path) for edge in imports],
        "imports_detail": [
            {"path": str(edge.path), "package": edge.package} for edge in imports
        ],
        "registered": registered,
    }
