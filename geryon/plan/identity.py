"""Config identity: tags, config id, W&B name and injection, run ids (spec I1–I11, I21–I24).

Run ids differ from upstream on purpose:

* Q20: the default id carries microseconds (``run_20260102T030405.123456Z``), so
  two plans started in the same second do not collide.
* Q21: an explicit ``--run-id`` must pass :func:`geryon.sanitize.is_safe_run_id`
  (letters, digits, ``_ . -``, no leading dot, no ``..``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from geryon import canonical, timefmt
from geryon.errors import ConfigError
from geryon.sanitize import is_safe_run_id, path_component, tag_for_name

WANDB_NAME_LIMIT = 128

# A plan repeats the same few tags in every config name.
_name_part = functools.lru_cache(maxsize=4096)(tag_for_name)


def config_tags(
    default_tags: Iterable[str], option_tags: Iterable[str | None]
) -> list[str]:
    """I1: the set union of default tags and option tags, sorted by code point."""
    tags = set(default_tags)
    tags.update(tag for tag in option_tags if tag is not None)
    return sorted(tags)


def config_id_of(params_json: str, tags_json: str) -> str:
    """I4 from the canonical JSON of merged params and of the tag list.

    Equal to ``canonical.sha1_hex({"params": params, "tags": tags})``; built from
    the two texts because the planner needs them anyway.
    """
    text = '{"params":' + params_json + ',"tags":' + tags_json + "}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def wandb_name(tags: list[str], config_id: str) -> str:
    """I8: sanitised tags joined by ``_`` (or ``exp``), ``_``, 8 id chars; ≤ 128 chars."""
    stem = "_".join(map(_name_part, tags)) if tags else "exp"
    return f"{stem}_{config_id[:8]}"[:WANDB_NAME_LIMIT]


def with_wandb(merged: dict[str, Any], name: str, tags: list[str]) -> dict[str, Any]:
    """I9: a new params mapping with ``wandb.name`` and ``wandb.tags`` set.

    ``merged`` itself is left untouched (it is shared with other configs); the
    caller has checked that ``merged["wandb"]`` is a mapping or absent.
    """
    params = dict(merged)
    params["wandb"] = {**(merged.get("wandb") or {}), "name": name, "tags": list(tags)}
    return params


def wandb_error(value: Any, *, file: str, selected: str) -> ConfigError:
    """I9: ``params.wandb`` is present but not a mapping."""
    return ConfigError(
        f"wandb must be a mapping when present, got {canonical.dumps(value)} "
        f"(selected options: {selected})",
        file=file,
        key_path="params.wandb",
        hint="Use wandb: {project: ...}; geryon sets wandb.name and wandb.tags",
    )


def default_run_id(run_set: str | None, moment: datetime | None = None) -> str:
    """I21 with sub-second precision (Q20)."""
    moment = moment or timefmt.utc_now()
    stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
    run_id = f"run_{stamp}"
    if run_set is not None:
        run_id += f"_{path_component(run_set)}"
    return run_id


def check_run_id(run_id: str) -> str:
    """Q21: an explicit run id becomes a directory name; reject anything unsafe."""
    if not is_safe_run_id(run_id):
        raise ConfigError(
            f"invalid run id {run_id!r}",
            key_path="--run-id",
            hint="Use letters, digits, '_', '.' and '-' (no leading dot, no '..', "
            "at most 200 characters)",
        )
    return run_id
