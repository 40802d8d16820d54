"""The registry of definitions and the rules for qualified names (spec C12–C18).

Three separate namespaces (option sets, packs, groups) map *qualified names* to
the definition and the place it was written.

Reference resolution deviates from upstream on purpose (spec quirk Q2). Upstream
qualifies a reference written in a packaged file only when it contains no dot,
so a local definition ``a.b`` in package ``p`` (registered as ``p.a.b``) cannot be
reached as ``a.b``. geryon qualifies **every** reference that does not start with
the name of a known package followed by a dot (or with ``/``): inside package
``p``, ``a.b`` means ``p.a.b`` unless ``a`` is itself a package. Known packages
are the packages of all import edges of the composition. A dotted name defined
in a file *without* a package is reached from a packaged file with ``/a.b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.compose.tree import preview
from geryon.errors import ConfigError, key_path

KINDS = ("option_sets", "packs", "groups")
KIND_WORDS = {"option_sets": "option set", "packs": "pack", "groups": "group"}


@dataclass(frozen=True)
class Site:
    """Where something is written: the file, the file's package and the key path."""

    file: Path
    package: str | None
    where: tuple[str | int, ...]

    def child(self, *parts: str | int) -> Site:
        return Site(self.file, self.package, (*self.where, *parts))

    def error(self, message: str, *, hint: str | None = None) -> ConfigError:
        return ConfigError(
            message, file=self.file, key_path=key_path(self.where), hint=hint
        )


@dataclass(frozen=True)
class Definition:
    """One entry of ``option_sets``, ``packs`` or ``groups`` of a loaded file."""

    kind: str
    name: str
    value: Any
    site: Site


@dataclass
class Registry:
    """Qualified name -> definition, one table per kind, plus the known packages."""

    tables: dict[str, dict[str, Definition]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    packages: set[str] = field(default_factory=set)

    def register(self, kind: str, raw_key: str, value: Any, *, site: Site) -> str:
        """Add one definition written at ``site``; return its qualified name (C14, C16)."""
        name = qualify(raw_key, site)
        table = self.tables[kind]
        first = table.get(name)
        if first is not None:
            raise site.error(
                f"Duplicate {KIND_WORDS[kind]} definition '{name}' in {site.file}; "
                f"first defined in {first.site.file} at {key_path(first.site.where)}",
                hint="Rename one of them, or import the file under another package",
            )
        table[name] = Definition(kind, name, value, site)
        return name

    def resolve(self, kind: str, ref: str, *, site: Site) -> Definition:
        """Find the definition a reference written at ``site`` names (C17, C18)."""
        name = self.qualified_ref(ref, site)
        found = self.tables[kind].get(name)
        if found is not None:
            return found
        word = KIND_WORDS[kind]
        written = ref.strip()
        how = (
            ""
            if written == name
            else f" (written '{written}' in package '{site.package}')"
        )
        known = self.names(kind)
        hint = (
            f"Known {word}s: {preview(known)}" if known else f"No {word}s are defined"
        )
        raise site.error(f"unknown {word} '{name}'{how}", hint=hint)

    def qualified_ref(self, ref: str, site: Site) -> str:
        text = ref.strip()
        if text.startswith("/"):
            return _global_name(text, site)
        if site.package is None or self._starts_with_package(text):
            return text
        return f"{site.package}.{text}"

    def _starts_with_package(self, text: str) -> bool:
        return any(text.startswith(f"{package}.") for package in self.packages)

    def names(self, kind: str) -> list[str]:
        return sorted(self.tables[kind])


def qualify(raw_key: str, site: Site) -> str:
    """Qualified name of a definition key written in a file with ``site.package`` (C14)."""
    text = raw_key.strip()
    if text.startswith("/"):
        return _global_name(text, site)
    return f"{site.package}.{text}" if site.package else text


def _global_name(text: str, site: Site) -> str:
    name = text[1:].strip()
    if not name:
        raise site.error(
            f"'{text}' names nothing",
            hint="Write a name after '/', e.g. '/common.seeds'",
        )
    return name
