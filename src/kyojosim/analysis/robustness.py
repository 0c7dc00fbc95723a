"""Robustness of a comparison: the effect of each variant across the assumptions no survey pins down.

``kyojosim robustness EXPERIMENT --samples N`` (:func:`robustness`) takes an experiment's scenarios
and variants, replaces its design by a sample of the **assumption register**
(:func:`kyojosim.params.scenario.assumption_register`: every ``assumption:`` parameter with its
plausible range) and sweeps it through :func:`kyojosim.runs.sweep.sweep` (resumable, atomic). Each
sample is a design point at which the baseline and every variant run with the same seeds (common
random numbers); a parameter that is a list or mapping is scaled as a whole by one factor
(``plausible_factor``). By default the sample is a Latin hypercube (``scipy.stats.qmc``) of ``N``
points over every register parameter except those of interventions that no variant switches on.

For each variant and metric (by default the headline metrics of
:data:`kyojosim.measures.outcomes.METRICS`), the effect at a sample is the paired difference
variant − baseline (mean over the replicates). The analysis reports:

* **spread**: the median effect over the samples and its 5-95% range;
* **share above the threshold**: the share of samples where the variant helps by more than the
  threshold (default 0: helps at all);
* **dependence**: which assumptions the effect depends on. On a Latin hypercube, the first-order
  index of RBD-FAST (``SALib.analyze.rbd_fast``: any sample, cheap, suited to small ``N``) with its
  bootstrap interval, and Spearman's rank correlation for the direction; on a Sobol design
  (``design="sobol"``: Saltelli's sample, ``N · (d + 2)`` points), the Sobol first-order and total
  indices (``SALib.analyze.sobol``);
* **failure regions**: where the variant does not help by more than the threshold, found by PRIM
  scenario discovery (EMA Workbench's ``ema_workbench.analysis.prim``, the optional extra
  ``kyojosim[analysis]``): boxes of parameter ranges in which most samples fail, each with its
  coverage (share of all failures inside it), density (share of its samples that fail) and the
  conditions that bound it.

Everything is returned as data (:class:`RobustnessResult`: tables and :meth:`RobustnessResult.findings`,
plain JSON-ready records) so that a report can state it in any language; :func:`format_robustness`
writes the English text summary.

The samples share the replicate seeds (common random numbers across samples as well as variants):
the differences between samples come from the assumptions alone, and the seed-level uncertainty is
that of the comparison (``kyojosim compare``); ``replicates`` > 1 averages it down at each sample.
"""

from __future__ import annotations

import fnmatch
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import KyojoError
from ..measures.outcomes import headline_metrics
from ..params.experiment import INTERVENTION_NAMES, Experiment, find_experiment, load_experiment
from ..params.scenario import assumption_register, read_yaml
from ..params.schema import suggest
from .compare import compare
from .intervals import display_factor, display_unit

DESIGNS: tuple[str, ...] = ("lhs", "sobol")
"""How the register is sampled: a Latin hypercube of N points, or Saltelli's Sobol sample of N · (d + 2) points."""
SWEEP_DIR = "sweep"
"""Sub-folder of the robustness folder that holds the sweep of the samples."""
QUANTILES = (0.05, 0.5, 0.95)
"""The spread of an effect: its 5%, 50% and 95% quantiles over the samples."""
PRIM_DENSITY = 0.8
"""A failure region is the box of highest coverage on PRIM's peeling trajectory whose density reaches this."""
PRIM_MIN_CASES = 3
"""Fewest failing samples for which PRIM looks for a region (fewer: the failures are listed, not boxed)."""
PRIM_MAX_BOXES = 2
"""Failure regions sought per variant and metric."""
TOP_ASSUMPTIONS = 5
"""Assumptions named in the findings, per variant and metric (the full ranking is in the dependence table)."""
EMA_HINT = ("failure regions need PRIM from EMA Workbench, which is not installed: "
            "pip install 'kyojosim[analysis]' (or pip install ema_workbench)")


class RobustnessError(KyojoError):
    """A robustness analysis cannot run as asked (bad experiment, parameters, samples or threshold)."""


# --------------------------------------------------------------------------------------
# the experiment of the samples
# --------------------------------------------------------------------------------------


