"""The foundation benchmark still runs (a small yamae run); its timings are printed, never asserted."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_foundation.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_foundation", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_bench_foundation_runs_and_prints_the_figures(tmp_path, capsys):
    bench = load_bench()
    out = tmp_path / "bench.json"
    result = bench.main(["--scenario", "yamae", "--scale", "0.2", "--years", "1", "--seed", "1", "--json", str(out)])
    text = capsys.readouterr().out
    for label in (
        "build time",
        "state bytes / resident",
        "Mesa Resident objects / resident",
        "plain weekly step (median)",
        "yearly step (median)",
        "amortised weekly step",
        "resident-steps / s",
        "ratio to empty Mesa",
        "peak RSS",
    ):
        assert label in text
    assert result["residents"] > 0 and result["steps"] >= 52 and result["plain_weeks"] >= 51
    for key in ("build_s", "plain_week_ms", "yearly_step_ms", "resident_steps_per_s", "ratio_to_empty_mesa",
                "state_bytes_per_resident", "mesa_object_bytes_per_resident", "peak_rss_mb"):
        assert math.isfinite(result[key]) and result[key] > 0, key
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["scenario"] == "yamae" and written["years"] == 1
    assert written["memory_bytes"] == result["memory_bytes"]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary file left
