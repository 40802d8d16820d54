"""Canonical params JSON and planned command lines, built incrementally.

A config's params JSON (Appendix A) and its command (I12–I17, rendered by
:mod:`geryon.plan.overrides`) are both made of independent pieces per
top-level parameter key: the ``"key":value`` JSON fragment, and the override
words of the leaves below that key. Merging an option only changes the top-level
keys its ``params`` names, so the planner keeps the pieces of each cached merge
state and re-renders only the touched keys; a mapping that a merge copied is
assembled from the cached pieces of its children. A config then costs a sort
of its top-level keys and a few joins instead of a full flatten, render and two
JSON encodings (profiled: those were half of the planning time).

The words are exactly those of :func:`overrides.render_command`: leaves are those
of :func:`overrides.flatten_params` (descend into non-empty mappings only), each
word is ``shlex.quote`` of :func:`overrides.override_word` (of
:func:`overrides.group_word` for the keys of ``command.config_groups``, as
``render_command``'s ``group_keys``), and words are ordered by dotted key.
``tests/plan/test_render_property.py`` checks the equivalence on generated
params, and the JSON against :func:`geryon.canonical.dumps`.
"""

from __future__ import annotations

import bisect
import shlex
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

from geryon import canonical
from geryon.plan.overrides import (
    flatten_params,
    group_word,
    override_value,
    override_word,
)
from geryon.sanitize import tag_for_name

_MEMO_LIMIT = 1 << 18
# Cached pieces hold merged sub-trees; bounded lower to keep peak memory small.
_PIECE_LIMIT = 1 << 16
Word = tuple[str, str]  # (dotted key, shell word)


class Group(NamedTuple):
    """The override words of the leaves under one top-level key, sorted by key."""

    words: tuple[Word, ...]
    text: str  # the words joined by spaces


class Rendered(NamedTuple):
    """Pieces of one merge state's params, per top-level key (one per config)."""

    fragments: dict[str, str]
    groups: dict[str, Group]


EMPTY = Rendered({}, {})


class TagText(NamedTuple):
    """A config's sorted tags (I1) and the texts made of them."""

    tags: list[str]
    json: str  # canonical JSON of the list
    stem: str  # the W&B name without its id suffix (I8)
    word: str  # shell-quoted ``++wandb.tags=[...]`` (I16)


class TagRenderer:
    """:class:`TagText` of configs, joined from per-tag pieces rendered once.

    A plan repeats a few tags in every config, so each tag's canonical JSON, W&B
    name part and override list item are computed once; a config's texts are
    then three joins. ``'`` is escaped per piece (``shlex.quote`` escapes each
    quote on its own), and ``[`` is never shell-safe, so the word is always
    single-quoted.
    """

    def __init__(self) -> None:
        self.pieces: dict[str, tuple[str, str, str]] = {}

    def text(self, tags: list[str]) -> TagText:
        """The texts of ``tags``, which must be sorted and unique."""
        pieces = self.pieces
        try:
            parts = [pieces[tag] for tag in tags]
        except KeyError:
            for tag in tags:
                if tag not in pieces:
                    pieces[tag] = _tag_pieces(tag)
            parts = [pieces[tag] for tag in tags]
        json_text = "[" + ",".join([part[0] for part in parts]) + "]"
        stem = "_".join([part[1] for part in parts]) if parts else "exp"
        word = "'++wandb.tags=[" + ",".join([part[2] for part in parts]) + "]'"
        return TagText(tags, json_text, stem, word)


EMPTY_TAGS = TagText([], "[]", "exp", "'++wandb.tags=[]'")


def _tag_pieces(tag: str) -> tuple[str, str, str]:
    quoted_item = override_value(tag).replace("'", "'\"'\"'")
    return canonical.dumps(tag), tag_for_name(tag), quoted_item


