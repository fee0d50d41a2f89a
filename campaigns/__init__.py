"""The campaign app: a year's thematic study, what units report for it, and everything that
follows from the reports (flags, the dashboard, e-mails).

One package per job, each on its floor (docs/ARCHITECTURE.md; tests/test_layering.py holds them):

- core (this folder's modules): `models/`, `registry.py` (the rules and what each plugs in),
  `periods.py`, `selectors.py`; imports `units` and `dongda` only;
- `engine/`: flags, status rows and rollups, the engine run, /healthz;
- `mail/`: the outbox, digests, reminders, e-mail texts, the digest preview;
- `reporting/`: report forms, evidence files, the report pages and their review;
- `dashboard/`: home, overview, unit table, exports, the review queue page, the unit page;
- `rules/`: the campaign's own rules (R1, R2, R5), declared to the registry;
- `demo/`: the demo district;
- top: `apps.py`, `tasks.py`, `urls.py`, `signals.py`, `management/`.

Nothing here imports `breakthroughs`: R3 and R4 reach the machinery through the registry.
"""
