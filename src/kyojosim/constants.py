"""Fixed vocabularies of the model: age bands, household kinds, community kinds."""

from __future__ import annotations

import numpy as np

AGE_BAND_WIDTH = 5
N_AGE_BANDS = 18
"""0-4, 5-9, ..., 80-84 and an open band 85+ (the census tables' common layout)."""
AGE_BAND_LABELS: tuple[str, ...] = tuple(f"{5 * i}-{5 * i + 4}" for i in range(N_AGE_BANDS - 1)) + ("85+",)


def age_band(age: np.ndarray) -> np.ndarray:
    """Return the index of the 5-year band (0..17) of each age."""
    return np.minimum(np.asarray(age) // AGE_BAND_WIDTH, N_AGE_BANDS - 1).astype(np.int64)


SEXES = ("male", "female")
MALE, FEMALE = 0, 1

HOUSEHOLD_KINDS: tuple[str, ...] = (
    "single_elderly",
    "elderly_couple",
    "couple_only",
    "couple_with_children",
    "single_parent",
    "single_adult",
    "three_generation",
)
"""Household kinds that matter for mutual aid. ``couple_only`` is a couple under 65 without
children at home; ``three_generation`` also takes other multi-adult households."""
HH = {name: i for i, name in enumerate(HOUSEHOLD_KINDS)}

ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_ELDER = 0, 1, 2, 3
ROLES = ("head", "spouse", "child", "elder")

OFFLINE_COMMUNITIES: tuple[str, ...] = (
    "neighbourhood_association",
    "pta",
    "agricultural_trade_group",
    "labour_union",
    "coop_consumer_group",
    "volunteer_group",
    "civic_movement",
    "religious_group",
    "alumni",
    "workplace_friends",
)
"""The ten kinds of real-world community of 図表4-3-3-2 (sns_use_in_offline_communities.csv)."""

ONLINE_COMMUNITIES: tuple[str, ...] = ("local_sns", "feed_groups", "plaza_boards")
"""Online communities: a local SNS (PIAZZA-like), feed-type groups (LINE groups and the like,
フィード型) and plaza-type boards (広場型), after 図表4-3-3-1."""

PARTICIPATION_GROUPS: tuple[str, ...] = ("none", "offline_only", "both", "online_only")
"""Columns of community_participation_all_ages.csv (図表4-3-5-2)."""

TIE_HOUSEHOLD, TIE_NEIGHBOUR, TIE_COMMUNITY, TIE_ONLINE = 1, 2, 4, 8
"""Tie kinds are bit flags: one tie may be, say, both a community and an online tie."""
TIE_KINDS = {"household": TIE_HOUSEHOLD, "neighbour": TIE_NEIGHBOUR, "community": TIE_COMMUNITY, "online": TIE_ONLINE}

CATEGORIES: tuple[str, ...] = (
    "chores",
    "mobility",
    "shopping",
    "information",
    "sick_care",
    "family_care",
    "childcare",
    "consultation",
)
"""The eight kinds of everyday trouble (困りごと) of 図表4-3-4-2 and 4-3-4-3."""
CAT = {name: i for i, name in enumerate(CATEGORIES)}

WILL_NONE, WILL_FREE, WILL_PAID = 0, 1, 2
"""Willingness of a resident to help with a category: not at all, free, or only if paid."""

CHANNELS: tuple[str, ...] = ("offline", "local_sns", "sharing_platform", "reporting_hub")
"""How a need reaches a helper. ``offline`` is always on; the others are interventions."""
CH = {name: i for i, name in enumerate(CHANNELS)}

REQUESTER_AGE_GROUPS: tuple[str, ...] = ("under65", "65to74", "75plus")
"""Age groups of requesters in the mutual-aid measures (the white paper's concern: residents 75+)."""


REQUESTER_AGE_EDGES: tuple[int, int] = (65, 75)
"""The ages at which the second and the third of REQUESTER_AGE_GROUPS begin."""


def requester_age_group(age: np.ndarray) -> np.ndarray:
    """Return the index into REQUESTER_AGE_GROUPS of each age."""
    young, old = REQUESTER_AGE_EDGES
    return (np.asarray(age) >= young).astype(np.int64) + (np.asarray(age) >= old)


AID_MEMBER, AID_CERTIFIED, AID_REPORTER, AID_VOLUNTEER = 1, 2, 4, 8
"""Bits of the ``aid_role`` column: a registered member of the sharing platform (asks and offers help
through it), a certified supporter of it (AsMama's ママサポ), a district reporter of the reporting hub
(情報化推進員), a volunteer on the reporting hub's roster (a what-if; none by default)."""
