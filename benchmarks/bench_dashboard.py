"""Dashboard benchmark: seconds per dashboard step, the model step and the redraw of every chart.

One step of the dashboard advances the model and its baseline by a month and redraws the charts
as the page does (the matching rate, the district map and つながり力 every step, the pyramid at the
turn of a year), each rendered to PNG. Prints wall and CPU seconds per step (never asserts).

    .venv/bin/python benchmarks/bench_dashboard.py yamae ikoma
    .venv/bin/python benchmarks/bench_dashboard.py koto --steps 24 --no-compare
    .venv/bin/python benchmarks/bench_dashboard.py yamae ikoma --period year --steps 4 --warmup 2
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Sequence
from typing import Any

from kyojosim.present.dashboard import charts
from kyojosim.present.dashboard.wrapper import INTERVENTIONS, PERIOD_MONTHS, DashboardModel, period_labels


def measure(scenario: str, steps: int = 12, warmup: int = 24, compare: bool = True,
            period: str = "month") -> dict[str, Any]:
    """Step a dashboard model with every intervention on; time each step with its redraw."""
    model = DashboardModel.from_scenario(scenario, compare=compare, period=period,
                                         **{name: True for name in INTERVENTIONS})
    for _ in range(warmup):
        model.step()
    wall, cpu, model_wall = [], [], []
    year = None
    for _ in range(steps):
        w0, c0 = time.perf_counter(), time.process_time()
        model.step()
        model_wall.append(time.perf_counter() - w0)
        figures = [charts.matching_figure, charts.district_figure, charts.tsunagari_figure]
        now = int(model.tracks[0].points[-1].t)
        if now != year:
            figures.append(charts.pyramid_figure)
            year = now
        for make in figures:
            make(model).savefig(io.BytesIO(), format="png")
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "scenario": scenario,
        "residents": int(model.main.population.live().size),
        "variants": len(model.tracks),
        "step_wall_s": statistics.median(wall),
        "step_cpu_s": statistics.median(cpu),
        "model_wall_s": statistics.median(model_wall),
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Measure each scenario named and print a line per scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["yamae", "ikoma"])
    parser.add_argument("--steps", type=int, default=12, help="timed steps (months), default 12")
    parser.add_argument("--warmup", type=int, default=24, help="steps before timing, default 24")
    parser.add_argument("--no-compare", action="store_true", help="without the baseline beside it")
    periods = [*PERIOD_MONTHS, *period_labels("ja"), *period_labels("en")]
    parser.add_argument("--period", default="month", choices=periods,
                        help="length of a step: month, quarter, year or its label (1か月, 1年, ...; default month)")
    args = parser.parse_args(argv)
    rows = []
    print("scenario  residents  variants  s/step (wall)  s/step (CPU)  of which model (wall)")
    for name in args.scenarios:
        r = measure(name, args.steps, args.warmup, not args.no_compare, args.period)
        rows.append(r)
        print(f"{r['scenario']:<8}  {r['residents']:>9,}  {r['variants']:>8}  {r['step_wall_s']:>13.3f}  "
              f"{r['step_cpu_s']:>12.3f}  {r['model_wall_s']:>20.3f}")
    return rows


if __name__ == "__main__":
    main()
