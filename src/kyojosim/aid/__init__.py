"""The weekly round of mutual aid: needs, helpers, matching, payments, and the channels.

ODD: the weekly submodels (needs arise, surface through channels, are matched or lapse).
"""
