"""A district office or Standing Committee role can only be held on the root unit (depth 1).

A CHECK constraint cannot read another table, so triggers hold the rule: one on the assignments
(a district role given on, or moved to, a unit below the root) and one on the units (a unit that
holds a district role moved under another unit: treebeard changes a moved subtree's depth with
an UPDATE, which the trigger sees). `Assignment.clean` says the same to a person, in their
language; these are for every other path (bulk writes, raw SQL, a bug).
"""

from django.db import migrations

# The SQL is written out in full (no string building): Role.DISTRICT_STAFF and
# Role.STANDING_COMMITTEE are 'district_staff' and 'standing_committee'.
POSTGRESQL = [
    """
    CREATE FUNCTION units_assignment_district_role_on_root() RETURNS trigger AS $$
    BEGIN
        IF NEW.role IN ('district_staff', 'standing_committee')
           AND (SELECT depth FROM units_unit WHERE id = NEW.unit_id) <> 1 THEN
            RAISE EXCEPTION 'district roles are held on the root unit only'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER units_assignment_district_role_on_root
    BEFORE INSERT OR UPDATE ON units_assignment
    FOR EACH ROW EXECUTE FUNCTION units_assignment_district_role_on_root()
    """,
    """
    CREATE FUNCTION units_unit_keeps_district_roles_on_root() RETURNS trigger AS $$
    BEGIN
        IF NEW.depth <> 1 AND EXISTS (
            SELECT 1 FROM units_assignment
            WHERE unit_id = NEW.id AND role IN ('district_staff', 'standing_committee')
        ) THEN
            RAISE EXCEPTION 'district roles are held on the root unit only'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER units_unit_keeps_district_roles_on_root
    BEFORE UPDATE OF depth ON units_unit
    FOR EACH ROW WHEN (NEW.depth <> OLD.depth)
    EXECUTE FUNCTION units_unit_keeps_district_roles_on_root()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS units_unit_keeps_district_roles_on_root ON units_unit",
    "DROP FUNCTION IF EXISTS units_unit_keeps_district_roles_on_root()",
    "DROP TRIGGER IF EXISTS units_assignment_district_role_on_root ON units_assignment",
    "DROP FUNCTION IF EXISTS units_assignment_district_role_on_root()",
]

# SQLite: RAISE(ABORT, …) is a constraint error, which Django raises as an IntegrityError.
_ASSIGNMENT_CHECK = """
    FOR EACH ROW WHEN NEW.role IN ('district_staff', 'standing_committee')
    AND (SELECT depth FROM units_unit WHERE id = NEW.unit_id) <> 1
    BEGIN SELECT RAISE(ABORT, 'district roles are held on the root unit only'); END
"""
SQLITE = [
    "CREATE TRIGGER units_assignment_district_role_on_root_insert "
    "BEFORE INSERT ON units_assignment" + _ASSIGNMENT_CHECK,
    "CREATE TRIGGER units_assignment_district_role_on_root_update "
    "BEFORE UPDATE ON units_assignment" + _ASSIGNMENT_CHECK,
    """
    CREATE TRIGGER units_unit_keeps_district_roles_on_root
    BEFORE UPDATE OF depth ON units_unit
    FOR EACH ROW WHEN NEW.depth <> 1 AND EXISTS (
        SELECT 1 FROM units_assignment
        WHERE unit_id = NEW.id AND role IN ('district_staff', 'standing_committee')
    )
    BEGIN SELECT RAISE(ABORT, 'district roles are held on the root unit only'); END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS units_unit_keeps_district_roles_on_root",
    "DROP TRIGGER IF EXISTS units_assignment_district_role_on_root_update",
    "DROP TRIGGER IF EXISTS units_assignment_district_role_on_root_insert",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"district roles on the root: no triggers for {schema_editor.connection.vendor}"
            )
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0003_user_phone"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
