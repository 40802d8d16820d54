"""Hydra command-line overrides that reach the app exactly (spec §6.5, I12–I18, E15).

Every planned config's ``params`` become ``++key=value`` words on the planned command
line. Each word is built so that a Hydra 1.3 app sees the very same value (type and
content) whether or not it declares the key:

* ``++`` adds the key when the app does not declare it and overrides it when it does.
* Strings are never re-typed: a plain identifier such as ``adam`` is written bare,
  everything else is quoted in Hydra's grammar (``"1"``, ``"true"``, ``"a, b"``).
  This is our answer to **Upstream quirk (Q19)**, where strings were pasted raw.
* ``None`` is the Hydra null literal ``null``, not the string ``None``
  (**Upstream quirk (Q18)**).
* Floats are written in Python's shortest round-trip form, which Hydra's ``FLOAT``
  rule reads back to the same float, including ``inf``, ``-inf`` and ``nan``.
* OmegaConf treats ``${`` in any string as the start of an interpolation. A literal
  ``${`` is therefore written as OmegaConf's escape ``\\${``: an app reading
  ``cfg.key`` (or ``OmegaConf.to_container(cfg, resolve=True)``) gets the original
  text, while the unresolved container still shows the escape backslash.
* OmegaConf reads the exact string ``???`` as a missing value; it is written as
  ``${oc.decode:'???'}``, which resolves to the literal ``???``.
* An empty mapping is written as ``++key={}`` instead of vanishing from the command
  (a deliberate deviation from I12, so that it round-trips). Hydra *merges* a
  mapping into a declared one, so ``{}`` leaves a declared non-empty mapping as it
  is, which is the same meaning the params overlay has for nested keys.

Known limits, reported as :class:`~geryon.errors.ConfigError`: a params key must
match Hydra's key grammar (ASCII letters, digits, ``_``, ``-``, ``$``; not starting
with a digit or ``-``); a mapping *inside a list* can only have keys that Hydra's
dictionary grammar reads back as the same text (no quotes, ``#``, non-ASCII, and no
keys such as ``1`` or ``true`` that Hydra would turn into a number or a boolean);
strings cannot contain NUL or lone surrogates; and a whole command may not exceed
:data:`MAX_COMMAND_BYTES`.

Not an error but worth knowing: Hydra parses a list value in time quadratic in its
length (measured in-process with hydra-core 1.3.8: 1,000 items 0.3 s, 2,000 items
1.1 s, 20,000 items 137 s), so long lists belong in a file the program reads.

Hydra refuses ``++`` for the app's config *groups* ("force-add of config groups is
not supported"). Keys that select a group option are therefore listed in
``group_keys`` of :func:`render_command` and written as :func:`group_word`
(``optimizer=adam``, ``model/encoder=vit``).
Versions studied and tested: hydra-core 1.3.8, omegaconf 2.3.1.
"""

from __future__ import annotations

import os
import re
import reprlib
import shlex
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

# Only the standard library and geryon.errors: the batch wrapper loads this file on
# its own, without importing the planner (geryon/wrapper/launch.py).
from geryon.errors import ConfigError

__all__ = [
    "MAX_COMMAND_BYTES",
    "check_command_length",
    "flatten_params",
    "group_word",
    "hydra_run_dir_word",
    "override_value",
    "override_word",
    "render_command",
]

# A whole override key must be one ID, KEY_SPECIAL or DOT_PATH token of Hydra's
# override lexer (hydra/grammar/OverrideLexer.g4); segments of a dotted path may
# also be unsigned integers.
_NAME = r"[A-Za-z_$][A-Za-z0-9_$-]*"
_SEGMENT = rf"(?:{_NAME}|0|[1-9](?:_?[0-9])*)"
_KEY_RE = re.compile(rf"{_NAME}|{_SEGMENT}(?:\.{_SEGMENT})+")

# Absolute paths Hydra reads back unquoted: UNQUOTED_CHAR, ID, INT and FLOAT tokens.
_PLAIN_PATH_RE = re.compile(r"/[A-Za-z0-9_./-]*")

# A config group override key: IDs joined by "/" (packageOrGroup in the parser).
_GROUP_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")

# Strings safe to write unquoted: a single ID token that no typed rule claims first
# (BOOL, NULL and the FLOAT spellings inf/nan are listed before ID in the lexer).
_BARE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TYPED_WORD_RE = re.compile(r"true|false|null|inf|nan", re.IGNORECASE)

