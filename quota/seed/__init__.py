"""The demo company generator behind `quota seed`: a plausible, reproducible sales organisation.

`seed_company(size=..., seed=..., today=...)` fills an empty database with two years of
history ending today: teams and people, companies and contacts, leads, deals with their
stage history, quotes, orders, invoices, activities, service cases, surveys and campaigns.
The same seed and date always give the same data, on SQLite and PostgreSQL alike.

Modules, in the order the data is drawn: sizes, clock, randomness, reference (rows the
migrations create), people, customers, marketing, leads, deals, history, sales, activities,
service, backlog (the work waiting today); profiles holds the behavioural knobs, vocabulary
the words; world puts the tables in order; columns, writers and database do the writing;
runner ties it together. After the records (and their KPI rollups), `quota seed` adds the
targets (targets) and the early warnings the product raises about them (early_warnings).

The package is also a Django app (for the `quota seed` command), so importing it must not import models:
callers import from quota.seed.runner.
"""
