"""The seeded baseline summary: a fixed run whose summary the tests compare exactly.

Run ``.venv/bin/python tests/baseline.py`` to rewrite ``tests/data/baseline_summary.json`` on purpose,
after a change of behaviour that is meant to change the numbers (say why in the commit).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "data" / "baseline_summary.json"
SCENARIO, SEED, YEARS = "yamae-all", 11, 3
"""Every channel of the village for three years: demography, community dynamics, mutual aid, money, つながり力."""


def _round(x: float) -> float:
    # 10 significant digits: the same on any machine (principal components use LAPACK)
    return float(f"{float(x):.10g}")


def summary() -> dict[str, Any]:
    """Run the baseline and summarise it (integers exact, floats to 10 significant digits)."""
    from kyojosim import run

    res = run(SCENARIO, seed=SEED, years=YEARS)
    years = res.to_pandas("years")
    needs = res.to_pandas("needs")
    money = res.to_pandas("money")
    tsu = res.to_pandas("tsunagari")
    last = tsu[(tsu["step"] == tsu["step"].max()) & (tsu["group_type"] == "participation")]
    return {
        "scenario": SCENARIO, "seed": SEED, "years": YEARS,
        "population": [int(v) for v in years["population"]],
        "participation": {c: [int(v) for v in years[c]] for c in years.columns if c.startswith("part_")},
        "ties": [int(v) for v in years["ties"]],
        "needs": {k: int(needs[k].sum()) for k in ("arisen", "surfaced", "matched", "lapsed")},
        "matched_by_category": {str(c): int(v) for c, v in needs.groupby("category")["matched"].sum().items()},
        "money": {k: int(money[k].sum()) for k in ("paid_by_requesters", "subsidy", "received_by_helpers")}
        if len(money) else {},
        "tsunagari_last": {str(g): _round(v) for g, v in zip(last["group"], last["mean"], strict=True)
                           if not np.isnan(v)},
    }


def main() -> int:
    data = summary()
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    tmp = BASELINE.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(BASELINE)
    print(f"wrote {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
