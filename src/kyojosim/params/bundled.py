"""The scenarios and experiments that ship with kyojosim, as tables.

They are package data (``kyojosim/data/scenarios/*.yaml`` and ``kyojosim/data/experiments/*.yaml``):
any of them can be named without a path (``kyojosim run yamae``, ``kyojosim sweep ikoma-interventions``,
``kyojosim.run("ikoma")``). ``kyojosim scenarios`` and ``kyojosim experiments`` print these tables;
copy a file (the ``file`` column) to start one of your own.
"""

from __future__ import annotations

import pandas as pd

from .experiment import EXPERIMENT_DIR, INTERVENTION_NAMES, load_experiment
from .scenario import SCENARIO_DIR, load_scenario


def scenarios() -> pd.DataFrame:
    """Return the bundled scenarios.

    Returns:
        One row per scenario: ``name`` (what to pass to ``kyojosim run``), ``municipality`` and
        ``municipality_en``, ``population`` (census, at ``start_year``), ``scale`` (fraction of
        residents simulated), ``start_year``, ``years``, ``interventions`` (those switched on, with
        their start year) and ``description``, and ``file``.
    """
    rows = []
    for path in sorted(SCENARIO_DIR.glob("*.yaml"), key=lambda p: p.stem):
        scn = load_scenario(path)
        mun = scn.municipality
        on = [f"{name} {getattr(scn.interventions, name).start_year}" for name in INTERVENTION_NAMES
              if getattr(scn.interventions, name).enabled]
        rows.append({"name": path.stem, "municipality": mun.name, "municipality_en": mun.name_en,
                     "population": int(mun.population), "scale": float(mun.scale), "start_year": int(mun.start_year),
                     "years": int(scn.simulation.years), "interventions": ", ".join(on),
                     "description": scn.description, "file": str(path)})
    return pd.DataFrame(rows, columns=["name", "municipality", "municipality_en", "population", "scale", "start_year",
                                       "years", "interventions", "description", "file"])


def experiments() -> pd.DataFrame:
    """Return the bundled experiments.

    Returns:
        One row per experiment: ``name`` (what to pass to ``kyojosim sweep``), ``scenarios``,
        ``variants`` (the baseline first), ``design`` (its type), ``replicates``, ``years``, ``runs``
        (scenarios x variants x design points x replicates), ``description`` and ``file``.
    """
    rows = []
    for path in sorted(EXPERIMENT_DIR.glob("*.yaml"), key=lambda p: p.stem):
        exp = load_experiment(path)
        named = list(exp.spec["scenarios"])
        if exp.municipalities:
            named.append(f"{len(exp.municipalities):,} municipalities ({exp.spec['municipalities']['selection']})")
        rows.append({"name": exp.name, "scenarios": ", ".join(named),
                     "variants": ", ".join(exp.variants), "design": exp.design.get("type", "none"),
                     "replicates": exp.replicates, "years": exp.spec["years"], "runs": len(exp.runs),
                     "description": exp.spec["description"], "file": str(path)})
    return pd.DataFrame(rows, columns=["name", "scenarios", "variants", "design", "replicates", "years", "runs",
                                       "description", "file"])


__all__ = ["experiments", "scenarios"]
