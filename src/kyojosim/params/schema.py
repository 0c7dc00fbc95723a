"""Typed, immutable parameter records built from plain mappings, with clear errors.

Each section of a scenario (and of an experiment file) is a frozen dataclass whose fields
are declared with :func:`param`: the default, the allowed range or choices, the unit, the
source of the default and, for an assumption, the range of values that are plausible and why.
:func:`build` turns a mapping (from YAML) into such a record, checking every key and value
and raising :class:`~kyojosim.errors.ScenarioError` (or the error class of the
:class:`Context`) with the file, the key path, the value given and what is allowed.

Two ranges are distinct: ``lo``/``hi`` bound what the model accepts (a value outside is an
error), while ``plausible`` (or ``plausible_factor`` for lists and mappings) is what the
evidence allows for an ``assumption:`` parameter: the range an uncertainty analysis varies it
over (:func:`kyojosim.params.scenario.assumption_register`).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

from ..errors import ScenarioError, Summary
from .yaml_input import MAX_TEXT_LENGTH


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """Return the resolved type hints of a parameter class (:func:`typing.get_type_hints`), once per class.

    Resolving them evaluates every annotation (the module uses postponed annotations), which took a
    fifth of the time of reading a scenario; they never change, so each class is resolved once. The
    mapping returned is shared: do not change it.
    """
    return typing.get_type_hints(cls)

SHARE_TOLERANCE = 0.005
"""Shares must sum to 1 within this tolerance (published tables are rounded)."""


def param(
    default: Any = dataclasses.MISSING,
    *,
    source: str,
    doc: str = "",
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    length: int | None = None,
    sums_to_one: bool = False,
    keys: tuple[str, ...] | None = None,
    key_choices: tuple[str, ...] | None = None,
    unit: str = "",
    plausible: tuple[float, float] | None = None,
    plausible_factor: tuple[float, float] | None = None,
    basis: str = "",
    range_note: str = "",
    refine: Callable[[Any, Context], Any] | None = None,
    form: str = "",
) -> Any:
    """Declare a scenario parameter.

    Args:
        default: The default value (omit for a required key). A dataclass type means
            "an instance built from its own defaults".
        source: Where the default comes from: a white-paper figure, a census or IPSS
            table, or ``"assumption: <reason>"``.
        doc: What the parameter means.
        lo: Smallest allowed value (each element, for sequences and mappings).
        hi: Largest allowed value.
        lo_open: Whether ``lo`` itself is excluded.
        hi_open: Whether ``hi`` itself is excluded.
        length: Required length of a sequence.
        sums_to_one: Whether the numbers of a sequence or mapping are shares.
        keys: The exact keys a mapping must have.
        key_choices: The keys a mapping may have (any of them, none required).
        unit: Unit of the value, for documentation.
        plausible: For an ``assumption:`` number, the ``(low, high)`` range of values the
            evidence allows (within ``lo``/``hi``, containing the default).
        plausible_factor: For an ``assumption:`` list or mapping, the ``(low, high)`` range of a
            factor applied to every element (containing 1).
        basis: One line on what bounds the plausible range (evidence or reasoning).
        range_note: Why ``lo``/``hi`` are what they are, added to the error for a value outside.
        refine: A function ``(value, ctx) -> value`` run after the type and range checks, to
            check what the type cannot say (and normalise the value); it raises ``ctx.error``.
        form: How the value is written, for the error of a value of the wrong type or a missing
            key (default: said from the type, e.g. "a mapping of numbers").

    Returns:
        A dataclass field carrying the metadata.
    """
    meta = {
        "source": source,
        "doc": doc,
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "hi_open": hi_open,
        "length": length,
        "sums_to_one": sums_to_one,
        "keys": keys,
        "key_choices": key_choices,
        "unit": unit,
        "plausible": plausible,
        "plausible_factor": plausible_factor,
        "basis": basis,
        "range_note": range_note,
        "refine": refine,
        "form": form,
    }
    if isinstance(default, type) and dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=default, metadata=meta)
    if isinstance(default, dict):
        frozen = dict(default)
        return dataclasses.field(default_factory=lambda: dict(frozen), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Context:
    """Where a value being checked comes from: the file and the key path.

    Args:
        file: The file (or ``"--set"``, ``"<overrides>"``...) named in errors.
        path: The dotted key path of the value.
        error_class: The :class:`ScenarioError` subclass raised for a problem here.
    """

    def __init__(self, file: str | None, path: str = "", error_class: type[ScenarioError] = ScenarioError):
        self.file = file
        self.path = path
        self.error_class = error_class

    def child(self, key: str | int) -> Context:
        """Return the context of a key below this one."""
        if isinstance(key, int):
            return Context(self.file, f"{self.path}[{key}]", self.error_class)
        return Context(self.file, f"{self.path}.{key}" if self.path else str(key), self.error_class)

    def error(self, given: object, allowed: str, problem: str = "invalid value") -> ScenarioError:
        """Make the error for this place."""
        return self.error_class(self.file, self.path, given, allowed, problem)


def suggest(key: str, valid: list[str]) -> str:
    """Describe the valid keys: the closest one to ``key`` when there is one, else all of them.

    A long list (a section of more than ``_LIST_KEYS`` keys) is left out when a close key is found, so that the
    message stays one readable line; the parameter table of docs/ODD.md (§7.17) lists every key.
    """
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    listing = ", ".join(valid)
    if close and len(valid) > _LIST_KEYS:
        return f"did you mean '{close[0]}'? (one of {len(valid)} valid keys: the parameter table of docs/ODD.md §7.17)"
    if close:
        return f"did you mean '{close[0]}'? valid keys: {listing}"
    return f"valid keys: {listing}"


_LIST_KEYS = 16
"""Up to this many valid keys, an unknown key's message lists them all even when it names a close one."""


