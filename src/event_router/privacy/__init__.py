"""Learners' privacy: what the router keeps of them, and forgetting them on request (OEP-26).

`screen` is applied to every event at ingest, whatever its source: it drops the fields the
operator named and the events of retired (forgotten) learners. `forget` removes a learner from
every store the router keeps.
"""
