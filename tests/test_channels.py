"""Channels register themselves and see the model through their context."""

from __future__ import annotations

import numpy as np
import pytest

from kyojosim.aid.channels.base import CHANNEL_TYPES, STREAM_KINDS, AidContext, Channel, register_channel
from kyojosim.aid.channels.offline import OfflineChannel
from kyojosim.model import KyojoModel

ORDER = ["offline", "sharing_platform", "reporting_hub", "local_sns", "offline_events"]
"""The order of the weekly round: offline first, then the interventions as their modules register them."""


@pytest.fixture(scope="module")
def model() -> KyojoModel:
    return KyojoModel("yamae-all", seed=4, years=1, scale=0.2, agents=False)


def test_channels_are_built_in_the_order_of_registration(model):
    assert list(CHANNEL_TYPES) == ORDER
    assert [ch.name for ch in model.aid.channels] == ORDER
    assert [type(ch) for ch in model.aid.channels] == list(CHANNEL_TYPES.values())


def test_a_channel_name_is_registered_once():
    class Again(Channel):
        name = "local_sns"

    before = dict(CHANNEL_TYPES)
    with pytest.raises(ValueError, match="'local_sns' is registered twice"):
        register_channel(Again)
    assert CHANNEL_TYPES == before


def test_each_channel_gets_its_own_section_streams_and_the_others(model):
    scn = model.scenario
    offline, platform, hub, sns, events = model.aid.channels
    assert offline.cfg is scn.helping and sns.cfg is scn.interventions.local_sns
    assert platform.cfg is scn.interventions.sharing_platform and hub.cfg is scn.interventions.reporting_hub
    assert events.cfg is scn.interventions.offline_events
    ctx = sns.ctx
    assert ctx.population is model.population and ctx.ties is model.ties and ctx.money is model.aid.money
    assert ctx.year == model.year and ctx.step == model.steps and ctx.meeting_log is model.meeting_log
    assert isinstance(ctx.channel("offline"), OfflineChannel) and ctx.channel("nonexistent") is None
    for kind in STREAM_KINDS:
        got = ctx.rng(kind, 7).random(4)
        assert np.array_equal(got, model.streams.fresh(f"{kind}_local_sns", 7).random(4)), kind
    with pytest.raises(KeyError, match="surfaces"):
        ctx.rng("surfaces", 7)


def test_the_local_sns_raises_offline_asking_through_the_context(scenario_from):
    scn = scenario_from(interventions__local_sns__enabled=True, interventions__local_sns__start_year=2015,
                        communities__local_sns_share=0.3, municipality__scale=0.2)
    m = KyojoModel(scn, seed=2, years=1, agents=False)
    offline, sns = m.aid.channel("offline"), m.aid.channel("local_sns")
    assert sns.active() and offline.ask_boost is not None
    adopters = sns.adopters
    assert adopters.any()
    assert np.array_equal(offline.ask_boost, np.where(adopters, scn.interventions.local_sns.awareness_boost, 0.0))


def test_a_new_channel_is_one_class_and_one_decorator(yamae):
    """A channel registered elsewhere joins every model built afterwards, after the bundled ones."""
    calls: list[tuple] = []

    class Noticeboard(Channel):
        """A notice board at the community centre (for this test: it only records what the round asks of it)."""

        name = "test_noticeboard"

        def refresh(self):
            calls.append(("refresh", self.ctx.year, self.ctx.population.n))

        def yearly(self, year, rng):
            calls.append(("yearly", year, rng.random(), self.ctx.rng("yearly", year).random()))

        def surface(self, slot, category, rng):
            calls.append(("surface", self.ctx.step, slot.size))
            return super().surface(slot, category, rng)

    register_channel(Noticeboard)
    try:
        m = KyojoModel(yamae, seed=1, years=1, scale=0.2, agents=False)
        board = m.aid.channel("test_noticeboard")
        assert [ch.name for ch in m.aid.channels] == [*ORDER, "test_noticeboard"]
        assert isinstance(board.ctx, AidContext) and board.cfg is None
        while m.running:
            m.step()
    finally:
        del CHANNEL_TYPES["test_noticeboard"]
    assert list(CHANNEL_TYPES) == ORDER
    refreshes = [c for c in calls if c[0] == "refresh"]
    assert [c[1] for c in refreshes] == [2015, 2016]  # at the start and after the turn of the year
    (yearly,) = [c for c in calls if c[0] == "yearly"]
    assert yearly[1] == 2015 and yearly[2] == yearly[3]  # its own stream yearly_test_noticeboard of 2015
    assert [c[1] for c in calls if c[0] == "surface"] == list(range(1, m.steps + 1))  # every week
