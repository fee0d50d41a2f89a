"""`manage.py backup` and `manage.py restore` (dongda/backup.py): nothing is lost.

The PostgreSQL tests run the commands as a deployment would, in fresh processes against
databases of their own (named dongda_backup_…, dropped afterwards): the demo district with
evidence files is backed up, restored into a new database and folder, and every table, sequence
and file is compared with the original. The others run in this process on the test database,
whichever engine it is.
"""

import hashlib
import re
import shutil
import sqlite3
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from campaigns.models import StudySession
from dongda import backup
from dongda.backup import BackupError, backup_create, backup_prune, backup_restore
from tests.conftest import require
from tests.factories import StudySessionFactory
from tests.processes import START_DJANGO, runner

PDF = b"%PDF-1.4\n% minutes of the session\n"

# The demo in a database of its own, in one process (each one costs seconds to start): migrated,
# seeded (40 units, built at once rather than replayed, to keep this test short), then what the
# demo lacks: evidence on a few reports of each kind that takes a file, a file no row names (an
# upload whose row never committed), and an issued official report, whose DOCX and PDF are bytes
# in the database.
SEED_DEMO = f"""{START_DJANGO}
import os
from datetime import date
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from breakthroughs.models import ProgressReport
from campaigns.models import Campaign, ImplementationPlan, OfficialReport, StudySession
from units.models import Unit, User

call_command("migrate", verbosity=0)
call_command("seed_demo", units=40, replay=False)

def content(head, size):
    return ContentFile(head + os.urandom(size))

for index, item in enumerate(StudySession.objects.order_by("pk")[:4]):
    item.minutes.save(f"bien-ban-{{index}}.pdf", content(b"%PDF-1.4\\n", 3000 + index), save=True)
plan = ImplementationPlan.objects.order_by("pk").first()
plan.document.save("ke-hoach.docx", content(b"PK\\x03\\x04", 5000), save=True)
for item in ProgressReport.objects.order_by("pk")[:2]:
    item.evidence.save("anh.jpg", content(b"\\xff\\xd8\\xff", 4000), save=True)
from django.core.files.storage import default_storage
default_storage.save("campaigns/studysession/orphan.pdf", content(b"%PDF-1.4\\n", 100))
committee = Unit.objects.filter(depth=2).order_by("code").first()
OfficialReport.objects.create(
    campaign=Campaign.objects.get(), unit=committee, state="issued", as_of=date(2024, 6, 30),
    dated=date(2024, 7, 1), number="7", superior_body="Quận ủy Đống Đa",
    issuing_body=str(committee), number_suffix="BC/ĐU", place="Đống Đa",
    title="Báo cáo kết quả", created_by=User.objects.get(username="vanphong"),
    snapshot={{"as_of": "2024-06-30"}}, docx=b"PK\\x03\\x04" + os.urandom(3000),
    pdf=b"%PDF-1.4\\n" + os.urandom(3000), issued_at=timezone.now(),
)
"""


# PostgreSQL: databases of our own on the test server


def target(name: str) -> dict:
    """A DATABASES entry for one of our databases, for restoring in this process."""
    s = server()
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "HOST": s["host"],
        "PORT": s["port"],
        "USER": s["user"],
        "PASSWORD": s["password"],
    }


def server() -> dict:
    settings = connection.settings_dict
    return {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"] or "postgres",
        "password": settings["PASSWORD"] or "",
    }


def database_url(name: str) -> str:
    s = server()
    return f"postgres://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{name}"


def connect(name: str):
    s = server()
    link = psycopg2.connect(
        dbname=name, host=s["host"], port=s["port"], user=s["user"], password=s["password"]
    )
    link.autocommit = True
    return link


def create_database(role: str) -> str:
    name = f"dongda_backup_{role}_{uuid.uuid4().hex[:8]}"
    link = connect("postgres")
    try:
        with link.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        link.close()
    return name


def drop_database(name: str) -> None:
    link = connect("postgres")
    try:
        with link.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        link.close()


TABLE_DIGEST = (
    """SELECT COUNT(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "{table}" t"""
)


def table_digests(name: str) -> dict[str, tuple[int, str | None]]:
    """(rows, md5 of all rows in a fixed order) of every table in the public schema."""
    link = connect(name)
    try:
        with link.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            digests = {}
            for (table,) in cursor.fetchall():
                cursor.execute(TABLE_DIGEST.format(table=table))
                digests[table] = cursor.fetchone()
            return digests
    finally:
        link.close()


def sequence_values(name: str) -> dict[str, int | None]:
    """Where every sequence stands: a restored one behind the original would hand out ids
    that are taken."""
    link = connect(name)
    try:
        with link.cursor() as cursor:
            cursor.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
            return dict(cursor.fetchall())
    finally:
        link.close()


