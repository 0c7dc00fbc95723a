"""Community Value: the local SNS's KPI (the PIAZZA case), computed monthly from the user graph.

PIAZZA and Koto ward manage their partnership against a "Community Value" computed from the
number of unique connections between users, the month's activity (posts, comments, likes) and the
number of active users (DOMAIN notes, Koto case; the exact formula is not published). The model
records it in the week each calendar month ends (and at the end of a run), and counts, over the
weeks since the last record (``interventions.local_sns``):

* **posts**: needs posted on the SNS (:meth:`~kyojosim.aid.channels.local_sns.LocalSNSChannel.surface`, logged in the
  channel's :class:`~kyojosim.aid.channels.local_sns.ActivityLog`) plus
  information posts (local news, events, hand-me-downs): each adopter posts a Poisson number with
  mean ``posts_per_user_month`` (:func:`information_posts`);
* **replies**: a helper's answer to each need matched through the SNS, plus replies to posts: each
  adopter tied to a poster (any tie) replies to each of that poster's posts with probability
  ``reply_rate`` (:func:`thinned`);
* **reactions** (likes): likewise, with probability ``reaction_rate`` per post of a tied adopter;
* **monthly active users** (MAU): adopters who posted, replied or reacted;
* **unique connections**: pairs of adopters who are tied (any kind of tie: on a local SNS one sees
  and is seen by one's acquaintances), counted once; **active connections**: those whose two ends
  were both active in the month.

and combines them as::

    community_value = active_connections × activity / MAU      (0 when MAU is 0)

with ``activity = posts + replies + reactions``: the connections among the month's active users,
weighted by how much an active user does. Doubling the active graph, or the activity per active
user, doubles the value; members who never act add nothing. This combination is the model's own
(a documented choice in the absence of the published formula); every component is recorded
beside it, so a user can judge the KPI against matching rates and つながり力 (the ``community_value``
table of a run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..core.communities import ONLINE_BIT

if TYPE_CHECKING:
    from ..aid.channels.local_sns import LocalSNSChannel
    from ..model import KyojoModel



def information_posts(rng: np.random.Generator, users: int, mean: float) -> np.ndarray:
    """Return the information posts of each of ``users`` users: independent Poisson counts with mean ``mean``.

    Drawn as the total, Poisson with mean ``users × mean``, each post then given to a user drawn uniformly at
    random: given their total, independent Poisson counts of equal means are multinomial with equal shares, so
    this is the same joint distribution as a Poisson draw per user, at the cost of the posts alone.
    """
    total = int(rng.poisson(mean * users)) if users else 0
    return np.bincount(rng.integers(0, users, total), minlength=users) if total else np.zeros(users, dtype=np.int64)


THINNING_BLOCK = 512
"""Posts seen answered with one uniform in :func:`thinned` (a row with more takes one uniform per block)."""


def thinned(rng: np.random.Generator, exposure: np.ndarray, p: float) -> np.ndarray:
    """Return ``Binomial(exposure[i], p)`` for every ``i``: each of the ``exposure[i]`` posts seen answered w.p. ``p``.

    Independent binomial draws per row, by inversion: one uniform for each row with posts seen (one per
    :data:`THINNING_BLOCK` posts of a row with more; the blocks' counts add up to the row's binomial), turned
    into a count by the binomial's cumulative probabilities (compiled,
    :func:`~kyojosim.measures.community_value_kernel.binomial_counts`). The cost follows the rows, not the
    posts; the number of uniforms does not depend on ``p``, and a higher ``p`` answers at least as many
    posts of every row (for ``p`` up to 1/2) with the same uniforms.
    """
    from .community_value_kernel import binomial_counts, blocks

    exposure = np.asarray(exposure, dtype=np.int64)
    u = rng.random(int(blocks(exposure, THINNING_BLOCK)))
    return binomial_counts(exposure, float(p), u, THINNING_BLOCK)


def monthly_record(model: KyojoModel, channel: LocalSNSChannel, rng: np.random.Generator) -> dict[str, Any]:
    """Compute the month's Community Value and its components (see the module docstring).

    The users' information posts, replies and reactions are drawn by :func:`information_posts` and
    :func:`thinned` (draws that touch the month's posts, not every resident); the counts are taken over the
    users in two compiled passes (:mod:`kyojosim.measures.community_value_kernel`).

    Returns:
        A row of the ``community_value`` table (:data:`kyojosim.measures.outcomes.TABLES`).
    """
    from .community_value_kernel import month_totals, user_exposures

    cfg = channel.cfg
    pop = model.population
    n = pop.n
    poster, replier = channel.activity.take_slots(pop)
    users = pop.alive[:n] & ((pop.online & ONLINE_BIT["local_sns"]) > 0)
    # everything below is counted over the users, numbered 0..u-1 in slot order; the ties among them likewise
    # (kept while the users and the network stay the same, new ties added)
    # (the ties of the columns and the new ones of the buffer, in two parts)
    (a_u, b_u), (a_new, b_new) = model.ties.pairs_among_parts(users, numbered=True)
    rank = model.ties.rank_among(users)  # each user's number
    n_u = int(rank[-1]) + 1 if rank.size else 0
    poster, replier = poster[users[poster]], replier[users[replier]]
    need_u = np.bincount(rank[poster], minlength=n_u)
    answers = np.bincount(rank[replier], minlength=n_u)
    info = information_posts(rng, n_u, cfg.posts_per_user_month)
    # each tied adopter sees every post of the other: exposures in both directions
    posts, exposure = user_exposures(need_u, info, a_u, b_u, a_new, b_new)
    every = np.ones(n_u, dtype=bool)
    replies = thinned(rng, exposure, cfg.reply_rate) + answers
    reactions = thinned(rng, exposure, cfg.reaction_rate)
    n_users, mau, n_posts, n_need_posts, n_replies, n_reactions, activity, active_conn = (
        int(v) for v in month_totals(every, need_u, posts, replies, reactions, a_u, b_u, a_new, b_new))
    value = active_conn * activity / mau if mau else 0.0
    return {"step": int(model.steps), "year": int(model.year), "month": model.month, "users": n_users,
            "mau": mau, "posts": n_posts, "need_posts": n_need_posts, "replies": n_replies,
            "reactions": n_reactions, "activity": activity, "unique_connections": int(a_u.size + a_new.size),
            "active_connections": active_conn, "community_value": float(value)}


def kpi_table(result) -> pd.DataFrame:
    """Put Community Value beside the month's matching and つながり力, one row per record.

    Args:
        result: A :class:`~kyojosim.runs.results.RunResult` (or anything with ``to_pandas(name)``).

    Returns:
        The ``community_value`` table with, for the weeks of its month (the ``steps`` rows with the
        record's ``month``): ``needs_matched``, ``needs_lapsed`` and ``matched_local_sns`` (their
        sums), the month's ``matching_rate`` (matched / (matched + lapsed)) and ``tsunagari_mean``
        (mean つながり力 of residents 20+ at the record). Empty when no local SNS ran.
    """
    cv = result.to_pandas("community_value")
    steps = result.to_pandas("steps")
    tsu = result.to_pandas("tsunagari")
    if cv.empty:
        return cv.assign(needs_matched=[], needs_lapsed=[], matched_local_sns=[], matching_rate=[],
                         tsunagari_mean=[])
    weeks = steps[steps["step"] > 0]  # step 0 is the initial state, not a week
    sums = weeks.groupby("month")[["needs_matched", "needs_lapsed", "matched_local_sns"]].sum()
    out = cv.merge(sums, left_on="month", right_index=True, how="left")
    done = out["needs_matched"] + out["needs_lapsed"]
    out["matching_rate"] = np.where(done > 0, out["needs_matched"] / done.where(done > 0, 1), np.nan)
    mean = tsu[tsu["group_type"] == "all"].set_index("step")["mean"]
    out["tsunagari_mean"] = out["step"].map(mean)
    return out
