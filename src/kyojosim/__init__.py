"""kyojosim: agent-based simulation of mutual aid (共助) in ageing, shrinking Japanese municipalities.

Quick start::

    import kyojosim
    res = kyojosim.run("yamae", years=10, seed=1)
    res.to_pandas("years")

or from the shell: ``kyojosim run yamae --years 10``. Any municipality of Japan by code or name::

    kyojosim.municipalities()            # the 1,741, with census 2015 figures
    kyojosim.lookup("生駒市")             # or "奈良県生駒市", "Ikoma", 29209
    res = kyojosim.run("生駒市", years=5)  # its scenario built from the census and IPSS tables

or ``kyojosim new 生駒市 --out ikoma.yaml``. The bundled scenarios and experiments (package data)::

    kyojosim.scenarios()                 # yamae, ikoma, koto and their variants
    kyojosim.experiments()               # ikoma-interventions, yamae-quick, yamae-sensitivity
    kyojosim.sweep("yamae-quick")

The model description (ODD protocol) of this version: :data:`ODD_URL`; its scorecard: :data:`SCORECARD_URL`; the
documentation: :data:`DOCS_URL`.
"""

from __future__ import annotations

import multiprocessing as _mp

# ``import mesa`` imports mesa.batchrunner, which calls
# ``multiprocessing.set_start_method("spawn", force=True)`` as a side effect (mesa 3.3.1).
# Importing kyojosim must not change the process-wide start method, so put it back.
_start_method = _mp.get_start_method(allow_none=True)
import mesa  # noqa: E402, F401  (imported here, once, so that the start method can be restored)

if _mp.get_start_method(allow_none=True) != _start_method:
    _mp.set_start_method(_start_method, force=True)  # None restores "not set" (the platform default)
del _start_method

from .agents import Resident  # noqa: E402
from .distribution import DOCS_URL, ODD_URL, SCORECARD_URL  # noqa: E402
from .distribution import version as _version  # noqa: E402
from .errors import KyojoError, ScenarioError, ScenarioWarning  # noqa: E402
from .model import KyojoModel  # noqa: E402
from .params.bundled import experiments, scenarios  # noqa: E402
from .params.experiment import Experiment, load_experiment  # noqa: E402
from .params.japan import lookup, municipalities  # noqa: E402
from .params.scenario import SCENARIO_RESOLVERS as _RESOLVERS  # noqa: E402
from .params.scenario import Scenario, load_scenario  # noqa: E402
from .runs.builder import municipality_scenario as _municipality_scenario  # noqa: E402
from .runs.results import RunResult, load_run, run  # noqa: E402
from .runs.store import ExperimentResults, load  # noqa: E402
from .runs.sweep import sweep  # noqa: E402

# a name that is neither a file nor a bundled scenario may be a municipality of Japan (kyojosim.runs.builder)
if _municipality_scenario not in _RESOLVERS:
    _RESOLVERS.append(_municipality_scenario)

__version__ = _version()

__all__ = [
    "DOCS_URL",
    "ODD_URL",
    "SCORECARD_URL",
    "Experiment",
    "ExperimentResults",
    "KyojoError",
    "KyojoModel",
    "Resident",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "__version__",
    "experiments",
    "load",
    "load_experiment",
    "load_run",
    "load_scenario",
    "lookup",
    "municipalities",
    "run",
    "scenarios",
    "sweep",
]
