"""The seeded baseline summary, compared exactly: any change of the model's numbers shows here.

A change that is meant to change them is recorded on purpose with ``.venv/bin/python tests/baseline.py``.
"""

from __future__ import annotations

import json

from baseline import BASELINE, summary


def test_seeded_baseline_summary_is_unchanged():
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(summary(), ensure_ascii=False))
    assert got == expected, "the seeded baseline changed; if on purpose, run: .venv/bin/python tests/baseline.py"
