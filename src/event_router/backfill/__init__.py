"""Backfill: replay historic tracking logs (plain, gzip, local or S3) into chosen consumers.

Operators moving to the router, or adding an LRS, want years of `tracking.log` files in it. A
backfill reads them in file order, translates on every core, and sends large batches straight to
the consumers named — never through the journal, never to any other consumer — with the live
delivery's retries, splitting and dead letters. Per-file checkpoints let an interrupted run resume;
statement ids are deterministic, so running it again is harmless.
"""

from event_router.backfill.job import Job, JobError, run_job
from event_router.backfill.report import Report

__all__ = ["Job", "JobError", "Report", "run_job"]
