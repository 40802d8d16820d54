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
import operator
import re
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
_new_tuple = tuple.__new__
_text_of = operator.attrgetter("text")
# Hydra's ID token (what overrides.override_value leaves unquoted).
_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class TagText(NamedTuple):
    """A config's sorted tags (I1) and the texts made of them."""

    tags: list[str]
    json: str  # canonical JSON of the list
    stem: str  # the W&B name without its id suffix (I8)
    word: str  # shell-quoted ``++wandb.tags=[...]`` (I16)
    csv: str  # ``json`` as a field of manifest.csv (A6)


class TagRenderer:
    """:class:`TagText` of configs, joined from per-tag pieces rendered once.

    A plan repeats a few tags in every config, so each tag's canonical JSON, W&B
    name part and override list item are computed once; a config's texts are
    then a few joins. ``'`` is escaped per piece (``shlex.quote`` escapes each
    quote on its own), and ``[`` is never shell-safe, so the word is always
    single-quoted.
    """

    def __init__(self) -> None:
        self.pieces: dict[str, tuple[str, str, str, str]] = {}

    def piece(self, tag: str) -> tuple[str, str, str, str]:
        """JSON, W&B name part, quoted override list item and CSV-escaped JSON of
        one tag."""
        found = self.pieces.get(tag)
        if found is None:
            quoted_item = override_value(tag).replace("'", "'\"'\"'")
            json_text = canonical.dumps(tag)
            csv_text = json_text.replace('"', '""')
            found = (json_text, tag_for_name(tag), quoted_item, csv_text)
            self.pieces[tag] = found
        return found

    def text(self, tags: list[str]) -> TagText:
        """The texts of ``tags``, which must be sorted and unique."""
        parts = [self.piece(tag) for tag in tags]
        json_text = "[" + ",".join([part[0] for part in parts]) + "]"
        stem = "_".join([part[1] for part in parts]) if parts else "exp"
        word = "'++wandb.tags=[" + ",".join([part[2] for part in parts]) + "]'"
        # A6: the JSON of a non-empty list of strings holds '"', so it is quoted.
        csv = '"' + json_text.replace('"', '""') + '"' if parts else json_text
        return TagText(tags, json_text, stem, word, csv)


class TagBase:
    """Tags shared by consecutive configs, ready to take one more tag.

    Configs that differ only in the last pack share the tags of the other packs;
    the texts before and after each insertion point are joined once, so a
    config's texts are a few concatenations.
    """

    def __init__(self, renderer: TagRenderer, tags: list[str]) -> None:
        self.renderer = renderer
        self.tags = tags
        self.members = frozenset(tags)
        self.text = renderer.text(tags)
        self.splits: dict[int, tuple[str, ...]] = {}

    def plus(self, tag: str | None) -> TagText:
        """The texts of these tags and ``tag`` (I1: a set union)."""
        if tag is None or tag in self.members:
            return self.text
        tags = self.tags
        at = bisect.bisect_left(tags, tag)
        split = self.splits.get(at)
        if split is None:
            split = self.splits[at] = self._split(at)
        json_text, name_part, item, csv = self.renderer.piece(tag)
        # tuple.__new__ skips the named tuple's Python-level __new__ (0.1 µs).
        return _new_tuple(
            TagText,
            (
                [*tags[:at], tag, *tags[at:]],
                split[0] + json_text + split[1],
                split[2] + name_part + split[3],
                split[4] + item + split[5],
                split[6] + csv + split[7],
            ),
        )

    def _split(self, at: int) -> tuple[str, ...]:
        parts = [self.renderer.piece(tag) for tag in self.tags]
        before, after = parts[:at], parts[at:]
        return (
            "[" + "".join([part[0] + "," for part in before]),
            "".join(["," + part[0] for part in after]) + "]",
            "".join([part[1] + "_" for part in before]),
            "".join(["_" + part[1] for part in after]),
            "'++wandb.tags=[" + "".join([part[2] + "," for part in before]),
            "".join(["," + part[2] for part in after]) + "]'",
            '"[' + "".join([part[3] + "," for part in before]),
            "".join(["," + part[3] for part in after]) + ']"',
        )


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
        self.shape_cache: dict[tuple[Any, ...], tuple[Any, str, Group]] = {}
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
            names = sorted(value)
            # A merge copies a mapping whose children are mostly shared objects:
            # a copy with the same children has the same pieces.
            shape = (path, *[(key, id(value[key])) for key in names])
            known = self.shape_cache.get(shape)
            if known is not None:
                return known[1], known[2]
            children = [self.pieces(f"{path}.{key}", value[key]) for key in names]
            fragment = prefix + "{" + ",".join([child[0] for child in children]) + "}"
            group = self.group([word for child in children for word in child[1].words])
            if len(self.shape_cache) >= _PIECE_LIMIT:
                self.shape_cache.clear()
            # The entry keeps ``value`` alive, and so the children whose ids
            # make up ``shape``: no other object can take those ids meanwhile.
            self.shape_cache[shape] = (value, fragment, group)
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
        parts = list(map(fragments.__getitem__, keys))
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
        if present:
            parts[at] = '"wandb":' + wandb_json
        else:
            parts.insert(at, '"wandb":' + wandb_json)
        if _ID_RE.fullmatch(name):
            # One ID token, longer than true/false/null/inf/nan (ten or more
            # characters):
            # override_value leaves it bare, and its characters are shell-safe.
            name_word = "++wandb.name=" + name
        else:
            name_word = shlex.quote("++wandb.name=" + override_value(name))
        words: tuple[Word, ...] = ()
        if rest or not self.groups_in_order:
            # Word lists are only read when the W&B words are sorted in.
            words = (("wandb.name", name_word), ("wandb.tags", tag_text.word))
        if rest:
            wandb = self.group([*self.words_of("wandb", rest), *words])
            words, text = wandb.words, wandb.text
        else:
            text = name_word + " " + tag_text.word
        command = self.command(rendered.groups, keys, at, present, text, words)
        return "{" + ",".join(parts) + "}", command

    def command(
        self,
        groups: dict[str, Group],
        keys: list[str],
        at: int,
        present: bool,
        wandb_text: str,
        wandb_words: tuple[Word, ...],
    ) -> str:
        """I17: the base command and every override word in dotted-key order.

        ``keys`` are the sorted top-level keys; the W&B words (``wandb_text``
        joined) go at index ``at``, replacing the user's ``wandb`` key if
        ``present``.
        """
        if self.groups_in_order:
            texts = [self.base_command]
            texts += map(_text_of, map(groups.__getitem__, keys[:at]))
            texts.append(wandb_text)
            texts += map(_text_of, map(groups.__getitem__, keys[at + present :]))
            return " ".join(texts)
        words = [
            w for key, group in groups.items() if key != "wandb" for w in group.words
        ]
        words.extend(wandb_words)
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