_PLURAL = {"a number": "numbers", "an integer": "integers", "a text": "texts", "a mapping": "mappings",
           "true or false": "true or false values", "any value": "values"}


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is Any:
        return "any value"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (tuple,):
        inner = _type_name(get_args(tp)[0])
        return f"a list of {_PLURAL.get(inner, inner)}"
    if origin in (dict,):
        inner = _type_name(get_args(tp)[1])
        return f"a mapping of {_PLURAL.get(inner, inner)}"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is str:
        return "a text"
    if tp is bool:
        return "true or false"
    return getattr(tp, "__name__", str(tp))


def _range_text(meta: Mapping[str, Any], noun: str = "a value") -> str:
    lo, hi = meta.get("lo"), meta.get("hi")
    left = "(" if meta.get("lo_open") else "["
    right = ")" if meta.get("hi_open") else "]"
    note = f" ({meta['range_note']})" if meta.get("range_note") else ""
    if lo is not None and hi is not None:
        if lo == hi and not (meta.get("lo_open") or meta.get("hi_open")):
            return f"allowed: only {lo}{note}"
        return f"allowed: {noun} in {left}{lo}, {hi}{right}{note}"
    if lo is not None:
        return f"allowed: {noun} {'>' if meta.get('lo_open') else '>='} {lo}{note}"
    if hi is not None:
        return f"allowed: {noun} {'<' if meta.get('hi_open') else '<='} {hi}{note}"
    return "allowed: any value"


def _check_range(value: float, meta: Mapping[str, Any], ctx: Context) -> None:
    noun = "an integer" if isinstance(value, int) else "a value"
    lo, hi = meta.get("lo"), meta.get("hi")
    bad = False
    if lo is not None and (value < lo or (meta.get("lo_open") and value == lo)):
        bad = True
    if hi is not None and (value > hi or (meta.get("hi_open") and value == hi)):
        bad = True
    if bad:
        raise ctx.error(value, _range_text(meta, noun), "out of range")


