"""Reading YAML input within limits: the size of a file, nesting, aliases, text length, duplicate keys.

Scenario and experiment files and the values of ``--set`` are read by :func:`load_text`, a
``yaml.SafeLoader`` (no Python objects, only mappings, lists, text, numbers, booleans and null)
with limits, so that a careless or hostile file gives one short error instead of a traceback, a hang
or a process that grows to gigabytes:

- a file larger than :data:`MAX_FILE_BYTES` is not read at all;
- mappings and lists nested deeper than :data:`MAX_DEPTH` are refused as soon as the reader gets
  there (PyYAML would otherwise recurse until Python's recursion limit);
- the values of the document, counted with every alias expanded (a shared list counts as often as it is
  referred to), may not exceed :data:`MAX_VALUES`: an alias bomb ("billion laughs") is refused while
  it is read, before anything walks the expansion; an alias of a collection inside itself is refused;
- a text (a key or a value) longer than :data:`MAX_TEXT_LENGTH` characters is refused;
- a key given twice in one mapping is refused (PyYAML keeps the last silently); keys brought in by
  a merge (``<<: *base``) may be overridden, as YAML intends.

Every error is a :class:`yaml.YAMLError` with the line and column where it was found and a short
``problem`` (see :class:`LimitError`); :func:`kyojosim.params.scenario.read_yaml` turns it into a
:class:`~kyojosim.errors.ScenarioError`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode

MAX_FILE_BYTES = 1_048_576
"""Largest scenario or experiment file read (1 MiB; the bundled scenarios are a few kB, a town with a
thousand districts about 100 kB)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (a scenario nests at most 5 levels, an experiment 7)."""
MAX_VALUES = 200_000
"""Most values (keys, texts, numbers, lists and mappings, aliases expanded) in one document."""
MAX_TEXT_LENGTH = 10_000
"""Longest text (a key or a value), in characters."""
MERGE_TAG = "tag:yaml.org,2002:merge"


class LimitError(ComposerError):
    """A document breaks one of the limits of this module (a :class:`yaml.YAMLError` with a mark).

    Attributes:
        label: What is wrong, in a few words (``"nested too deeply"``).
        given: What was found, described (never the contents).
        allowed: What is allowed (``"allowed: ..."``).
    """

    def __init__(self, label: str, given: str, allowed: str, mark: Any):
        super().__init__(None, None, f"{label}: {given}", mark)
        self.label, self.given, self.allowed = label, given, allowed


def short_text(text: str, width: int = 40) -> str:
    """Return ``text`` cut to ``width`` characters (with ``...``)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def short_repr(value: Any, width: int = 40) -> str:
    """Return ``repr(value)`` of a key or scalar in at most ``width`` characters (a text is cut before ``repr``)."""
    if isinstance(value, str):
        return repr(short_text(value, width - 2))
    text = repr(value) if isinstance(value, (int, float, bool)) or value is None else type(value).__name__
    return short_text(text, width)


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with the limits of this module (depth, expanded values, text length, duplicate keys)."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._depth = 0
        self._weights: dict[int, int] = {}
        self._total = 0

    def compose_document(self) -> Any:
        """Compose one document, counting its values afresh."""
        self._weights = {}
        self._total = 0
        try:
            return super().compose_document()
        finally:
            self._weights = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose a node within the limits; record its size with aliases expanded."""
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            weight = self._weights.get(id(node))
            if weight is None:  # the alias of a collection that is still being read: the collection holds itself
                raise LimitError("recursive alias", f"*{short_text(event.anchor)} inside its own collection",
                                 "allowed: aliases of values defined before them", event.start_mark)
            self._add(weight, event.start_mark)
            return node
        event = self.peek_event()
        if isinstance(event, ScalarEvent) and len(event.value) > MAX_TEXT_LENGTH:
            raise LimitError("text too long", f"{len(event.value):,} characters",
                             f"allowed: at most {MAX_TEXT_LENGTH:,} characters", event.start_mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise LimitError("nested too deeply", f"more than {MAX_DEPTH} levels",
                             f"allowed: mappings and lists nested at most {MAX_DEPTH} levels deep", event.start_mark)
        try:
            before = self._total
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._add(1, event.start_mark)
        self._weights[id(node)] = self._total - before  # the node and everything below it, aliases expanded
        return node

    def _add(self, n: int, mark: Any) -> None:
        self._total += n
        if self._total > MAX_VALUES:
            raise LimitError("too many values", f"more than {MAX_VALUES:,}",
                             f"allowed: at most {MAX_VALUES:,} values, every alias expanded", mark)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Construct a mapping, refusing a key given twice (a merged key may be overridden)."""
        if isinstance(node, MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: the base constructor says so
                    continue
                if first is not key_node:
                    raise LimitError("duplicate key", short_repr(key), "allowed: each key once in a mapping "
                                     f"(first on line {first.start_mark.line + 1})", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_text(text: str) -> Any:
    """Parse one YAML document within the limits of this module.

    Args:
        text: The document.

    Returns:
        Plain data: mappings, lists, texts, numbers, booleans and ``None``.

    Raises:
        yaml.YAMLError: For a document that is not YAML or breaks a limit (with a mark and a short problem).
    """
    loader = BoundedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def describe_error(exc: yaml.YAMLError) -> tuple[str, str]:
    """Return ``(where, problem)`` of a YAML error: ``"line L, column C"`` and a short description."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, yaml.reader.ReaderError):
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else short_repr(exc.character)
        return f"position {exc.position}", f"{exc.reason}: {what}"[:120]
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return where, str(problem)[:200]


__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_TEXT_LENGTH", "MAX_VALUES", "BoundedSafeLoader", "LimitError",
           "describe_error", "load_text", "short_repr", "short_text"]