def schema(name: str) -> str:
    """The schema as pg_dump writes it (tables, constraints, indexes), without comments."""
    s = server()
    result = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", f"--dbname={name}"],
        env={
            "PGHOST": s["host"],
            "PGPORT": str(s["port"]),
            "PGUSER": s["user"],
            "PGPASSWORD": s["password"],
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    # Comments name the database; \restrict carries a random key on each run.
    return "\n".join(
        line
        for line in result.stdout.splitlines()
        if not line.startswith(("--", "\\restrict", "\\unrestrict"))
    )


def file_digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def checked(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# Migrating a fresh PostgreSQL database and seeding the demo takes a minute alone, and two or
# three while the rest of the suite runs beside it.
SLOW = 600


@dataclass
class Demo:
    database: str
    evidence: Path
    archive: Path
    folder: Path
    output: str

    def run(self, *args: str, **variables: str) -> subprocess.CompletedProcess:
        return runner(self.folder, timeout=SLOW)(*args, **variables)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo district in a PostgreSQL database of its own, with evidence files, and its
    backup by `manage.py backup`."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL=postgres://…)")
    folder = tmp_path_factory.mktemp("backup")
    run = runner(folder, timeout=SLOW)
    name = create_database("source")
    try:
        source = {"DATABASE_URL": database_url(name), "VAR_DIR": str(folder / "var")}
        checked(run("-c", SEED_DEMO, SECRET_KEY="test-backup", **source))
        archive = folder / "demo.tar"
        made = checked(run("manage.py", "backup", f"--output={archive}", **source))
        yield Demo(
            database=name,
            evidence=folder / "var" / "evidence",
            archive=archive,
            folder=folder,
            output=made.stdout,
        )
    finally:
        drop_database(name)


@pytest.fixture
def empty_database():
    name = create_database("target")
    yield name
    drop_database(name)


@pytest.fixture(scope="module")
def refusing_database(demo):
    """An empty database the refusal tests share (each checks it is still empty): creating and
    dropping one costs PostgreSQL a checkpoint, seconds on a busy machine."""
    name = create_database("refusing")
    yield name
    drop_database(name)


def restore(demo: Demo, archive: Path, database: str, var: Path) -> subprocess.CompletedProcess:
    return demo.run(
        "manage.py", "restore", str(archive), DATABASE_URL=database_url(database), VAR_DIR=str(var)
    )


@pytest.mark.postgres
def test_restore_brings_back_every_table_sequence_and_evidence_file(demo, empty_database, tmp_path):
    assert re.search(r"demo\.tar: [\d,]+ bytes", demo.output), demo.output
    assert "8 files" in demo.output  # 4 minutes, a plan, 2 progress reports' photos, an orphan
    with tarfile.open(demo.archive) as tar:
        names = tar.getnames()
    assert names[0] == "database.pgdump" and names[-2:] == ["manifest.json", "manifest.json.sha256"]

    result = restore(demo, demo.archive, empty_database, tmp_path / "var")

    checked(result)
    assert "checked   every table's row count and every file's sha256" in result.stdout
    original = table_digests(demo.database)
    restored = table_digests(empty_database)
    assert set(restored) == set(original)
    assert original["campaigns_officialreport"][0] == 1 and original["units_unit"][0] == 40
    differ = sorted(table for table in original if restored[table] != original[table])
    assert differ == []
    assert sequence_values(empty_database) == sequence_values(demo.database)
    assert schema(empty_database) == schema(demo.database)
    original_files = file_digests(demo.evidence)
    assert len(original_files) == 8
    assert file_digests(tmp_path / "var" / "evidence") == original_files
    assert "migrate" not in result.stdout  # the backup is at the code's migrations


def flip_a_byte(archive: Path, member: str, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        info = tar.getmember(member)
    data = bytearray(archive.read_bytes())
    data[info.offset_data + info.size // 2] ^= 0x01
    into.write_bytes(bytes(data))
    return into


@pytest.mark.postgres
@pytest.mark.parametrize("member", ["database.pgdump", "evidence", "manifest.json"])
def test_a_corrupted_archive_is_refused_before_anything_is_written(
    demo, refusing_database, tmp_path, member
):
    if member == "evidence":
        with tarfile.open(demo.archive) as tar:
            member = next(n for n in tar.getnames() if n.startswith("evidence/"))
    corrupted = flip_a_byte(demo.archive, member, tmp_path / "corrupted.tar")

    with pytest.raises(BackupError) as refused:
        backup_restore(archive=corrupted, database=target(refusing_database), root=tmp_path / "e")

    assert "nothing was restored" in str(refused.value)
    if member == "manifest.json":
        assert "its manifest does not match its checksum" in str(refused.value)
    else:
        assert f"{member}: its sha256 differs from the manifest's" in str(refused.value)
    assert table_digests(refusing_database) == {}
    assert list(tmp_path.iterdir()) == [corrupted]


@pytest.mark.postgres
def test_restore_into_a_database_with_tables_is_refused_and_changes_nothing(demo, tmp_path):
    before = table_digests(demo.database)

    result = restore(demo, demo.archive, demo.database, tmp_path / "var")

    assert result.returncode == 1
    assert re.search(
        r"is not empty: it has \d+ tables .* \d+ migrations are applied", result.stderr
    )
    assert table_digests(demo.database) == before
    assert not (tmp_path / "var").exists()


@pytest.mark.postgres
def test_restore_into_a_folder_with_files_is_refused_and_changes_nothing(
    demo, refusing_database, tmp_path
):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "kept.pdf").write_bytes(PDF)

    with pytest.raises(BackupError, match=f"the evidence folder {evidence} is not empty"):
        backup_restore(archive=demo.archive, database=target(refusing_database), root=evidence)

    assert table_digests(refusing_database) == {}
    assert file_digests(evidence) == {"kept.pdf": hashlib.sha256(PDF).hexdigest()}


# Any engine, in this process


def session_with_minutes(district, campaign) -> StudySession:
    session = StudySessionFactory(campaign=campaign, unit=district.cell, held_on=date(2024, 3, 5))
    session.minutes.save("bien-ban.pdf", ContentFile(PDF), save=True)
    return session


@pytest.mark.django_db(transaction=True)
def test_a_file_the_rows_name_and_the_disk_lacks_fails_the_backup(
    district, campaign, tmp_path, settings
):
    session = session_with_minutes(district, campaign)
    Path(session.minutes.path).unlink()
    output = tmp_path / "backups" / "lost.tar"

    with pytest.raises(BackupError) as refused:
        backup_create(output=output, pause=0)

    assert f"campaigns.studysession #{session.pk} minutes" in str(refused.value)
    assert "3 snapshots" in str(refused.value) and "--allow-missing" in str(refused.value)
    assert list(output.parent.iterdir()) == []  # no archive, no leftovers

    made = backup_create(output=output, allow_missing=True)
    assert made.missing == [
        {"name": session.minutes.name, "rows": [f"campaigns.studysession #{session.pk} minutes"]}
    ]
    assert backup.archive_verify(output)["evidence"]["files"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_file_replaced_during_the_backup_is_taken_from_a_new_snapshot(
    district, campaign, tmp_path, monkeypatch
):
    """Evidence replaced after the dump's snapshot is removed from the disk once the change
    commits: the dump names a file that is gone, so that attempt is thrown away."""
    session = session_with_minutes(district, campaign)
    old_name = session.minutes.name
    walk = backup._stored_files
    calls = []

    def replace_then_walk(root):
        if not calls:
            session.minutes.save("bien-ban-moi.pdf", ContentFile(PDF + b"v2"), save=True)
            (root / old_name).unlink()
        calls.append(root)
        return walk(root)

    monkeypatch.setattr(backup, "_stored_files", replace_then_walk)

    made = backup_create(output=tmp_path / "replaced.tar", pause=0)

    assert made.attempts == 2
    files = made.manifest["files"]
    assert f"evidence/{session.minutes.name}" in files
    assert f"evidence/{old_name}" not in files
    assert made.manifest["evidence"]["missing"] == []


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite path; PostgreSQL's is the tests above"
)
@pytest.mark.django_db(transaction=True)
def test_sqlite_round_trip_and_no_restore_across_engines(district, campaign, tmp_path):
    session = session_with_minutes(district, campaign)
    archive = tmp_path / "sqlite.tar.gz"
    made = backup_create(output=archive)
    assert made.manifest["database"]["engine"] == "sqlite"
    target = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "restored.db")}

    backup_restore(archive=archive, database=target, root=tmp_path / "restored")

    # Read as Django reads its own connection (declared types converted), so rows compare equal.
    restored = sqlite3.connect(
        target["NAME"], detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    with connection.cursor() as cursor:
        tables = backup._tables(cursor, "sqlite")
        assert tables == backup._tables(restored.cursor(), "sqlite")
        assert "campaigns_studysession" in tables
        for table in tables:
            query = f'SELECT * FROM "{table}"'  # noqa: S608 (a name from the catalogue)
            cursor.execute(query)
            original = sorted(map(tuple, cursor.fetchall()), key=repr)
            assert sorted(restored.execute(query).fetchall(), key=repr) == original, table
    restored.close()
    assert file_digests(tmp_path / "restored") == {
        session.minutes.name: hashlib.sha256(PDF).hexdigest()
    }

    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "dongda_backup_never"}
    with pytest.raises(BackupError, match="holds a SQLite database and the target is PostgreSQL"):
        backup_restore(archive=archive, database=postgres, root=tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_keep_deletes_only_the_oldest_archives_backup_named(tmp_path):
    names = [
        "dongda-20240101-020000.tar",
        "dongda-20240102-020000.tar.gz",
        "dongda-20240103-020000.tar",
        "dongda-20240104-020000.tar",
        "notes.txt",
        "dongda-manual.tar",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")

    deleted = backup_prune(folder=tmp_path, keep=2)

    assert [path.name for path in deleted] == names[:2]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[2:])


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    archive = tmp_path / "other.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(__file__, arcname="../../etc/passwd")
    with pytest.raises(BackupError, match="which no backup writes"):
        backup.archive_verify(archive)
    shutil.copy(__file__, archive)
    with pytest.raises(BackupError, match="cannot be read as a tar archive"):
        backup.archive_verify(archive)
