"""The deadline engine and the status rows: which flags are open on a day (asked of every rule,
opened and closed in a few statements per kind), the `UnitStatus` row per unit and its rollups
that every dashboard figure comes from, R1's reference SQL, the record of each engine run and
/healthz.

May import the campaign's core (models, registry, periods, selectors), `units` and `dongda`.
"""
