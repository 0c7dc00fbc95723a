"""Errors raised for bad user input."""

from __future__ import annotations

import reprlib

MAX_GIVEN = 80
"""Longest text of the value given in a message (longer ones are cut and end with ``...``)."""

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 2, 8, 8, 6
_REPR.maxset, _REPR.maxfrozenset, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 6, 6, MAX_GIVEN, MAX_GIVEN, 40


class Summary(str):
    """A description of what was given, printed as it is instead of the value (``a text``, ``3 levels``).

    Used where the value itself must not be printed: the contents of a file that is not what was
    expected, or a value too large to show.
    """

    def __repr__(self) -> str:
        return str(self)


def short(value: object, width: int = MAX_GIVEN) -> str:
    """Return ``repr(value)`` in at most ``width`` characters, without building the repr of a large value.

    Containers are shown to two levels and a few items (:mod:`reprlib`), so that the message of a
    value of any size (an alias bomb, a 5 MB text) is built in bounded time.
    """
    text = _REPR.repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class KyojoError(Exception):
    """Base class of the errors kyojosim raises for bad user input."""


class ScenarioError(KyojoError, ValueError):
    """A scenario file or override is invalid.

    The message names the file, the key path, the value given and what is allowed,
    so that a user can fix the input without reading a traceback.

    Attributes:
        file: The scenario file the problem is in (or ``"<overrides>"``).
        key: The dotted key path, e.g. ``"municipality.districts[2].area_km2"``.
        given: The offending value, as given.
        allowed: What would have been accepted.
    """

    def __init__(self, file: str | None, key: str, given: object, allowed: str, problem: str = "invalid value"):
        self.file = file or "<scenario>"
        self.key = key or "<top level>"
        self.given = given
        self.allowed = allowed
        self.problem = problem
        key_text = self.key if len(self.key) <= 2 * MAX_GIVEN else self.key[: 2 * MAX_GIVEN - 3] + "..."
        super().__init__(f"{self.file}: {key_text}: {problem}: got {short(given)}; {allowed}")


class ScenarioWarning(UserWarning):
    """A scenario that is valid but probably not what was meant (an intervention that never runs).

    The command line prints it as ``warning: <message>``; :func:`kyojosim.run` and
    :func:`kyojosim.sweep` issue it with :func:`warnings.warn`.
    """
