"""Channels: how a need reaches someone who could help.

A channel decides which new needs it *surfaces* (makes known to possible helpers) and, for the
open needs it surfaced, proposes *candidate* helpers with a weight. The offline channel is always
on (:mod:`~kyojosim.aid.channels.offline`). The ICT channels of 図表4-3-4-1 are interventions, each
in its own module and switched on by the scenario's ``interventions`` section: the paid sharing
platform (:mod:`~kyojosim.aid.channels.sharing_platform`), the reporting hub
(:mod:`~kyojosim.aid.channels.reporting_hub`), and the local SNS and offline meetups
(:mod:`~kyojosim.aid.channels.local_sns`).

Each channel class registers itself with :func:`~kyojosim.aid.channels.base.register_channel`
when its module is imported; importing this package imports them in the order of the weekly round,
so :func:`~kyojosim.aid.channels.base.build_channels` always sees the whole registry. A new
channel is one module, one scenario section and one decorator, plus its line below.
"""

from . import offline, sharing_platform, reporting_hub, local_sns  # noqa: F401, I001  (registration order)
from .base import CHANNEL_TYPES, AidContext, Channel, DistrictPools, build_channels, register_channel

__all__ = ["CHANNEL_TYPES", "AidContext", "Channel", "DistrictPools", "build_channels", "register_channel"]