# Texts that a dictionary key made of one token would turn into a number, a
# boolean or null (INT, FLOAT, BOOL and NULL rules of the lexer).
_DIGITS = r"[0-9](?:_?[0-9])*"
_INT = r"0|[1-9](?:_?[0-9])*"
_POINT_FLOAT = rf"(?:{_INT})\.|(?:{_INT})?\.{_DIGITS}"
_EXP_FLOAT = rf"(?:{_INT}|{_POINT_FLOAT})[eE][+-]?{_DIGITS}"
_TYPED_KEY_RE = re.compile(
    rf"[+-]?(?:{_POINT_FLOAT}|{_EXP_FLOAT}|inf|nan|{_INT})|true|false|null",
    re.IGNORECASE,
)
# Characters a dictionary key may contain; the ones in _DICT_KEY_ESCAPED need a
# backslash (the lexer's ESC rule), the rest are ID, INT or UNQUOTED_CHAR text.
_DICT_KEY_RE = re.compile(r"[A-Za-z0-9_/+.$%*@?|\\()\[\]{}:=, \t-]+")
_DICT_KEY_ESCAPED_RE = re.compile(r"([\\()\[\]{}:=, \t])")

# OmegaConf reads `${` as an interpolation unless it is preceded by an odd number
# of backslashes; backslashes elsewhere are literal (verified with omegaconf 2.3.1).
_INTERPOLATION_RE = re.compile(r"(\\*)\$\{")

# Inside a Hydra quoted value only backslashes right before a quote or before the
# closing quote are escapes; _unescape_quoted_string in Hydra's visitor halves them.
_QUOTE_ESCAPE_RE = {
    '"': re.compile(r'(\\*)("|\Z)'),
    "'": re.compile(r"(\\*)('|\Z)"),
}

# Linux caps one exec argument at 32 pages (MAX_ARG_STRLEN, 131072 bytes with the
# terminating NUL; measured here with `bash -c`). The planned command becomes part of
# one `bash -lc` argument (E17), so 28 KiB stay free for the environment prefix (E16)
# and the hydra.run.dir override (E15).
MAX_COMMAND_BYTES = 100 * 1024

# OmegaConf reads the string "???" as "value missing" (reading it raises), and has no
# escape for it; its built-in oc.decode resolver yields the literal text instead.
_OMEGACONF_MISSING = "???"
_MISSING_AS_TEXT = "\"${oc.decode:'???'}\""

_LEAF_KINDS = frozenset({str, int, float, bool, type(None), list, dict})
_VALUE_KEYED = frozenset({str, int, bool, type(None)})
# Bounded so that unique values (one W&B name per config) cannot grow it without end.
_WORD_CACHE_MAX = 1 << 18
_word_cache: dict[tuple[str, type, Any], str] = {}


