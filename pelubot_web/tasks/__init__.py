"""RQ job functions, grouped by topic. Each takes ids, opens its own session, is idempotent.

- ``calendar``: make Google match one reservation (the push side of calendar sync).
- ``pull``: import busy blocks from a stylist's calendar (the pull side).
- ``dispatcher``: the periodic loop that feeds the queue and recovers lost work.
"""