class Renderer:
    """Builds :class:`Rendered` pieces and assembles configs from them.

    ``top_keys`` are all top-level keys params can have (defaults, options and
    ``wandb``). Words ordered by dotted key (I13) are the groups in top-level key
    order unless a key is a prefix of another one followed by a character that
    sorts before ``.`` (``a`` and ``a-b``); only then is every config's word list
    sorted as a whole.
    """

    def __init__(
        self,
        base_command: str,
        top_keys: Iterable[str] = (),
        group_keys: AbstractSet[str] = frozenset(),
    ) -> None:
        self.base_command = base_command
        self.group_keys = group_keys
        self.memo: dict[tuple[str, type, Any], str] = {}
        self.key_json: dict[str, str] = {}
        self.piece_cache: dict[tuple[str, int], tuple[Any, str, Group]] = {}
        self.groups_in_order = _groups_follow_key_order({*top_keys, "wandb"})

    def update(
        self, parent: Rendered, params: dict[str, Any], touched: Iterable[str]
    ) -> Rendered:
        """Pieces of ``params``, re-rendering only the ``touched`` top-level keys."""
        fragments = dict(parent.fragments)
        groups = dict(parent.groups)
        for key in touched:
            if key in params:
                fragments[key], groups[key] = self.pieces(key, params[key])
            else:
                fragments.pop(key, None)
                groups.pop(key, None)
        return Rendered(fragments, groups)

    def pieces(self, path: str, value: Any) -> tuple[str, Group]:
        """Fragment and words of the value at dotted ``path``, cached per object.

        Merged params share option sub-trees (see :mod:`.merge`), so the same
        objects come back for many configs; a mapping that is new (a merge
        copied it) is assembled from its children's cached pieces. The cache
        keeps each object alive, so its ``id`` cannot be reused while cached.
        """
        cached = self.piece_cache.get((path, id(value)))
        if cached is not None and cached[0] is value:
            return cached[1], cached[2]
        prefix = self.key_json.get(path)
        if prefix is None:
            last = path.rpartition(".")[2]  # keys hold no dots (S10)
            prefix = self.key_json[path] = canonical.dumps(last) + ":"
        if value.__class__ is dict and value and "" not in value:
            # flatten_params descends into non-empty mappings only (I12).
            children = [
                self.pieces(f"{path}.{key}", value[key]) for key in sorted(value)
            ]
            fragment = prefix + "{" + ",".join([child[0] for child in children]) + "}"
            group = self.group([word for child in children for word in child[1].words])
        else:
            fragment = prefix + canonical.dumps(value)
            group = self.group(self.words_of(path, value))
        if len(self.piece_cache) >= _PIECE_LIMIT:
            self.piece_cache.clear()
        self.piece_cache[(path, id(value))] = (value, fragment, group)
        return fragment, group

    @staticmethod
    def group(words: Iterable[Word]) -> Group:
        ordered = tuple(sorted(words))
        return Group(ordered, " ".join([word for _, word in ordered]))

    def words_of(self, path: str, value: Any) -> tuple[Word, ...]:
        """The override words of the leaves under dotted ``path``."""
        if path and (not isinstance(value, dict) or not value):
            leaves = [(path, value)]  # what flatten_params gives for a leaf
        else:
            parent, _, last = path.rpartition(".")
            base = f"{parent}." if parent else ""
            leaves = [(base + k, v) for k, v in flatten_params({last: value})]
        return tuple([(dotted, self.word(dotted, leaf)) for dotted, leaf in leaves])

    def word(self, dotted: str, leaf: Any) -> str:
        """``shlex.quote(override_word(...))``, memoised per key and JSON value;
        keys of config groups get :func:`overrides.group_word` instead."""
        memo_key = _memo_key(dotted, leaf)
        word = self.memo.get(memo_key)
        if word is None:
            if dotted in self.group_keys:
                word = shlex.quote(group_word(dotted, leaf))
            else:
                word = shlex.quote(override_word(dotted, leaf))
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[memo_key] = word
        return word

    def params_json(self, rendered: Rendered) -> tuple[str, list[str], list[str]]:
        """Canonical JSON of the merged params, their sorted top-level keys and
        the JSON fragments in that order."""
        fragments = rendered.fragments
        keys = sorted(fragments)
        parts = [fragments[key] for key in keys]
        return "{" + ",".join(parts) + "}", keys, parts

    def config_text(
        self,
        rendered: Rendered,
        keys: list[str],
        parts: list[str],
        user_wandb: dict[str, Any],
        name: str,
        tag_text: TagText,
    ) -> tuple[str, str]:
        """Params JSON and command of a config: ``rendered`` with W&B keys injected.

        ``user_wandb`` is the merged ``wandb`` mapping (I9 keeps its other keys).
        The W&B name only holds ``[A-Za-z0-9_.-]`` (I7, I8), so it needs no JSON
        escaping, and its word needs shell quotes only if Hydra's grammar does.
        ``keys`` and ``parts`` come from :meth:`params_json`; ``parts`` is reused.
        """
        rest = (
            {k: v for k, v in user_wandb.items() if k != "name" and k != "tags"}
            if user_wandb
            else None
        )
        if rest:
            wandb_json = canonical.dumps({**rest, "name": name, "tags": tag_text.tags})
        else:
            wandb_json = '{"name":"' + name + '","tags":' + tag_text.json + "}"
        at = bisect.bisect_left(keys, "wandb")
        present = at < len(keys) and keys[at] == "wandb"
        parts[at : at + present] = ['"wandb":' + wandb_json]
        value = override_value(name)
        name_word = "++wandb.name=" + value
        if value != name:
            name_word = shlex.quote(name_word)
        if rest:
            words = [*self.words_of("wandb", rest), ("wandb.name", name_word)]
            words.append(("wandb.tags", tag_text.word))
            wandb = self.group(words)
        else:
            wandb = Group(
                (("wandb.name", name_word), ("wandb.tags", tag_text.word)),
                name_word + " " + tag_text.word,
            )
        command = self.command(rendered.groups, keys, at, present, wandb)
        return "{" + ",".join(parts) + "}", command

    def command(
        self,
        groups: dict[str, Group],
        keys: list[str],
        at: int,
        present: bool,
        wandb: Group,
    ) -> str:
        """I17: the base command and every override word in dotted-key order.

        ``keys`` are the sorted top-level keys; the W&B group goes at index ``at``
        (replacing the user's ``wandb`` key if ``present``).
        """
        if self.groups_in_order:
            texts = [self.base_command]
            texts += [groups[k].text for k in keys[:at]]
            texts.append(wandb.text)
            texts += [groups[k].text for k in keys[at + present :]]
            return " ".join(texts)
        words = [
            w for key, group in groups.items() if key != "wandb" for w in group.words
        ]
        words.extend(wandb.words)
        words.sort()
        return " ".join([self.base_command, *[word for _, word in words]])


def _groups_follow_key_order(keys: set[str]) -> bool:
    """False when a key is a prefix of another, followed by a character below ``.``.

    Then ``a-b`` sorts between ``a`` and ``a.x``, so group order is not key order.
    """
    return not any(
        other != key and other.startswith(key) and other[len(key)] < "."
        for key in keys
        for other in keys
    )


def _memo_key(dotted: str, leaf: Any) -> tuple[str, type, Any]:
    """Equal exactly when the JSON values are equal (``1``, ``1.0``, ``true`` differ)."""
    kind = leaf.__class__
    if kind is str or kind is int or kind is bool or leaf is None:
        return (dotted, kind, leaf)
    if kind is float:
        return (dotted, kind, repr(leaf))
    return (dotted, kind, canonical.dumps(leaf))
