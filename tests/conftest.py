"""Shared fixtures of the foundation tests: the bundled ``yamae`` scenario and small hand-built ones."""

from __future__ import annotations

import copy
import gc
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

from kyojosim.constants import N_AGE_BANDS
from kyojosim.core.streams import Streams
from kyojosim.core.synthesis import synthesize
from kyojosim.model import KyojoModel
from kyojosim.params.scenario import SCENARIO_DIR, Scenario, load_scenario

YAMAE_PATH = SCENARIO_DIR / "yamae.yaml"

# The property tests draw the same examples on every run ("default": a failing run can be repeated, and the
# suite passes or fails for the code, not the draw); `pytest --hypothesis-profile=explore` draws new ones
# each run and more of them, to look for cases the fixed draw does not reach.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500, print_blob=True)
settings.load_profile("default")

# The suite's processes compile the kernels they call themselves (numba, cached on disk), as they always did:
# no run or sweep of a test starts a child to compile them all ahead (tests/test_kernels.py tests that).
os.environ["KYOJOSIM_COMPILE_AHEAD"] = "0"


@pytest.fixture(scope="session", autouse=True)
def scenario_cache(tmp_path_factory):
    """Scenarios of municipalities built during the tests go to a temporary folder, never to the user's cache.

    Loading an experiment that names municipalities builds one of them (to check its variants), and a
    sweep of one builds each; tests that need a cache of their own set ``KYOJOSIM_CACHE_DIR`` again.
    """
    folder = tmp_path_factory.mktemp("kyojosim-cache")
    saved = os.environ.get("KYOJOSIM_CACHE_DIR")
    os.environ["KYOJOSIM_CACHE_DIR"] = str(folder)
    yield folder / "scenarios"
    if saved is None:
        os.environ.pop("KYOJOSIM_CACHE_DIR", None)
    else:
        os.environ["KYOJOSIM_CACHE_DIR"] = saved


@pytest.fixture(scope="session", autouse=True)
def sigint_raises_keyboard_interrupt():
    """Take SIGINT as Python does by default (``KeyboardInterrupt``), even when the suite started with it ignored.

    A process started in the background of a non-interactive shell (``make test &``, a CI step run so)
    inherits SIGINT ignored, and passes that on to every process it starts: a command line started by a
    test would then ignore a Ctrl-C too, and the tests of Ctrl-C would fail for the way the suite was
    launched. With a handler here, the processes the tests start begin with SIGINT at its default, as
    from a terminal.
    """
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="module", autouse=True)
def heap_frozen_before_each_module():
    """Collect, then freeze what is alive when a test module starts (``gc.freeze``).

    The test process holds more and more objects as the suite goes on (every module the suite imports,
    the session's fixtures, the libraries' caches: from 0.4 to 2.5 million), and a full collection walks
    them all, up to 2 s each on a busy machine; a sweep run in this process makes one after every run
    (``release_memory``). Frozen objects are out of the collector's sight, so later collections walk
    only what was made since: what the tests check is unchanged (a model a test drops is still
    collected, and ``gc.get_objects`` still lists every object made since). What a module made is
    collected at the next module's start, before the freeze (its module fixtures are torn down by then).
    """
    gc.collect()
    gc.freeze()
    yield


@pytest.fixture(scope="session")
def yamae() -> Scenario:
    """The bundled yamae scenario (3,422 residents), as loaded from its file."""
    return load_scenario("yamae")


@pytest.fixture(scope="session")
def yamae_dict(yamae: Scenario) -> dict[str, Any]:
    """The yamae scenario as plain data; copy it before changing it (see :func:`scenario_from`)."""
    return yamae.to_dict()


@pytest.fixture()
def scenario_from(yamae_dict: dict[str, Any]) -> Callable[..., Scenario]:
    """Build a scenario from the yamae data with dotted-path changes applied to a deep copy."""

    def make(changes: dict[str, Any] | None = None, **kw: Any) -> Scenario:
        data = copy.deepcopy(yamae_dict)
        return load_scenario(data, {**(changes or {}), **{k.replace("__", "."): v for k, v in kw.items()}})

    return make


def old_only_mapping(yamae_dict: dict[str, Any], persons: int = 200, multiplier: float = 5.0) -> dict[str, Any]:
    """A municipality of only 85+ residents, dying fast, with no migration at all."""
    data = copy.deepcopy(yamae_dict)
    m = data["municipality"]
    male = [0] * N_AGE_BANDS
    female = [0] * N_AGE_BANDS
    male[-1], female[-1] = persons // 2, persons - persons // 2
    m["age_structure"] = {"male": male, "female": female, "source": "test"}
    m["population"] = persons
    data["demography"]["mortality"]["multiplier"] = multiplier
    data["demography"]["migration"]["net_rate"] = [0.0] * N_AGE_BANDS
    data["demography"]["migration"]["young_shift"] = {}
    data["demography"]["migration"]["elderly_shift"] = {}
    data["demography"]["migration"]["oldest_shift"] = {}
    data["demography"]["projection"] = None
    return data


@pytest.fixture(scope="session")
def yamae_synth(yamae: Scenario):
    """The synthetic population, ties and community levels of yamae at seed 1 (do not change them)."""
    return synthesize(yamae, Streams(yamae.simulation.seed))


def step_years(model: KyojoModel, years: int, on_year: Callable[[KyojoModel], None] | None = None) -> None:
    """Step the model through ``years`` turns of the year, calling ``on_year`` after each."""
    for _ in range(years):
        target = model.year + 1
        while model.year < target:
            model.step()
            assert model.year <= target, "a step skipped a whole year"
        if on_year is not None:
            on_year(model)


def snapshot(model: KyojoModel) -> dict[str, np.ndarray]:
    """Copy the columns of living residents keyed by uid (for following residents across years)."""
    pop = model.population
    live = pop.live()
    return {
        "uid": pop.uid[live].copy(),
        "age": pop.age[live].copy(),
        "household": pop.household[live].copy(),
        "sex": pop.sex[live].copy(),
    }


@pytest.fixture(scope="session")
def yamae_run(yamae: Scenario):
    """yamae (seed 1) run for 3 years, with a snapshot taken at the start and after each year."""
    model = KyojoModel.from_scenario(yamae, years=3)
    snaps = [snapshot(model)]
    agents = [len(model.agents)]
    step_years(model, 3, lambda m: (snaps.append(snapshot(m)), agents.append(len(m.agents))))
    return model, snaps, agents


@pytest.fixture(params=["forked", "loky"])
def local_workers(request, monkeypatch) -> str:
    """Run the test with local workers forked from the test's process, then with loky's (started afresh).

    Forked even if a thread of an earlier test is still running (a progress bar's monitor, which the test's
    workers do not share). loky's workers are stopped afterwards, with the threads that keep them.
    """
    import multiprocessing

    from kyojosim.runs import executor

    executor.release_workers()
    if request.param == "forked" and "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(executor, "can_fork", lambda: request.param == "forked")
    yield request.param
    executor.release_workers()
