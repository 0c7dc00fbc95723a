# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Comparing interventions in 山江村 (Yamae village)
#
# This notebook runs the quick Yamae experiment (`experiments/yamae-quick.yaml`: the baseline and
# the interventions it lists, a few replicates with shared seeds), loads its results, compares
# every variant with the baseline run by run (paired within scenario, design point and
# replicate; 95% paired bootstrap intervals), draws the figures and writes the HTML report.
#
# Run it as a script from the repository root (`python experiments/notebook_comparison.py`) or
# open it as a notebook with jupytext. The results go to a temporary folder unless the
# environment variable `KYOJOSIM_NOTEBOOK_OUT` names one.

# %%
import os
import tempfile
from pathlib import Path

import kyojosim
from kyojosim.analysis.compare import compare, format_comparison
from kyojosim.present import figures
from kyojosim.present.report import write_report

HERE = Path(globals().get("__file__", "experiments/notebook_comparison.py")).resolve().parent
EXPERIMENT = HERE / "yamae-quick.yaml"
OUT = Path(os.environ.get("KYOJOSIM_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="kyojosim-notebook-")) / "yamae-quick"

# %% [markdown]
# ## Run the sweep and load the results
#
# `kyojosim.sweep` runs every variant for every replicate (two workers here) and writes one
# results folder; `kyojosim.load` reads it back as tidy tables (`design`, `summary`, `steps`,
# `tsunagari`, `age_structure`, `money`, ...).

# %%
folder = kyojosim.sweep(EXPERIMENT, out=OUT, jobs=2)
results = kyojosim.load(folder)
print(f"results: {folder}")
print(f"variants: {', '.join(results.variants)} (baseline: {results.baseline})")
print(results.design[["run_id", "variant", "replicate", "seed", "status", "intervention_start"]].to_string(index=False))

# %% [markdown]
# ## Paired comparison with the baseline
#
# One row per variant and metric: the means over the paired runs, their difference and its 95%
# interval. Matching rates are shares (0-1); the printed table shows them in percent and their
# differences in percentage points.

# %%
comparison = compare(results, n_boot=2000, seed=0)
headline = ["matching_rate", "matching_rate_age_75plus", "tsunagari_mean", "needs_matched",
            "paid_by_requesters", "subsidy"]
print(format_comparison(comparison, headline))
comparison.head(12)

# %% [markdown]
# ## Figures
#
# Each function returns a matplotlib Figure (shown inline in a notebook) and saves a PNG when
# given `path`. `lang="en"` gives English labels.

# %%
fig_dir = folder / "figures"
fig_dir.mkdir(exist_ok=True)
fig = figures.timeseries(results, "matching_rate", lang="ja", path=fig_dir / "timeseries.png")
fig  # noqa: B018  (shown inline in a notebook)

# %%
fig = figures.comparison_chart(comparison, lang="ja", baseline=results.baseline, path=fig_dir / "comparison.png")
fig  # noqa: B018  (shown inline in a notebook)

# %%
fig = figures.tsunagari_by_group(results, lang="ja", path=fig_dir / "tsunagari_by_group.png")
fig  # noqa: B018  (shown inline in a notebook)

# %%
fig = figures.population_pyramid(results, lang="ja", path=fig_dir / "population_pyramid.png")
fig  # noqa: B018  (shown inline in a notebook)

# %% [markdown]
# ## The report
#
# One self-contained HTML file per language (figures embedded), inside the results folder.

# %%
for lang in ("ja", "en"):
    print(f"report: {write_report(results, folder / f'report-{lang}.html', lang=lang)}")
print(f"figures: {', '.join(sorted(p.name for p in fig_dir.glob('*.png')))} in {fig_dir}")
