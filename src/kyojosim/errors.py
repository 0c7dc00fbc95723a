"""Errors raised for bad user input."""

from __future__ import annotations


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
        given_text = repr(given)
        if len(given_text) > 80:
            given_text = given_text[:77] + "..."
        super().__init__(f"{self.file}: {self.key}: {problem}: got {given_text}; {allowed}")
