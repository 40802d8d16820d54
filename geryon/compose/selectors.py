"""Expanding ``select`` into the final list of packs (spec C19–C29, C22).

Groups come first, then packs, each in list order; every selector expands in
place, so the result is a depth-first, left-to-right flattening. References are
resolved in the package of the file where they are written: a group's entries in
the group's package, a pack definition in the definition's package, a selector's
own ``options_from`` in the selector's package.

Options are copied into the result (C28), so the composed packs share nothing with
the loaded definitions or with each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.compose.registry import Definition, Registry, Site
from geryon.compose.runsets import Located
from geryon.compose.tree import clone, cycle_chain
from geryon.errors import key_path


@dataclass
class ExpansionRecord:
    """What one expansion used, for the ``expansion`` diagnostics (C32)."""

    group_refs: list[dict[str, Any]] = field(default_factory=list)
    pack_refs: list[dict[str, Any]] = field(default_factory=list)
    option_sources: list[dict[str, Any]] = field(default_factory=list)
    inline_packs: int = 0

    def to_json(self, final_pack_count: int) -> dict[str, Any]:
        return {
            "group_refs": self.group_refs,
            "pack_refs": self.pack_refs,
            "option_sources": self.option_sources,
            "inline_packs": self.inline_packs,
            "final_pack_count": final_pack_count,
        }


class Expander:
    """Turns selectors into concrete packs ``{name, options[, priority]}`` (C31)."""

    def __init__(self, registry: Registry, record: ExpansionRecord) -> None:
        self.registry = registry
        self.record = record

    def expand_select(
        self, select: dict[str, Any] | None, root: Path
    ) -> list[dict[str, Any]]:
        """C22: every ``select.groups`` item first, then every ``select.packs`` item."""
        select = select or {}
        packs: list[dict[str, Any]] = []
        for item in select.get("groups") or []:
            packs.extend(self._group(item.value, _root_site(root, item), ()))
        for item in select.get("packs") or []:
            packs.extend(self.selector(item.value, _root_site(root, item), ()))
        return packs

    def selector(
        self, selector: dict[str, Any], site: Site, groups: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """C23: the kind is decided by the keys ``group``, then ``ref``."""
        if "group" in selector:
            return self._group(selector["group"], site.child("group"), groups)
        if "ref" in selector:
            return [self._pack_ref(selector, site)]
        self.record.inline_packs += 1
        return [self._inline(selector, site)]

    def _group(
        self, ref: str, site: Site, groups: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """C24: entries expand with the group's own package and file."""
        group = self.registry.resolve("groups", ref, site=site)
        if group.name in groups:
            raise site.error(
                "Group include cycle detected:\n" + cycle_chain([*groups, group.name]),
                hint="Remove one of the group references of the cycle",
            )
        self.record.group_refs.append(_use(group, site))
        inner = (*groups, group.name)
        packs: list[dict[str, Any]] = []
        for index, entry in enumerate(group.value):
            packs.extend(self.selector(entry, group.site.child(index), inner))
        return packs

    def _inline(self, spec: dict[str, Any], site: Site) -> dict[str, Any]:
        """C25: a pack written out (also the shape of a pack definition)."""
        name = spec["name"].strip()
        options = self._collect(spec, site)
        if not options:
            raise site.error(
                f"pack '{name}' resolved to zero options",
                hint="Add options, or check the include_ids/exclude_ids of its options_from",
            )
        return _pack(name, options, spec.get("priority", 0))

    def _pack_ref(self, selector: dict[str, Any], site: Site) -> dict[str, Any]:
        """C26, steps in the spec's order."""
        definition = self.registry.resolve(
            "packs", selector["ref"], site=site.child("ref")
        )
        base = self._inline(definition.value, definition.site)
        name = selector["name"].strip() if "name" in selector else base["name"]
        replace = selector.get("replace_options", False)
        options = [] if replace else base["options"]
        priority = selector.get("priority", base.get("priority", 0))
        options = options + self._collect(selector, site)
        include, exclude = _filter_lists(selector.get("filter") or {})
        before = len(options)
        options = apply_filter(options, include, exclude)
        if not options:
            raise site.error(
                f"selector for '{definition.name}' removed all options",
                hint="Check replace_options, options and the filter of this selector",
            )
        self.record.pack_refs.append(
            {
                **_use(definition, site),
                "name": name,
                "replace_options": replace,
                "before": before,
                "after": len(options),
                "filter": {"include_ids": include, "exclude_ids": exclude},
            }
        )
        return _pack(name, options, priority)

    def _collect(self, spec: dict[str, Any], site: Site) -> list[dict[str, Any]]:
        options: list[dict[str, Any]] = []
        for index, source in enumerate(spec.get("options_from") or []):
            options.extend(self._source(source, site.child("options_from", index)))
        options.extend(clone(option) for option in spec.get("options") or [])
        return options

    def _source(self, source: dict[str, Any], site: Site) -> list[dict[str, Any]]:
        """C28: an option set's options, filtered, copied."""
        option_set = self.registry.resolve(
            "option_sets", source["ref"], site=site.child("ref")
        )
        include, exclude = _filter_lists(source)
        kept = apply_filter(option_set.value, include, exclude)
        self.record.option_sources.append(
            {
                **_use(option_set, site),
                "before": len(option_set.value),
                "after": len(kept),
                "filter": {"include_ids": include, "exclude_ids": exclude},
            }
        )
        return [clone(option) for option in kept]


def apply_filter(
    options: list[dict[str, Any]], include: list[str], exclude: list[str]
) -> list[dict[str, Any]]:
    """C29: keep ``include`` (when non-empty), then drop ``exclude``; order is kept.

    Ids are compared as written; the planner trims option ids later (P7).
    """
    kept = options
    if include:
        wanted = set(include)
        kept = [option for option in kept if _option_id(option) in wanted]
    if exclude:
        unwanted = set(exclude)
        kept = [option for option in kept if _option_id(option) not in unwanted]
    return kept


def _option_id(option: dict[str, Any]) -> str | None:
    value = option.get("id")
    return None if value is None else str(value)


def _filter_lists(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    return _ids(spec.get("include_ids")), _ids(spec.get("exclude_ids"))


def _ids(items: list[str] | None) -> list[str]:
    """Trimmed ids, blanks and repeats dropped, first occurrence order kept."""
    seen: dict[str, None] = {}
    for item in items or []:
        text = item.strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _pack(name: str, options: list[dict[str, Any]], priority: int) -> dict[str, Any]:
    pack: dict[str, Any] = {"name": name, "options": options}
    if priority:
        pack["priority"] = priority
    return pack


def _use(definition: Definition, site: Site) -> dict[str, Any]:
    return {
        "ref": definition.name,
        "requested_from": str(site.file),
        "key_path": key_path(site.where),
    }


def _root_site(root: Path, item: Located) -> Site:
    return Site(root, None, item.where)