def unwrap_optional(tp: Any) -> tuple[bool, Any]:
    """Return ``(optional, type)``: whether ``tp`` is ``X | None``, and ``X``."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def convert(value: Any, tp: Any, meta: Mapping[str, Any], ctx: Context) -> Any:
    """Check ``value`` against the type ``tp`` and the field metadata; return it typed.

    After the checks of the type, a field's ``refine`` function (see :func:`param`) gets the
    typed value and returns it, possibly normalised.
    """
    value = _convert(value, tp, meta, ctx)
    refine = meta.get("refine")
    return refine(value, ctx) if refine is not None and value is not None else value


def _convert(value: Any, tp: Any, meta: Mapping[str, Any], ctx: Context) -> Any:
    optional, inner = unwrap_optional(tp)
    if optional:
        if value is None:
            return None
        tp = inner
    if tp is Any:
        return value
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, ctx)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices or isinstance(value, bool) != isinstance(choices[0], bool):
            raise ctx.error(value, "allowed: " + ", ".join(repr(c) for c in choices))
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ctx.error(value, "allowed: true or false", "wrong type")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ctx.error(value, "allowed: an integer", "wrong type")
        _check_range(value, meta, ctx)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ctx.error(value, "allowed: a number", "wrong type")
        if not math.isfinite(value):
            raise ctx.error(value, "allowed: a finite number", "not finite")
        value = float(value)
        _check_range(value, meta, ctx)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ctx.error(value, "allowed: a text", "wrong type")
        if len(value) > MAX_TEXT_LENGTH:
            raise ctx.error(Summary(f"a text of {len(value):,} characters"),
                            f"allowed: at most {MAX_TEXT_LENGTH:,} characters", "text too long")
        return value
    if origin is tuple:
        (elem_tp, *_rest) = get_args(tp)
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise ctx.error(value, f"allowed: {meta.get('form') or _type_name(tp)}", "wrong type")
        length = meta.get("length")
        if length is not None and len(value) != length:
            raise ctx.error(value, f"allowed: a list of exactly {length} values (got {len(value)})", "wrong length")
        elem_meta = {**meta, "refine": None, "form": ""}
        out = tuple(_convert(v, elem_tp, elem_meta, ctx.child(i)) for i, v in enumerate(value))
        if meta.get("sums_to_one"):
            check_shares(out, ctx)
        return out
    if origin is dict:
        key_tp, val_tp = get_args(tp)
        if not isinstance(value, Mapping):
            raise ctx.error(value, f"allowed: {meta.get('form') or _type_name(tp)}", "wrong type")
        keys = meta.get("keys")
        choices = meta.get("key_choices")
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if key_tp is int:
                if isinstance(k, str) and k.strip().lstrip("-").isdigit():
                    k = int(k)  # keys of overrides and of JSON copies arrive as text
                if isinstance(k, bool) or not isinstance(k, int):
                    raise ctx.child(str(k)).error(k, "allowed: an integer key", "wrong key type")
            elif not isinstance(k, str):
                raise ctx.child(str(k)).error(k, "allowed: a text key", "wrong key type")
            for valid in (keys, choices):
                if valid is not None and k not in valid:
                    raise ctx.child(str(k)).error(k, suggest(str(k), list(valid)), "unknown key")
            out[k] = _convert(v, val_tp, {**meta, "sums_to_one": False, "keys": None, "key_choices": None,
                                          "refine": None, "form": ""}, ctx.child(str(k)))
        if keys is not None:
            missing = [k for k in keys if k not in out]
            if missing:
                raise ctx.error(sorted(out), f"missing keys: {', '.join(missing)}", "missing key")
        if meta.get("sums_to_one"):
            check_shares(tuple(out.values()), ctx)
        return out
    raise TypeError(f"unsupported schema type {tp!r} at {ctx.path}")  # pragma: no cover - schema bug


def check_shares(values: tuple[float, ...], ctx: Context) -> None:
    """Raise the error of ``ctx`` unless ``values`` sum to 1 within :data:`SHARE_TOLERANCE`."""
    total = float(sum(values))
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ctx.error(
            list(values),
            f"allowed: shares that sum to 1 (within {SHARE_TOLERANCE}); these sum to {total:.4f}",
            "shares do not sum to 1",
        )


def build(cls: type, data: Any, ctx: Context) -> Any:
    """Build the frozen dataclass ``cls`` from a mapping, checking every key and value.

    A record type may define a class method ``shorthand(data, ctx)`` that turns a short form
    (a bare value instead of a mapping) into the mapping, and a method ``check(ctx)`` that checks
    what involves several keys; both are called here.

    Args:
        cls: A dataclass type declared with :func:`param` fields.
        data: The mapping read from YAML (``None`` means all defaults).
        ctx: Where the mapping comes from.

    Returns:
        An instance of ``cls``.

    Raises:
        ScenarioError: On an unknown or missing key, a wrong type, a value out of range
            or shares that do not sum to 1.
    """
    shorthand = getattr(cls, "shorthand", None)
    if shorthand is not None:
        data = shorthand(data, ctx)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ctx.error(data, "allowed: a mapping of keys to values", "wrong type")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = type_hints(cls)
    for key in data:
        if key not in fields:
            raise ctx.child(str(key)).error(key, suggest(str(key), list(fields)), "unknown key")
    values = {}
    for name, f in fields.items():
        if name in data:
            given = data[name]
            if f.metadata.get("keys") and isinstance(given, Mapping) and f.default_factory is not dataclasses.MISSING:
                # a mapping with fixed keys and a default: the keys given replace the defaults' values
                given = {**f.default_factory(), **given}
            values[name] = convert(given, hints[name], f.metadata, ctx.child(name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            what = f.metadata.get("form") or _type_name(hints[name])
            raise ctx.child(name).error(None, f"a value is required ({what})", "missing key")
        else:
            # defaults go through the same checks and conversions as given values (an int 0 in a list of
            # numbers becomes 0.0), so a scenario is the same record, with the same digest, whether a value
            # was left to its default or written out
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if dataclasses.is_dataclass(default) and not isinstance(default, type):
                values[name] = build(type(default), None, ctx.child(name))
            else:
                values[name] = convert(default, hints[name], f.metadata, ctx.child(name))
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(ctx)
    return obj


def to_plain(obj: Any) -> Any:
    """Turn a record into plain dicts, lists and scalars (for YAML, JSON and hashing)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [to_plain(v) for v in obj]
    return obj