def flatten_params(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Flatten params to ``(dotted key, value)`` pairs sorted by code point (I12, I13).

    Only mappings are descended into; lists (also lists of mappings) are leaves. An
    empty mapping is kept as a ``{}`` leaf so that it reaches the app (deviation from
    I12, see the module docstring). Keys must be non-empty strings without ``.``
    (S10); anything else raises ConfigError.
    """
    pairs: list[tuple[str, Any]] = []
    _flatten_into(pairs, "", params)
    # Dotted keys are unique, so tuple order is key order and values are never compared.
    pairs.sort()
    return pairs


def _flatten_into(
    pairs: list[tuple[str, Any]], prefix: str, mapping: Mapping[Any, Any]
) -> None:
    for key, value in mapping.items():
        if type(key) is not str or "." in key or not key:
            _raise_bad_param_key(prefix, key)
        kind = type(value)
        # Exact type tests first: an ABC isinstance check costs about 0.3 µs.
        if kind is dict and value:
            _flatten_into(pairs, prefix + key + ".", value)
        elif kind in _LEAF_KINDS or not value or not isinstance(value, Mapping):
            pairs.append((prefix + key, value))
        else:
            _flatten_into(pairs, prefix + key + ".", value)


def _raise_bad_param_key(prefix: str, key: Any) -> None:
    raise ConfigError(
        f"parameter key {key!r} cannot be passed to Hydra: keys must be non-empty "
        "strings without '.'",
        key_path=prefix.rstrip(".") or None,
        hint="Write nested parameters as nested mappings.",
    )


def render_command(
    base_command: str,
    params: Mapping[str, Any],
    *,
    group_keys: AbstractSet[str] = frozenset(),
) -> str:
    """Return the planned command line (I17): the base command and the overrides.

    Each override is ``++key=value`` shell-quoted as one word (I15, I16); words are
    joined by single spaces in flattened key order (I13). Without overrides the base
    command is returned unchanged. Raises ConfigError for keys or values Hydra cannot
    receive exactly, and for a command longer than :data:`MAX_COMMAND_BYTES`.

    ``group_keys`` lists flattened keys that select an option of one of the app's
    config groups; they are written as :func:`group_word` (``model/encoder=vit``),
    because Hydra refuses ``++`` for config groups.

    Words are memoised per key and value because a plan repeats the same few values
    across a million configs. Strings, ints, bools and None are memo keys as they are;
    other values are keyed on their ``repr``, which for JSON data is exact where
    equality is not (``-0.0 == 0.0``, ``nan != nan``, ``[1] == [True]``).
    """
    words = [base_command]
    cache = _word_cache
    for key, value in flatten_params(params):
        if group_keys and key in group_keys:
            words.append(shlex.quote(group_word(key, value)))
            continue
        kind = type(value)
        memo_key = (key, kind, value if kind in _VALUE_KEYED else repr(value))
        word = cache.get(memo_key)
        if word is None:
            word = _remember_word(memo_key, key, value)
        words.append(word)
    command = " ".join(words)
    # A UTF-8 character takes at most 4 bytes: short commands skip the encoding.
    if len(command) * 4 > MAX_COMMAND_BYTES:
        check_command_length(command)
    return command


def check_command_length(command: str) -> None:
    """Raise ConfigError when ``command`` is longer than :data:`MAX_COMMAND_BYTES`.

    :func:`render_command` calls it; a planner that assembles commands from memoised
    words itself should call it too.
    """
    size = len(command.encode("utf-8", "surrogatepass"))
    if size <= MAX_COMMAND_BYTES:
        return
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes in a hand-written base command
        words = command.split()
    longest = max(words, key=len)
    raise ConfigError(
        f"the planned command is {size} bytes long (longest word: "
        f"{_preview(longest)}, {len(longest)} characters); commands run as a single "
        "'bash -c' argument, which Linux limits to 128 KiB including the environment "
        f"setup and the hydra.run.dir override, so geryon allows {MAX_COMMAND_BYTES}",
        hint="Shorten the parameter values, e.g. move long lists into a file the "
        "program reads.",
    )


def _remember_word(memo_key: tuple[str, type, Any], key: str, value: Any) -> str:
    word = shlex.quote(override_word(key, value))
    if len(_word_cache) >= _WORD_CACHE_MAX:
        _word_cache.clear()
    _word_cache[memo_key] = word
    return word


def override_word(key: str, value: Any) -> str:
    """Return ``++<key>=<value>`` in Hydra's override grammar, not yet shell-quoted.

    Raises ConfigError naming the key when the key is outside Hydra's key grammar or
    the value cannot be represented (see :func:`override_value`).
    """
    if not _KEY_RE.fullmatch(key):
        raise ConfigError(
            f"parameter key {key!r} cannot be passed to Hydra: Hydra keys are parts "
            "joined by '.', each made of ASCII letters, digits, '_', '-' and '$' and "
            "starting with a letter, '_' or '$' (parts after the first may also be "
            "plain numbers such as 0 or 12)",
            key_path=key,
            hint="Rename the parameter.",
        )
    try:
        return f"++{key}={override_value(value)}"
    except ConfigError as err:
        raise ConfigError(err.problem, key_path=key, hint=err.hint) from err


def group_word(key: str, value: Any) -> str:
    """Return ``<group>=<option>``, selecting an option of a config group of the app.

    The dotted params key names the group (``model.encoder`` → ``model/encoder``, the
    package Hydra places that group at by default) and the value is the option name.
    Hydra rejects ``++`` for config groups ("force-add of config groups is not
    supported", hydra-core 1.3.8), so this plain form is the one that works, for
    groups that the app's defaults list already contains. Not shell-quoted.
    """
    if not _GROUP_KEY_RE.fullmatch(key):
        raise ConfigError(
            f"config group key {key!r} cannot be passed to Hydra: group names are "
            "parts joined by '.', each an ASCII letter or '_' followed by letters, "
            "digits, '_' or '-'",
            key_path=key,
            hint="Rename the group key.",
        )
    if not isinstance(value, str):
        raise ConfigError(
            f"config group {key!r} is given {value!r}; a config group takes the name "
            "of one of its options",
            key_path=key,
            hint="Use the option name as a string.",
        )
    return f"{key.replace('.', '/')}={_string_value(value)}"


def override_value(value: Any) -> str:
    """Return the Hydra-grammar text that Hydra reads back as exactly ``value``.

    ``value`` is a JSON value: str, int, float (also inf/nan), bool, None, list or
    dict (with string keys). Anything else raises ConfigError.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string_value(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float_value(value)
    if isinstance(value, list):
        return "[" + ",".join(override_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return _mapping_value(value)
    raise ConfigError(
        f"value {reprlib.repr(value)} of type {type(value).__name__} has no JSON form "
        "and cannot be passed to Hydra",
        hint="Use a string, number, boolean, null, list or mapping.",
    )


def _float_value(value: float) -> str:
    # repr is the shortest text that round-trips, in a form Hydra's FLOAT rule reads:
    # 1.5, 1e-05, 1e+16, -0.0, inf, -inf, nan.
    return repr(float(value))


def _string_value(text: str) -> str:
    if _BARE_RE.fullmatch(text) and not _TYPED_WORD_RE.fullmatch(text):
        return text
    if text == _OMEGACONF_MISSING:
        return _MISSING_AS_TEXT
    _check_passable(text)
    if "${" in text:
        text = _INTERPOLATION_RE.sub(_escape_interpolation, text)
    quote = "'" if '"' in text and "'" not in text else '"'
    return quote + _QUOTE_ESCAPE_RE[quote].sub(_escape_before_quote, text) + quote


def _check_passable(text: str) -> None:
    # Command-line arguments are NUL-terminated byte strings: a NUL character or a
    # lone surrogate (no UTF-8 form) cannot reach the program at all.
    if "\x00" in text:
        problem = "contains a NUL character"
    else:
        try:
            text.encode("utf-8")
            return
        except UnicodeEncodeError:
            problem = "contains a lone surrogate code point (no UTF-8 form)"
    raise ConfigError(
        f"string {_preview(text)} {problem}, which cannot be passed on a command line",
        hint="Remove the character from the value.",
    )


def _preview(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _escape_interpolation(match: re.Match[str]) -> str:
    return match.group(1) * 2 + "\\${"


def _escape_before_quote(match: re.Match[str]) -> str:
    backslashes, quote = match.group(1), match.group(2)
    if quote:
        return backslashes * 2 + "\\" + quote
    return backslashes * 2


def _mapping_value(mapping: Mapping[Any, Any]) -> str:
    items = [
        f"{_dict_key(key)}:{override_value(item)}" for key, item in mapping.items()
    ]
    return "{" + ",".join(items) + "}"


def _dict_key(key: Any) -> str:
    if not isinstance(key, str) or not _DICT_KEY_RE.fullmatch(key):
        raise ConfigError(
            f"mapping key {key!r} inside a list cannot be written in Hydra's override "
            "grammar: such keys may only contain ASCII letters, digits, spaces and "
            "_ - / + . $ % * @ ? | \\ ( ) [ ] { } : = ,",
            hint="Rename the key, or move the mapping out of the list.",
        )
    if _TYPED_KEY_RE.fullmatch(key):
        raise ConfigError(
            f"mapping key {key!r} inside a list would reach the app as a number, "
            "boolean or null, not as text: Hydra types such keys and offers no quoting "
            "for them",
            hint="Rename the key, e.g. with a letter prefix.",
        )
    return _DICT_KEY_ESCAPED_RE.sub(r"\\\1", key)


def hydra_run_dir_word(path: str | os.PathLike[str]) -> str:
    """Return the shell-quoted override that sets ``hydra.run.dir`` to ``path`` (E15).

    An absolute path of ASCII letters, digits and ``_ . / -`` is written as is
    (``hydra.run.dir=/out/runs/r/exec/workdirs/...``, as upstream does); any other
    path is written as a quoted Hydra string, so spaces, quotes, ``,``, ``=``, ``~``,
    backslashes and non-ASCII characters reach Hydra unchanged. Callers pass an
    absolute path. A path containing ``${`` raises ConfigError: Hydra copies the
    resolved run directory into ``hydra.runtime.output_dir`` without escaping it and
    then fails resolving its own logging config (measured with hydra-core 1.3.8).
    """
    text = os.fspath(path)
    if "${" in text:
        raise ConfigError(
            f"the work directory {_preview(text)} contains '${{', which Hydra cannot "
            "use as its run directory (it reads it back as an interpolation)",
            hint="Choose an output directory (--out) whose path has no '${'.",
        )
    if _PLAIN_PATH_RE.fullmatch(text):
        # Unquoted, as upstream writes it: a non-Hydra program sees a plain path, and
        # Hydra joins the tokens of a multi-token value as text (an absolute path is
        # never one token, so "/1" or "/true" stay strings).
        return shlex.quote("hydra.run.dir=" + text)
    return shlex.quote("hydra.run.dir=" + _string_value(text))
