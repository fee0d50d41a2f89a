"""Trigram indexes for the unit table's search, on PostgreSQL.

The search looks for the folded words anywhere in a name (`search_name LIKE '%to dan pho%'`), and
for the English name the same way, ignoring case (`UPPER(name_en) LIKE UPPER('%…%')`, what
Django's `icontains` writes). A B-tree cannot serve a pattern that starts with `%`, so at 100,000
units each search read the whole table (236 ms a page); a GIN index of trigrams (pg_trgm) serves
LIKE with the needle anywhere. The second index is on the very expression the query compares, or
the planner would not use it. Needles shorter than three characters have no trigram: those read
the table, which is what they did before.

SQLite has neither the extension nor GIN indexes, and needs none at the sizes it serves (the
demo, the tests): nothing is done there. The indexes are not declared in the model's Meta for the
same reason (Django would try to build them on SQLite too); a test in
tests/campaigns/dashboard/test_unit_table_search.py checks that they exist after migrate on
PostgreSQL, and that the search's query can be answered from them.
"""

from django.db import migrations

#: Names of the indexes, for the reverse and the tests.
SEARCH_NAME_INDEX = "unit_search_name_trgm"
NAME_EN_INDEX = "unit_name_en_upper_trgm"

FORWARD = [
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {SEARCH_NAME_INDEX} ON units_unit "
    "USING gin (search_name gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS {NAME_EN_INDEX} ON units_unit "
    "USING gin ((UPPER(name_en::text)) gin_trgm_ops)",
]
# The extension stays: something else may have come to use it since.
REVERSE = [
    f"DROP INDEX IF EXISTS {NAME_EN_INDEX}",
    f"DROP INDEX IF EXISTS {SEARCH_NAME_INDEX}",
]


def _on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0004_district_roles_on_root"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(REVERSE)),
    ]