def resolve_path(cls: type, path: str, ctx_file: str) -> None:
    """Check that a dotted key path names a parameter of ``cls``.

    Args:
        cls: The root record type.
        path: Dotted path such as ``"simulation.seed"`` or ``"municipality.districts.0.name"``.
        ctx_file: What to name as the file in an error (e.g. ``"--set"``).

    Raises:
        ScenarioError: If a segment is not a valid key.
    """
    tp: Any = cls
    walked: list[str] = []
    for seg in path.split("."):
        _, tp = unwrap_optional(tp)
        origin = get_origin(tp)
        if dataclasses.is_dataclass(tp):
            names = [f.name for f in dataclasses.fields(tp)]
            if seg not in names:
                where = ".".join([*walked, seg])
                raise ScenarioError(ctx_file, where, seg, suggest(seg, names), "unknown key")
            tp = type_hints(tp)[seg]
        elif origin is tuple:
            if not seg.isdigit():
                where = ".".join([*walked, seg])
                raise ScenarioError(ctx_file, where, seg, "allowed: a list index (0, 1, ...)", "not an index")
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
        else:
            where = ".".join([*walked, seg])
            raise ScenarioError(ctx_file, where, seg, f"'{'.'.join(walked)}' has no sub-keys", "unknown key")
        walked.append(seg)


def iter_params(cls: type, prefix: str = ""):
    """Yield ``(key_path, field, type)`` for every parameter of ``cls``, depth first."""
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}.{f.name}" if prefix else f.name
        tp = hints[f.name]
        _, inner = unwrap_optional(tp)
        yield path, f, tp
        if dataclasses.is_dataclass(inner):
            yield from iter_params(inner, path)
        elif get_origin(inner) in (tuple, dict):
            elem = get_args(inner)[-1] if get_origin(inner) is dict else get_args(inner)[0]
            if dataclasses.is_dataclass(elem):
                yield from iter_params(elem, path + "[]")


def type_at(cls: type, path: str) -> Any:
    """Return the type of the parameter of ``cls`` at a dotted path (checked by :func:`resolve_path`), without None."""
    tp: Any = cls
    for seg in path.split("."):
        _, tp = unwrap_optional(tp)
        origin = get_origin(tp)
        if dataclasses.is_dataclass(tp):
            tp = type_hints(tp)[seg]
        elif origin is tuple:
            tp = get_args(tp)[0]
        elif origin is dict:
            tp = get_args(tp)[1]
    return unwrap_optional(tp)[1]
