"""The foundation benchmark still runs (a small yamae run); its timings are printed, never asserted."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from script_loader import load_script

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_foundation.py"


def load_bench():
    return load_script(BENCH, "bench_foundation")


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


SWEEP_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sweep.py"


def test_bench_sweep_prints_the_overhead_over_the_model_time(capsys):
    bench = load_script(SWEEP_BENCH, "bench_sweep")
    result = bench.main(["--years", "1", "--scale", "0.1", "--replicates", "1", "--jobs", "1", "--skip", "b"])
    text = capsys.readouterr().out
    for label in ("runs' own model time", "overhead in the workers", "overhead outside the workers",
                  "sweep overhead over the model time", "target <= 5%", "peak tree PSS / RSS", "by worker",
                  "waited for a core", "the benchmark's own sampling"):
        assert label in text, label
    s = result["sweep"]
    assert s["runs"] == s["done"] == 2 and s["jobs"] == 1
    # the parts add up: the worker time available is the models, the rest in the workers and the rest outside
    assert 0 < s["model_s"] < s["task_s"] <= s["worker_s"]
    assert s["overhead"] == pytest.approx(s["overhead_in_workers"] + s["overhead_outside"])
    for key in ("wall_s", "runs_per_s", "resident_steps_per_s", "peak_tree_pss_mb", "peak_tree_rss_mb"):
        assert math.isfinite(s[key]) and s[key] > 0, key
    # one worker (the sweep's own process with one job): its runs, and the idle time at the end by worker sums up
    (worker,) = s["workers"]
    assert worker["runs"] == 2 and worker["task_s"] == pytest.approx(s["task_s"])
    assert worker["idle_end_s"] == pytest.approx(s["tail_idle_s"]) == 0
    assert s["sampler_cpu_s"] >= 0


ALL_JAPAN_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_all_japan.py"


def test_bench_all_japan_sweeps_a_sample_and_projects_full_scale(capsys, tmp_path):
    bench = load_script(ALL_JAPAN_BENCH, "bench_all_japan")
    result = bench.main(["--experiment", "kumamoto-quick", "--sample", "2", "--years", "1", "--scale", "0.0005",
                         "--jobs", "1", "--out", str(tmp_path / "res"), "--quiet", "--sizes", "300", "600",
                         "--tp-years", "1", "--no-fit-timing"])
    text = capsys.readouterr().out
    for label in ("2 municipalities", "sweep overhead", "resident-steps", "all 1,737 municipalities would take",
                  "seconds per weekly step = a + b x residents", "on N Dask workers"):
        assert label in text, label
    s = result["sweep"]
    # 2 municipalities x 3 variants x 2 replicates; each municipality built once (in the worker of its first run)
    assert s["done"] == s["runs"] == 2 * 3 * 2 and s["scenarios_built"] == 2 and s["model_s"] > 0
    full = result["full_scale"]
    assert len(full["throughput"]) == 2 * 3 and full["model_cpu_s"] > 0
    hours = [p["hours"] for p in full["projection"]]
    assert hours == sorted(hours, reverse=True) and hours[-1] * 3600 >= full["longest_task_s"] - 1e-6


AGENTS_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_agents.py"


def test_bench_agents_compares_models_with_and_without_handles(capsys):
    bench = load_script(AGENTS_BENCH, "bench_agents")
    result = bench.main(["--scenario", "yamae", "--scale", "0.2", "--years", "1"])
    text = capsys.readouterr().out
    for label in ("agents=True", "agents=False", "held after build", "per resident", "peak RSS"):
        assert label in text
    with_, without = result["agents"], result["no_agents"]
    assert with_["residents"] == without["residents"] > 0
    assert with_["held_bytes"] > without["held_bytes"] > 0  # the handles are the difference
    assert set(with_["yearly_timings_s"]) == set(without["yearly_timings_s"])


SPEED_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_speed.py"


def test_bench_speed_runs_and_prints_the_ratios(tmp_path, capsys):
    bench = load_script(SPEED_BENCH, "bench_speed")
    out = tmp_path / "speed.json"
    (result,) = bench.main(["--scenario", "yamae", "--scale", "0.2", "--years", "2", "--at", "2015",
                            "--in-process", "--json", str(out)])
    text = capsys.readouterr().out
    for label in ("ratio to empty Mesa", "amortised", "per resident-step", "peak RSS", "whole run"):
        assert label in text
    (window,) = result["windows"].values()
    assert window["year"] == 2015 and window["weeks"] >= 50 and window["agents"] == window["residents"] > 0
    for key in ("week_median_ms", "amortised_ms", "empty_mesa_ms", "ratio_median", "ratio_amortised",
                "ns_per_resident_step_amortised"):
        assert math.isfinite(window[key]) and window[key] > 0, key
    assert math.isfinite(window["yearly_ms"])  # the run went on past the window: its turn of the year is in it
    assert window["alone_weeks"] == 0 and window["alone_week_median_ms"] is None  # no year before 2015 run
    assert "with no empty Mesa step beside them" not in text
    assert json.loads(out.read_text(encoding="utf-8"))["scenario"] == "yamae"


def test_bench_speed_gives_the_weeks_of_the_year_before_the_window_stepped_alone(capsys):
    bench = load_script(SPEED_BENCH, "bench_speed_alone")
    (result,) = bench.main(["--scenario", "yamae", "--scale", "0.1", "--years", "2", "--at", "2016", "--in-process"])
    text = capsys.readouterr().out
    (window,) = result["windows"].values()
    # every week of 2015 (the step into 2016 is the turn of the year, not a week) and none of the window's
    assert window["year"] == 2016 and window["alone_weeks"] >= 50
    assert math.isfinite(window["alone_week_median_ms"]) and window["alone_week_median_ms"] > 0
    assert f"the {window['alone_weeks']} weeks of 2015, with no empty Mesa step beside them" in text


def test_bench_speed_pairs_ties_factors_in_one_process(tmp_path, capsys):
    bench = load_script(SPEED_BENCH, "bench_speed_paired")
    out = tmp_path / "paired.json"
    (result,) = bench.main(["--scenario", "yamae", "--scale", "0.2", "--years", "2", "--at", "2015",
                            "--in-process", "--ties-factor", "1", "2", "--json", str(out)])
    text = capsys.readouterr().out
    for label in ("ties x1, x2, one model each, stepped in turns", "ties x1:", "ties x2:", "ratio to empty Mesa",
                  "turn, median", "per resident-step, whole run", "verdict x2 against x1", "peak RSS"):
        assert label in text, label
    assert result["paired"] and result["factors"] == [1.0, 2.0] and result["warm_up_s"] > 0
    first, second = result["runs"]
    assert (first["ties_factor"], second["ties_factor"]) == (1.0, 2.0)
    # both models ran to the end in turns: one step each per round, the same steps and turns of the year
    assert first["steps"] == second["steps"] == result["rounds"] >= 104
    for r in (first, second):
        assert r["plain_weeks"] + len(r["turns_ms"]) == r["steps"]
        assert sum(y["steps"] for y in r["by_year"].values()) == r["steps"] and "2015" in r["by_year"]
        assert sum(y["cpu_s"] for y in r["by_year"].values()) == pytest.approx(r["cpu_s"])
        assert len(r["ties_per_resident_samples"]) == len(r["turns_ms"]) + 1
        (window,) = r["windows"].values()  # each model has its own interleaved window, measured the same way
        assert window["year"] == 2015 and window["weeks"] >= 50 and window["agents"] == window["residents"] > 0
        for key in ("week_median_ms", "week_mean_ms", "turn_median_ms", "amortised_ms", "run_s",
                    "ns_per_resident_step_amortised", "ns_per_resident_step_run", "cpu_s", "cpu_share",
                    "ns_per_resident_step_cpu"):
            assert math.isfinite(r[key]) and r[key] > 0, key
        assert math.isfinite(window["ratio_amortised"]) and math.isfinite(window["yearly_ms"])
    assert len(first["turns_ms"]) == len(second["turns_ms"]) >= 1
    assert second["ties_per_resident"] > first["ties_per_resident"]
    assert set(result["change_pct"][0].values()) == {0.0}
    (verdict,) = result["verdict"]
    assert verdict["change_pct"] == pytest.approx(result["change_pct"][1]["ns_per_resident_step_run"])
    assert verdict["flat"] == (abs(verdict["change_pct"]) <= 15.0)
    assert verdict["cpu_change_pct"] == pytest.approx(result["change_pct"][1]["ns_per_resident_step_cpu"])
    assert set(verdict["year_cpu_change_pct"]) == set(first["by_year"])  # both models ran the same steps each year
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["paired"] and [r["steps"] for r in written["runs"]] == [first["steps"], second["steps"]]


def test_bench_speed_verdict_compares_the_whole_run_per_resident_step():
    bench = load_script(SPEED_BENCH, "bench_speed_verdict")
    years = {"2015": {"steps": 52, "cpu_s": 1.0}, "2016": {"steps": 52, "cpu_s": 2.0},
             "2017": {"steps": 1, "cpu_s": 1.0}}
    base = dict.fromkeys(bench.PAIRED_KEYS, 10.0) | {"ties_factor": 1.0, "ties_per_resident": 3.0, "by_year": years}
    later = {"2015": {"steps": 52, "cpu_s": 1.1}, "2016": {"steps": 52, "cpu_s": 2.6},
             "2017": {"steps": 2, "cpu_s": 9.0}}
    runs = [base, base | {"ties_factor": 2.5, "ties_per_resident": 6.0, "ns_per_resident_step_run": 11.4,
                          "ns_per_resident_step_cpu": 12.0, "by_year": later},
            base | {"ties_factor": 3.0, "ties_per_resident": 7.5, "ns_per_resident_step_run": 8.4,
                    "ns_per_resident_step_cpu": 8.6}]
    changes = bench.changes_against_first(runs)
    assert changes[1]["ns_per_resident_step_run"] == pytest.approx(14.0)
    assert changes[1]["ties_per_resident"] == pytest.approx(100.0) and changes[1]["run_s"] == 0.0
    second, third = bench.flatness_verdict(runs)
    assert second["flat"] and second["ties_ratio"] == pytest.approx(2.0) and second["against"] == 1.0
    assert not second["cpu_flat"] and second["cpu_change_pct"] == pytest.approx(20.0)
    assert not third["flat"] and third["change_pct"] == pytest.approx(-16.0)
    assert third["cpu_flat"] and third["cpu_change_pct"] == pytest.approx(-14.0)
    # year by year: only the years both ran with the same steps (2017 differs), and their median
    assert second["year_cpu_change_pct"] == pytest.approx({"2015": 10.0, "2016": 30.0})
    assert second["year_cpu_change_median_pct"] == pytest.approx(20.0)


def test_bench_speed_repeats_pairs_in_both_build_orders_and_averages_them():
    bench = load_script(SPEED_BENCH, "bench_speed_repeats")

    def run(factor, ns, cpu):
        return dict.fromkeys(bench.PAIRED_KEYS, 1.0) | {"ties_factor": factor, "ties_per_resident": 3.0 * factor,
                                                        "ns_per_resident_step_run": ns,
                                                        "ns_per_resident_step_cpu": cpu, "by_year": {}}

    head = {"scenario": "x", "scale": 1.0, "years": 6, "seed": 1}
    forward = head | {"factors": [1.0, 2.0], "runs": [run(1.0, 10.0, 10.0), run(2.0, 11.0, 11.6)]}
    reverse = head | {"factors": [2.0, 1.0], "runs": [run(2.0, 12.6, 12.0), run(1.0, 10.0, 10.0)]}
    c = bench.combine_repeats([forward, reverse], [1.0, 2.0])
    (v,) = c["verdict"]  # the reversed run is put back in the given order: x2 against x1 in both
    assert c["build_orders"] == [[1.0, 2.0], [2.0, 1.0]] and (v["ties_factor"], v["against"]) == (2.0, 1.0)
    assert v["changes_pct"] == pytest.approx([10.0, 26.0]) and v["cpu_changes_pct"] == pytest.approx([16.0, 20.0])
    assert v["change_pct"] == pytest.approx(18.0) and v["cpu_change_pct"] == pytest.approx(18.0)
    assert not v["flat"] and not v["cpu_flat"] and v["ties_ratio"] == pytest.approx(2.0)
    # the 95% interval of the mean (Student's t, 1 degree of freedom): 18 -+ 12.706 * sd / sqrt(2)
    half = 12.7062047 * np.std([10.0, 26.0], ddof=1) / np.sqrt(2)
    assert v["interval_pct"] == pytest.approx((18.0 - half, 18.0 + half))
    assert v["interval_side"] == "across" and v["cpu_interval_side"] == "across"
    assert "do not settle the verdict" in bench.format_repeats(c)
    tight = head | {"factors": [1.0, 2.0], "runs": [run(1.0, 10.0, 10.0), run(2.0, 11.0, 11.0)]}
    c = bench.combine_repeats([tight, tight, tight | {"runs": [run(1.0, 10.0, 10.0), run(2.0, 11.2, 11.2)]}],
                              [1.0, 2.0])
    (v,) = c["verdict"]
    assert v["interval_side"] == "within" and v["flat"]
    far = head | {"factors": [1.0, 2.0], "runs": [run(1.0, 10.0, 10.0), run(2.0, 13.0, 13.0)]}
    (v,) = bench.combine_repeats([far, far | {"runs": [run(1.0, 10.0, 10.0), run(2.0, 13.2, 13.2)]}],
                                 [1.0, 2.0])["verdict"]
    assert v["interval_side"] == "outside" and not v["flat"]
    (v,) = bench.combine_repeats([far], [1.0, 2.0])["verdict"]  # one run: no interval
    assert v["interval_side"] == "unknown" and "interval" not in bench.format_repeats(
        bench.combine_repeats([far], [1.0, 2.0]))
    with pytest.raises(ValueError, match="not one of"):
        bench.combine_repeats([forward], [1.0, 3.0])
    with pytest.raises(SystemExit):  # a repeat needs a pair
        bench.parse_args(["--repeat", "2"])


def test_bench_speed_repeat_runs_each_pair_in_its_own_process(tmp_path, capsys):
    bench = load_script(SPEED_BENCH, "bench_speed_repeat_run")
    out = tmp_path / "repeat.json"
    (result,) = bench.main(["--scenario", "yamae", "--scale", "0.2", "--years", "1", "--at", "2015", "--in-process",
                            "--ties-factor", "1", "2", "--repeat", "2", "--json", str(out)])
    text = capsys.readouterr().out
    assert "2 paired runs, each in its own process" in text and "mean of 2 paired runs" in text
    assert result["build_orders"] == [[1.0, 2.0], [2.0, 1.0]]
    for paired in result["repeats"]:
        first, second = paired["runs"]
        assert first["steps"] == second["steps"] == paired["rounds"] > 0
    (v,) = result["verdict"]
    assert len(v["changes_pct"]) == len(v["cpu_changes_pct"]) == 2 and v["ties_ratio"] > 1
    assert json.loads(out.read_text(encoding="utf-8"))["build_orders"] == result["build_orders"]


def test_the_all_japan_projection_never_fits_a_cost_that_falls_with_size():
    bench = load_script(ALL_JAPAN_BENCH, "bench_all_japan_fit")
    # a loaded machine timed the smaller town slower: an ordinary fit would give a negative slope
    a, b = bench.fit_line(np.array([300.0, 600.0]), np.array([0.002, 0.001]))
    assert a >= 0 and b >= 0 and a + b * 1e6 > 0
    a, b = bench.fit_line(np.array([1e3, 2e3, 4e3]), np.array([0.011, 0.021, 0.041]))
    assert a == pytest.approx(0.001, abs=1e-9) and b == pytest.approx(1e-5)
    assert bench.fit_line(np.array([500.0]), np.array([1.0])) == (0.0, pytest.approx(0.002))


MEMORY_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_memory.py"


def test_bench_memory_prints_the_peak_and_what_it_is_made_of(tmp_path, capsys):
    bench = load_script(MEMORY_BENCH, "bench_memory")
    import kyojosim.model as model_module

    yearly = model_module.YEARLY
    out = tmp_path / "memory.json"
    result = bench.main(["--scenario", "yamae", "--scale", "0.1", "--years", "2", "--json", str(out)])
    text = capsys.readouterr().out
    for label in ("libraries after import", "after the build", "PEAK RSS", "simulation state (arrays)",
                  "Mesa handles", "DataCollector records", "what raised the highest RSS", "highest RSS by year"):
        assert label in text
    assert model_module.YEARLY is yearly  # the metering of the turn of the year is undone
    assert result["handles_build"] > 0 and 100 < result["handle_bytes"] < 2000
    parts = dict(bench.breakdown(result))
    assert math.isclose(sum(parts.values()), result["top"]["peak_mb"], rel_tol=1e-9)
    assert parts["simulation state (arrays)"] > 0 and result["peak_mb"] >= result["libraries_mb"]
    assert parts[bench.ROOM] >= 0 and "ties" in result["top"]["held"]  # the adjacency's spare room is not state
    assert {"build", "weekly round", "refresh", "table assembly"} <= set(result["by_name"])
    if bench.heap_mb() is not None:  # glibc: the heap's growth by phase adds up to its growth over the metered run
        assert "what grew glibc's heap" in text  # (a heap grown by earlier work may hold the build: no growth)
        grown = sum(st["heap_mb"] for st in result["by_name"].values())
        assert math.isclose(grown, result["heap_end_mb"] - result["heap_start_mb"], abs_tol=1e-6)
    assert json.loads(out.read_text(encoding="utf-8"))["scenario"] == "yamae"