def experiment_mapping(experiment: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Read an experiment as a mapping whose scenario files are absolute paths (so it can be re-resolved)."""
    if isinstance(experiment, Mapping):
        return dict(experiment)
    path = find_experiment(experiment)
    exp = load_experiment(path)  # the errors of a bad file, with its name and key paths
    raw = read_yaml(path, "experiment")
    refs = raw.get("scenarios")
    refs = [refs] if isinstance(refs, str) else list(refs or [])
    fixed = []
    for ref in refs:
        local = path.parent / str(ref)
        hit = next((c for c in (local, local.with_name(local.name + ".yaml")) if c.is_file()), None)
        fixed.append(str(hit.resolve()) if hit is not None else ref)
    return {**raw, "scenarios": fixed, "name": exp.name}


def _used_interventions(exp: Experiment) -> set[str]:
    """Return the interventions switched on in some run of the experiment."""
    return {name for run in exp.runs for name in INTERVENTION_NAMES
            if getattr(run.resolved.interventions, name).enabled}


def sampled_parameters(exp: Experiment, patterns: Sequence[str] | None = None) -> pd.DataFrame:
    """Return the register rows a robustness analysis of ``exp`` varies.

    Args:
        exp: The experiment (its first scenario gives the register's values).
        patterns: Dotted keys or shell patterns (``interventions.sharing_platform.*``); default: every
            register parameter except those of interventions no run switches on.

    Returns:
        The rows of :func:`~kyojosim.params.scenario.assumption_register` chosen, in register order.

    Raises:
        RobustnessError: For a pattern that matches no register parameter.
    """
    register = assumption_register(exp.runs[0].resolved)
    register = register[register["plausible_lo"] < register["plausible_hi"]]
    keys = list(register["key"])
    if patterns:
        chosen: list[str] = []
        for pat in patterns:
            hits = [k for k in keys if fnmatch.fnmatchcase(k, pat)]
            if not hits:
                raise RobustnessError(f"--parameters: {pat!r} matches no parameter of the assumption register; "
                                      f"{suggest(pat, keys)} (or a pattern such as 'helping.*'; "
                                      "kyojosim assumptions lists them)")
            chosen += [k for k in hits if k not in chosen]
        return register[register["key"].isin(chosen)].reset_index(drop=True)
    used = _used_interventions(exp)
    keep = [not k.startswith("interventions.") or k.split(".")[1] in used for k in keys]
    return register[keep].reset_index(drop=True)


def robustness_experiment(experiment: str | Path | Mapping[str, Any], samples: int,
                          parameters: Sequence[str] | None = None, design: str = "lhs", replicates: int = 1,
                          seed: int | None = None) -> tuple[Experiment, pd.DataFrame]:
    """Return the experiment that runs ``experiment``'s variants over a sample of the assumption register.

    Args:
        experiment: An experiment file, a bundled experiment name, or a mapping, without a design of
            its own (the samples are the design).
        samples: ``lhs``: the number of samples; ``sobol``: Saltelli's ``N`` (a power of 2; the
            design has ``N · (d + 2)`` points).
        parameters: Register keys or patterns to vary (default: see :func:`sampled_parameters`).
        design: ``"lhs"`` or ``"sobol"``.
        replicates: Replicates at each sample (shared seeds across samples and variants).
        seed: The experiment seed (default: the experiment's own).

    Returns:
        The resolved experiment (named ``<name>-robustness``) and the register rows it varies.

    Raises:
        RobustnessError: For a bad number of samples, design or parameters, an experiment with a
            design or with one variant.
        ExperimentError: For a bad experiment.
    """
    if design not in DESIGNS:
        raise RobustnessError(f"--design: got {design!r}; allowed: {', '.join(DESIGNS)}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise RobustnessError(f"--samples: got {samples!r}; allowed: an integer >= 2")
    if design == "sobol" and samples & (samples - 1):
        raise RobustnessError(f"--samples: got {samples}; allowed with --design sobol: a power of 2 (8, 16, 32 ...)")
    raw = experiment_mapping(experiment)
    base = load_experiment(raw)
    if base.municipalities:
        raise RobustnessError(f"experiment {base.name!r} names municipalities (municipalities:), whose scenarios are "
                              "built in the runs' workers; a robustness analysis samples the assumptions of named "
                              "scenarios: list the municipalities under scenarios: instead")
    if base.design.get("type", "none") != "none":
        raise RobustnessError(f"experiment {base.name!r} has a design of type {base.design['type']!r}; a robustness "
                              "analysis samples the assumptions instead: give an experiment without a design")
    if len(base.variants) < 2:
        raise RobustnessError(f"experiment {base.name!r} has one variant; a robustness analysis measures the effect "
                              "of variants against the baseline, so it needs at least two")
    chosen = sampled_parameters(base, parameters)
    if chosen.empty:
        raise RobustnessError("no parameter to vary: the register has none with a plausible range here")
    spec = {k: v for k, v in raw.items() if k != "design"}
    spec.update({"name": f"{base.name}-robustness", "replicates": int(replicates),
                 "description": f"{base.name}: the variants over a {design} sample of the assumption register",
                 "design": {"type": design, "n": int(samples),
                            "parameters": {r["key"]: [float(r["plausible_lo"]), float(r["plausible_hi"])]
                                           for r in chosen.to_dict("records")}}})
    if design == "sobol":
        spec["design"]["calc_second_order"] = False
    if seed is not None:
        spec["seed"] = int(seed)
    return load_experiment(spec), chosen


# --------------------------------------------------------------------------------------
# the analysis
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustnessResult:
    """The robustness of a comparison: tables and findings.

    Attributes:
        experiment: Name of the robustness experiment.
        design: ``lhs`` or ``sobol``.
        parameters: The register rows varied (key, value, default, plausible_lo/hi, scale, unit, basis).
        samples: One row per sample (``point``) with its parameter values (factors for lists and mappings).
        effects: One row per scenario, sample, variant and metric: the parameter values, ``baseline``,
            ``variant_value``, ``effect`` (variant − baseline, mean over replicates) and ``n_pairs``.
        spread: One row per scenario, variant and metric: ``n_samples``, ``median``, ``p05``, ``p95``,
            ``mean``, ``min``, ``max``, ``threshold``, ``share_above`` (of samples with effect > threshold),
            ``unit`` and ``display_factor`` (100 for rates: points).
        dependence: One row per scenario, variant, metric and parameter: ``method`` (``rbd_fast`` or
            ``sobol``), ``index`` (RBD-FAST S1, or Sobol ST), ``conf`` (half-width of its 95% interval),
            ``S1`` and ``S1_conf`` (Sobol only), ``rho`` (Spearman), ``chance`` (RBD-FAST: the index chance alone
            reaches, :func:`_chance_level`), ``distinct`` (the index stands out: above ``chance``, or for Sobol
            its interval excludes 0) and ``rank`` (1 = most).
        regions: One row per failure region: scenario, variant, metric, ``box``, ``coverage``, ``density``,
            ``mass``, ``n`` (samples inside), ``k`` (failing samples inside).
        conditions: One row per bound of a region: scenario, variant, metric, ``box``, ``parameter``,
            ``lo``, ``hi`` (the box), ``plausible_lo``, ``plausible_hi``, ``restricted`` (``lower``,
            ``upper`` or ``both``), ``qp_lo``, ``qp_hi`` (quasi-p values of the bounds).
        prim_note: Why failure regions are missing, if they are (EMA Workbench not installed ...).
        thresholds: The threshold of each metric (in the metric's stored unit).
    """

    experiment: str
    design: str
    parameters: pd.DataFrame
    samples: pd.DataFrame
    effects: pd.DataFrame
    spread: pd.DataFrame
    dependence: pd.DataFrame
    regions: pd.DataFrame
    conditions: pd.DataFrame
    prim_note: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)

    def findings(self, top: int = TOP_ASSUMPTIONS) -> dict[str, Any]:
        """Return the findings as plain data (JSON-ready), one record per scenario, variant and metric.

        Each record: ``scenario``, ``variant``, ``metric``, ``unit``, ``display_factor``, ``n_samples``,
        ``median``, ``p05``, ``p95``, ``mean``, ``min``, ``max`` (over all samples), ``threshold``,
        ``share_above``, ``holds`` (``everywhere``: every sample above the threshold; ``nowhere``;
        ``mostly``: at least 90%; ``often``; ``rarely``: at most 10%), ``top_assumptions`` (key, index,
        conf, rho, method; only the assumptions whose index stands out from chance, none with few samples),
        ``failure_regions`` (coverage, density, mass, n, k, conditions) and
        ``prim_note``. Numbers are in the metric's stored unit (a
        rate as a fraction); ``display_factor`` turns them into the unit read (points).
        """
        records = []
        for r in self.spread.to_dict("records"):
            key = (r["scenario"], r["variant"], r["metric"])
            dep = self.dependence
            dep = dep[(dep["scenario"] == key[0]) & (dep["variant"] == key[1]) & (dep["metric"] == key[2])]
            if "distinct" in dep:  # (tables written before the chance level have no such column)
                dep = dep[dep["distinct"].astype(bool)]
            dep = dep.sort_values("rank").head(top)
            regs = self.regions
            regs = regs[(regs["scenario"] == key[0]) & (regs["variant"] == key[1]) & (regs["metric"] == key[2])]
            regions = []
            for g in regs.to_dict("records"):
                c = self.conditions
                c = c[(c["scenario"] == key[0]) & (c["variant"] == key[1]) & (c["metric"] == key[2])
                      & (c["box"] == g["box"])]
                regions.append({**{k: _plain(g[k]) for k in ("box", "coverage", "density", "mass", "n", "k")},
                                "conditions": [{k: _plain(v) for k, v in row.items()
                                                if k not in ("scenario", "variant", "metric", "box")}
                                               for row in c.to_dict("records")]})
            share = r["share_above"]
            holds = ("everywhere" if share == 1 else "nowhere" if share == 0 else "mostly" if share >= 0.9
                     else "rarely" if share <= 0.1 else "often")
            records.append({**{k: _plain(r[k]) for k in ("scenario", "variant", "metric", "unit", "display_factor",
                                                          "n_samples", "median", "p05", "p95", "mean", "min", "max",
                                                          "threshold", "share_above")},
                            "holds": holds,
                            "top_assumptions": [{k: _plain(d[k]) for k in ("parameter", "index", "conf", "rho",
                                                                           "method")} for d in dep.to_dict("records")],
                            "failure_regions": regions, "prim_note": self.prim_note})
        return {"experiment": self.experiment, "design": self.design, "n_samples": int(len(self.samples)),
                "parameters": [{k: _plain(v) for k, v in p.items() if k in ("key", "plausible_lo", "plausible_hi",
                                                                            "scale", "unit", "basis")}
                               for p in self.parameters.to_dict("records")],
                "thresholds": {k: float(v) for k, v in self.thresholds.items()}, "findings": records}


def _plain(x: Any) -> Any:
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return None if math.isnan(float(x)) else float(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


def parse_thresholds(items: Sequence[str] | Mapping[str, float] | float | None, metrics: Sequence[str]
                     ) -> dict[str, float]:
    """Return the threshold of each metric in its stored unit, from values in display units.

    Args:
        items: ``None`` (0 for every metric), a number for every metric, a mapping metric -> number,
            or texts ``"2"`` / ``"matching_rate=2"`` (the CLI's ``--threshold``). Values are in the
            unit differences are read in: points for rates and shares (``2`` = 2 points).
        metrics: The metrics analysed.

    Raises:
        RobustnessError: For a text that is not a number or ``METRIC=number``, or an unknown metric.
    """
    out = dict.fromkeys(metrics, 0.0)
    if items is None:
        return out
    if isinstance(items, (int, float)) and not isinstance(items, bool):
        return {m: float(items) / display_factor(m) for m in metrics}
    pairs: list[tuple[str | None, Any]] = []
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        for item in items:
            name, sep, value = str(item).rpartition("=")
            pairs.append((name if sep else None, value))
    for name, value in pairs:
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise RobustnessError(f"--threshold: got {value!r}; allowed: a number, or METRIC=number (points for "
                                  "rates, e.g. matching_rate_age_75plus=2)") from None
        if not math.isfinite(v):
            raise RobustnessError(f"--threshold: got {value!r}; allowed: a finite number")
        if name is None:
            out = {m: v / display_factor(m) for m in metrics}
        elif name not in out:
            raise RobustnessError(f"--threshold: unknown metric {name!r}; {suggest(name, list(metrics))}")
        else:
            out[name] = v / display_factor(name)
    return out


def _dependence(x: pd.DataFrame, y: np.ndarray, design: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """Rank the parameters by how much the effect ``y`` depends on them (see the module)."""
    from scipy.stats import spearmanr

    names = list(x.columns)
    bounds = [list(map(float, design["parameters"][k])) for k in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    ok = ~np.isnan(y)
    rho = np.full(len(names), np.nan)
    if ok.sum() >= 3:
        for j, k in enumerate(names):
            col = x[k].to_numpy(dtype=np.float64)[ok]
            if np.ptp(col) > 0 and np.ptp(y[ok]) > 0:
                rho[j] = float(spearmanr(col, y[ok]).statistic)
    out = pd.DataFrame({"parameter": names, "rho": rho})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if design["type"] == "sobol":
            from SALib.analyze import sobol

            if not ok.all():
                out = out.assign(method="sobol", index=np.nan, conf=np.nan, S1=np.nan, S1_conf=np.nan)
            else:
                si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=200, seed=seed)
                out = out.assign(method="sobol", index=si["ST"], conf=si["ST_conf"], S1=si["S1"], S1_conf=si["S1_conf"])
        else:
            from SALib.analyze import rbd_fast

            out = out.assign(method="rbd_fast", index=np.nan, conf=np.nan, S1=np.nan, S1_conf=np.nan)
            if ok.sum() >= 8 and np.ptp(y[ok]) > 0:
                m = max(1, min(10, (int(ok.sum()) - 1) // 4))  # harmonics: fewer for few samples
                xs = x.to_numpy(dtype=np.float64)[ok]
                si = rbd_fast.analyze(problem, xs, y[ok], M=m, num_resamples=200, seed=seed)
                out["index"], out["conf"] = si["S1"], si["S1_conf"]
                out["S1"], out["S1_conf"] = si["S1"], si["S1_conf"]
                out["chance"] = _chance_level(problem, xs, y[ok], m, seed)
    if "chance" not in out:
        out["chance"] = np.nan
    if design["type"] == "sobol":  # an index stands out when its interval excludes 0
        out["distinct"] = (out["index"] - out["conf"]).to_numpy() > 0
    else:  # ... or, for RBD-FAST, when it exceeds what an effect unrelated to every assumption gives
        out["distinct"] = out["index"].to_numpy() > out["chance"].to_numpy()
    order = out["index"].fillna(-np.inf).to_numpy()
    out["rank"] = pd.Series(-order).rank(method="first").astype(int).to_numpy()
    return out


CHANCE_PERMUTATIONS = 39
"""Permutations of the effect behind the RBD-FAST chance level (39: its 95th percentile is the largest but one)."""


def _chance_level(problem: Mapping[str, Any], x: np.ndarray, y: np.ndarray, m: int, seed: int) -> float:
    """Return the RBD-FAST index that chance alone reaches.

    It is the 95th percentile, over random permutations of the effect (which tie it to no assumption), of the
    largest index of any parameter. With few samples every parameter gets a sizeable index by chance; only an
    index above this level says that the effect depends on that assumption.
    """
    from SALib.analyze import rbd_fast

    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    top = [np.nanmax(rbd_fast.analyze(problem, x, rng.permutation(y), M=m, num_resamples=2, seed=seed)["S1"])
           for _ in range(CHANCE_PERMUTATIONS)]
    return float(np.quantile(top, 0.95))


def _prim(x: pd.DataFrame, fails: np.ndarray, bounds: Mapping[str, Sequence[float]]
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Find up to :data:`PRIM_MAX_BOXES` failure regions with EMA Workbench's PRIM; return regions and bounds."""
    import logging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    regions: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x.astype(np.float64).reset_index(drop=True), fails.astype(int), threshold=PRIM_DENSITY,
                      peel_alpha=0.1, paste_alpha=0.05, mass_min=max(0.05, 2.0 / len(x)))
        for b in range(PRIM_MAX_BOXES):
            box = p.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            dense = traj.index[(traj["density"] >= PRIM_DENSITY) & (traj["res_dim"] > 0)]
            if not len(dense):
                break  # PRIM found no box dense enough in what remains
            i = int(traj.loc[dense, "coverage"].idxmax())
            box.select(i)
            stats_ = traj.loc[i]
            regions.append({"box": b, "coverage": float(stats_["coverage"]), "density": float(stats_["density"]),
                            "mass": float(stats_["mass"]), "n": int(stats_["n"]), "k": int(stats_["k"])})
            lims = box.box_lims[i]
            init = box.box_lims[0]
            qp = box.qp[i] if i < len(box.qp) else {}
            for k in x.columns:
                lo, hi = float(lims[k].iloc[0]), float(lims[k].iloc[1])
                lo0, hi0 = float(init[k].iloc[0]), float(init[k].iloc[1])
                cut_lo, cut_hi = lo > lo0, hi < hi0
                if not (cut_lo or cut_hi):
                    continue
                q = qp.get(k, [np.nan, np.nan])
                conditions.append({"box": b, "parameter": k, "lo": lo if cut_lo else float(bounds[k][0]),
                                   "hi": hi if cut_hi else float(bounds[k][1]),
                                   "plausible_lo": float(bounds[k][0]), "plausible_hi": float(bounds[k][1]),
                                   "restricted": "both" if cut_lo and cut_hi else "lower" if cut_lo else "upper",
                                   "qp_lo": float(q[0]) if q[0] is not None and q[0] >= 0 else np.nan,
                                   "qp_hi": float(q[1]) if q[1] is not None and q[1] >= 0 else np.nan})
    return regions, conditions


def ema_available() -> bool:
    """Whether EMA Workbench (the optional extra ``kyojosim[analysis]``) can be imported."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench.analysis.prim  # noqa: F401
    except ImportError:
        return False
    return True


REGION_COLUMNS = ("scenario", "variant", "metric", "box", "coverage", "density", "mass", "n", "k")
CONDITION_COLUMNS = ("scenario", "variant", "metric", "box", "parameter", "lo", "hi", "plausible_lo", "plausible_hi",
                     "restricted", "qp_lo", "qp_hi")


def analyse(results: Any, parameters: pd.DataFrame | None = None, metrics: Sequence[str] | None = None,
            thresholds: Sequence[str] | Mapping[str, float] | float | None = None, seed: int = 0,
            prim: bool = True) -> RobustnessResult:
    """Analyse the sweep of a robustness experiment (see the module).

    Args:
        results: The ``ExperimentResults`` of the samples (``kyojosim.load(folder / "sweep")``).
        parameters: The register rows varied (default: those of the design, from the manifest).
        metrics: The metrics (default: the headline metrics).
        thresholds: See :func:`parse_thresholds` (display units; default 0: helps at all).
        seed: Seed of SALib's bootstrap.
        prim: Look for failure regions (needs EMA Workbench; without it :attr:`RobustnessResult.prim_note`
            says so).

    Returns:
        A :class:`RobustnessResult`.

    Raises:
        RobustnessError: For results that are not of a sampled design, or unknown metrics.
    """
    design = dict((results.manifest or {}).get("design") or {})
    if design.get("type") not in DESIGNS:
        raise RobustnessError(f"the results are of a design of type {design.get('type')!r}; a robustness analysis "
                              "reads the sweep of kyojosim robustness (a lhs or sobol sample of the register)")
    names = list(design["parameters"])
    metrics = list(metrics) if metrics is not None else [m for m in headline_metrics() if m in results.summary.columns]
    unknown = [m for m in metrics if m not in results.summary.columns]
    if unknown:
        raise RobustnessError(f"--metrics: unknown {', '.join(unknown)}; "
                              f"{suggest(unknown[0], [c for c in results.summary.columns if c != 'run_id'])}")
    limits = parse_thresholds(thresholds, metrics)
    if parameters is None:
        parameters = pd.DataFrame({"key": names, "plausible_lo": [design["parameters"][k][0] for k in names],
                                   "plausible_hi": [design["parameters"][k][1] for k in names]})
    cmp = compare(results, metrics=metrics, method="t")
    samples = (results.design.drop_duplicates(["scenario", "point"])[["scenario", "point", *names]]
               .sort_values(["scenario", "point"]).reset_index(drop=True))
    effects = cmp.rename(columns={"diff": "effect", "baseline_mean": "baseline", "variant_mean": "variant_value"})
    effects = effects[["scenario", "point", *names, "variant", "metric", "baseline", "variant_value", "effect",
                       "n_pairs"]]
    spread_rows, dep_frames, region_rows, cond_rows = [], [], [], []
    prim_note = "" if not prim or ema_available() else EMA_HINT
    if not prim:
        prim_note = "failure regions not sought (prim=False)"
    for (scenario, variant, metric), part in effects.groupby(["scenario", "variant", "metric"], sort=False):
        part = part.sort_values("point")
        y = part["effect"].to_numpy(dtype=np.float64)
        ok = ~np.isnan(y)
        q = np.quantile(y[ok], QUANTILES) if ok.any() else [np.nan] * 3
        limit = limits[metric]
        above = y[ok] > limit
        spread_rows.append({"scenario": scenario, "variant": variant, "metric": metric, "n_samples": int(ok.sum()),
                            "median": float(q[1]), "p05": float(q[0]), "p95": float(q[2]),
                            "mean": float(y[ok].mean()) if ok.any() else np.nan,
                            "min": float(y[ok].min()) if ok.any() else np.nan,
                            "max": float(y[ok].max()) if ok.any() else np.nan, "threshold": limit,
                            "share_above": float(above.mean()) if ok.any() else np.nan,
                            "unit": display_unit(metric), "display_factor": display_factor(metric)})
        x = part[names]
        dep = _dependence(x, y, design, seed)
        dep_frames.append(dep.assign(scenario=scenario, variant=variant, metric=metric))
        fails = ok & ~(y > limit)
        if prim and not prim_note and PRIM_MIN_CASES <= fails.sum() < ok.sum():
            regions, conds = _prim(x[ok], fails[ok], design["parameters"])
            key = {"scenario": scenario, "variant": variant, "metric": metric}
            region_rows += [{**key, **r} for r in regions]
            cond_rows += [{**key, **c} for c in conds]
    dependence = (pd.concat(dep_frames, ignore_index=True) if dep_frames else pd.DataFrame())
    if len(dependence):
        dependence = dependence[["scenario", "variant", "metric", "parameter", "method", "index", "conf", "S1",
                                 "S1_conf", "rho", "chance", "distinct", "rank"]]
    return RobustnessResult(
        experiment=str(results.manifest.get("name", "")), design=str(design["type"]),
        parameters=parameters.reset_index(drop=True), samples=samples, effects=effects.reset_index(drop=True),
        spread=pd.DataFrame(spread_rows), dependence=dependence,
        regions=pd.DataFrame(region_rows, columns=list(REGION_COLUMNS)),
        conditions=pd.DataFrame(cond_rows, columns=list(CONDITION_COLUMNS)), prim_note=prim_note,
        thresholds=limits)


# --------------------------------------------------------------------------------------
# the whole analysis: sweep, analyse, write
# --------------------------------------------------------------------------------------


def robustness(experiment: str | Path | Mapping[str, Any], samples: int, out: str | Path | None = None,
               jobs: int = 1, parameters: Sequence[str] | None = None, design: str = "lhs", replicates: int = 1,
               seed: int | None = None, metrics: Sequence[str] | None = None,
               thresholds: Sequence[str] | Mapping[str, float] | float | None = None, backend: str = "loky",
               scheduler: str | None = None, progress: bool = True, restart: bool = False,
               prim: bool = True) -> tuple[Path, RobustnessResult]:
    """Sweep an experiment's variants over a sample of the assumption register, analyse it and write the results.

    The folder ``out`` (default ``results/<experiment name>-robustness``) receives ``sweep/`` (the
    results folder of the samples: resumable, running the same call again finishes it) and the
    tables of :class:`RobustnessResult` as Parquet and CSV (``samples``, ``effects``, ``spread``,
    ``dependence``, ``regions``, ``conditions``), ``findings.json`` and ``summary.txt``, each
    written atomically.

    Args:
        experiment: An experiment file, a bundled experiment name or a mapping, without a design.
        samples: See :func:`robustness_experiment`.
        out: The robustness folder.
        jobs: Parallel workers.
        parameters: Register keys or patterns to vary.
        design: ``"lhs"`` or ``"sobol"``.
        replicates: Replicates at each sample.
        seed: The experiment seed (default: the experiment's).
        metrics: The metrics (default: the headline metrics).
        thresholds: See :func:`parse_thresholds`.
        backend: ``"loky"`` or ``"dask"``.
        scheduler: A dask scheduler address.
        progress: Show the sweep's progress bar.
        restart: Delete the sweep of the samples first.
        prim: Look for failure regions.

    Returns:
        The folder and the :class:`RobustnessResult`.
    """
    from ..runs.results import results_folder
    from ..runs.store import load
    from ..runs.sweep import sweep

    exp, chosen = robustness_experiment(experiment, samples, parameters=parameters, design=design,
                                        replicates=replicates, seed=seed)
    folder = Path(out) if out is not None else results_folder(exp.name)
    sweep(exp, out=folder / SWEEP_DIR, jobs=jobs, backend=backend, scheduler=scheduler, progress=progress,
          restart=restart)
    result = analyse(load(folder / SWEEP_DIR), parameters=chosen, metrics=metrics, thresholds=thresholds,
                     seed=exp.seed % 2**32, prim=prim)
    write_robustness(result, folder)
    return folder, result


def write_robustness(result: RobustnessResult, folder: str | Path) -> list[Path]:
    """Write the tables (Parquet and CSV), ``findings.json`` and ``summary.txt`` of a result, atomically."""
    from ..atomic import write_parquet, write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("parameters", "samples", "effects", "spread", "dependence", "regions", "conditions"):
        df = getattr(result, name)
        if name == "parameters":
            df = df.assign(**{c: df[c].map(lambda v: json.dumps(v, ensure_ascii=False)) for c in ("value", "default")
                              if c in df.columns})
        write_parquet(folder / f"{name}.parquet", df)
        write_text(folder / f"{name}.csv", df.to_csv(index=False))
        written += [folder / f"{name}.parquet", folder / f"{name}.csv"]
    write_text(folder / "findings.json", json.dumps(result.findings(), ensure_ascii=False, indent=1))
    write_text(folder / "summary.txt", format_robustness(result) + "\n")
    return written + [folder / "findings.json", folder / "summary.txt"]


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return f"mapping of {len(value)}"
    if isinstance(value, (list, tuple)):
        return f"list of {len(value)}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_register(register: pd.DataFrame, show_value: bool = False) -> str:
    """Format the assumption register (:func:`kyojosim.params.scenario.assumption_register`) as a text table.

    Columns: key, (value in the scenario, when ``show_value``), default, plausible range (``×lo-hi`` for
    a factor applied to every element of a list or mapping), unit and basis. Lists and mappings are
    shown by their size; the CSV (``kyojosim assumptions --csv``) has them in full.
    """
    rows = []
    for r in register.to_dict("records"):
        rng = (f"×{r['plausible_lo']:g}-{r['plausible_hi']:g}" if r["scale"] == "factor"
               else f"{r['plausible_lo']:g}-{r['plausible_hi']:g}")
        cells = [r["key"], *([_short(r["value"])] if show_value else []), _short(r["default"]), rng, r["unit"] or "",
                 r["basis"]]
        rows.append(cells)
    head = ["key", *(["value"] if show_value else []), "default", "plausible", "unit", "basis"]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(head)]
    widths[-1] = 0
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return "\n".join([fmt(head), *(fmt(row) for row in rows)])


def register_csv(register: pd.DataFrame) -> str:
    """Return the register as CSV text, lists and mappings written as JSON."""
    df = register.copy()
    for c in ("value", "default"):
        df[c] = df[c].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list, tuple)) else v)
    return df.to_csv(index=False)


def _num(metric: str, x: float | None, signed: bool = True) -> str:
    if x is None or x != x:
        return "—"
    v = x * display_factor(metric)
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def _bound(x: float) -> str:
    return f"{x:.3g}"


def format_robustness(result: RobustnessResult, top: int = 3) -> str:
    """Write the text summary of a robustness analysis (English).

    One paragraph per scenario, variant and metric: the median effect and its 5-95% range over the
    samples, the share of samples above the threshold, the assumptions the effect depends on most
    and the failure regions with their conditions.
    """
    f = result.findings(top=top)
    method = {"lhs": "Latin hypercube", "sobol": "Sobol (Saltelli) sample"}[result.design]
    dep_name = {"lhs": "RBD-FAST first-order index S1 (SALib), Spearman's rho for the direction",
                "sobol": "Sobol total index ST (SALib), Spearman's rho for the direction"}[result.design]
    lines = [f"{result.experiment}: {f['n_samples']} samples ({method}) of {len(result.parameters)} assumptions over "
             "their plausible ranges; each sample runs the baseline and every variant with the same seeds.",
             f"effect = variant - baseline at each sample (points for rates); spread = median [5%, 95%] over the "
             f"samples; dependence: {dep_name}."]
    if result.prim_note:
        lines.append(f"note: {result.prim_note}")
    for r in f["findings"]:
        m = r["metric"]
        unit = r["unit"]
        thr = _num(m, r["threshold"], signed=False)
        share = "—" if r["share_above"] is None else f"{100 * r['share_above']:.0f}%"
        lines.append("")
        lines.append(f"{r['scenario']}, {r['variant']}, {m}: median {_num(m, r['median'])} {unit} "
                     f"[{_num(m, r['p05'])}, {_num(m, r['p95'])}]; above {thr} {unit} in {share} of "
                     f"{r['n_samples']} samples ({r['holds']})")
        if r["top_assumptions"]:
            named = ", ".join(f"{a['parameter']} ({a['index']:.2f}" + (f", rho {a['rho']:+.2f})" if a["rho"] is not None
                                                                       else ")")
                              for a in r["top_assumptions"] if a["index"] is not None)
            if named:
                lines.append(f"  depends most on: {named}")
        else:
            lines.append(f"  depends most on: no assumption stands out from chance with {r['n_samples']} samples")
        for g in r["failure_regions"]:
            conds = " and ".join(
                (f"{c['parameter']} < {_bound(c['hi'])}" if c["restricted"] == "upper" else
                 f"{c['parameter']} > {_bound(c['lo'])}" if c["restricted"] == "lower" else
                 f"{_bound(c['lo'])} < {c['parameter']} < {_bound(c['hi'])}") for c in g["conditions"])
            lines.append(f"  does not help by more than {thr} {unit} when {conds} (region {g['box'] + 1}: "
                         f"{100 * g['density']:.0f}% of its {g['n']} samples fail; it holds "
                         f"{100 * g['coverage']:.0f}% of all failures)")
    return "\n".join(lines)


__all__ = ["DESIGNS", "EMA_HINT", "RobustnessError", "RobustnessResult", "analyse", "ema_available",
           "experiment_mapping", "format_register", "format_robustness", "parse_thresholds", "register_csv",
           "robustness", "robustness_experiment", "sampled_parameters", "write_robustness"]
