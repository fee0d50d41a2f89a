"""Backup and restore: the database and the evidence files in one archive, and back again.

A backup is about the whole deployment, so it lives on the bottom floor and names no app: the
tables come from the database's own catalogue and the files a row refers to from the models'
FileFields (django.apps). `campaigns/management/commands/backup.py` and `restore.py` call it.

The archive is one tar (gzip when its name ends in .gz or .tgz, which saves little: the dump is
compressed already, and evidence is PDF, DOCX, XLSX, JPG and PNG), members in this order:

    database.pgdump or database.sqlite3  `pg_dump --format=custom`, or SQLite's backup-API copy
    evidence/<stored name>               every file under the default storage's folder
    manifest.json                        what the archive holds, with a sha256 and size for
                                         every member above (written last, once they are known)
    manifest.json.sha256                 the manifest's own sha256, so a changed byte in it is
                                         caught like one anywhere else

The official reports' issued DOCX and PDF are bytes in the database (OfficialReport.docx, .pdf),
so they travel in the dump. Nothing else under VAR_DIR is data: `imports/` holds uploads for a
few minutes between preview and confirmation, `celery/` and `celerybeat-schedule` are the
embedded broker's queue and beat's state, `staticfiles/` is rebuilt by collectstatic.

Consistency. On PostgreSQL the backup opens a REPEATABLE READ transaction, exports its snapshot
and runs pg_dump on that snapshot; in the same snapshot it reads the row counts, the migrations
and every file name a row refers to, so the manifest describes exactly what the dump holds. On
SQLite the backup API copies the database in one step and the same things are read from the
copy. The evidence folder is walked only once the dump is complete. A file is written before the
row that names it commits and is never rewritten in place (stored names are opaque and new on
every upload: `evidence_path`), so every file the dump refers to exists by then, unless it was
removed after the snapshot was taken (replaced or deleted evidence is removed from disk once the
change commits). Such a file would be a loss in the restored copy, a row whose file is gone, so
the attempt is thrown away and taken again on a new snapshot, which no longer names the file.
After ATTEMPTS attempts that each miss a file the rows still name, the file is not being
replaced but is gone from the disk: the backup fails, naming the rows, and writes no archive, so
that older archives, which may still hold the file, are not rotated away by a run that lacks it
(`allow_missing` takes the backup anyway and lists the missing files in the manifest). Files that
no row of the dump names (an upload whose row committed after the snapshot, the file of a
replaced report) are archived too: harmless, and the evidence folder comes back as it was. Rows
of the history tables (django-simple-history) keep old file names as text, not as FileFields: a
file they name may have been removed on purpose and is not required.

Restore reads the whole archive and checks every checksum before it writes anything, writes only
into an empty database and an empty (or missing) evidence folder, and checks the row counts and
every file's checksum again once it is done. It restores into the engine the archive was made
on; a PostgreSQL archive into SQLite or the reverse is refused.
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import tomllib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import psycopg2
from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "dongda-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.json.sha256"
EVIDENCE = "evidence"
DUMPS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
#: Snapshots tried before a file the rows name and the disk lacks is taken for lost.
ATTEMPTS = 3
#: The name `backup` gives an archive by default, and the only files `backup_prune` deletes.
ARCHIVE_NAME = re.compile(r"dongda-\d{8}-\d{6}\.(tar|tar\.gz|tgz)")
CHUNK = 1024 * 1024
#: A manifest lists every file in a line or two; one bigger than this is not ours.
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
#: Django's connection settings and the libpq keyword and environment variable of each.
LIBPQ_SETTINGS = {
    "NAME": ("dbname", "PGDATABASE"),
    "USER": ("user", "PGUSER"),
    "PASSWORD": ("password", "PGPASSWORD"),
    "HOST": ("host", "PGHOST"),
    "PORT": ("port", "PGPORT"),
}
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Checked:
    sha256: str
    size: int

    def entry(self) -> dict:
        return {"sha256": self.sha256, "size": self.size}


@dataclass
class Snapshot:
    """What one consistent view of the database holds, read alongside its dump."""

    engine: str
    server_version: str
    tables: dict[str, int]
    migrations: dict[str, str]
    #: stored file name -> the rows that name it ("campaigns.studysession #12 minutes")
    references: dict[str, list[str]]


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict
    attempts: int
    seconds: float

    @property
    def missing(self) -> list[dict]:
        return self.manifest["evidence"]["missing"]


@dataclass
class RestoreResult:
    manifest: dict
    database: str
    evidence_root: Path
    seconds: float
    #: migrations the code has and the restored database has not applied (run `migrate`)
    pending_migrations: list[str] = field(default_factory=list)


# Where things are


def evidence_root() -> Path:
    """The folder evidence files are stored in: the default storage's, PRIVATE_MEDIA_ROOT."""
    storage = storages["default"]
    if not isinstance(storage, FileSystemStorage):
        raise BackupError(
            f"the default storage is {type(storage).__name__}; backup copies a folder on this "
            "machine (FileSystemStorage) and knows no other"
        )
    return Path(storage.location)


def default_output() -> Path:
    """VAR_DIR/backups/dongda-YYYYmmdd-HHMMSS.tar, in the deployment's time zone."""
    folder = Path(settings.BACKUP_DIR)
    return folder / f"dongda-{timezone.localtime():%Y%m%d-%H%M%S}.tar"


def size_text(size: int) -> str:
    """A size for a person reading a command's output (in English, as commands write)."""
    value, unit = float(size), "bytes"
    for bigger in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def engine_of(database: dict) -> str:
    engine = database.get("ENGINE") or ""
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"backup and restore know PostgreSQL and SQLite, not {engine!r}")


def _database_label(database: dict) -> str:
    if engine_of(database) == "sqlite":
        return str(database["NAME"])
    host = database.get("HOST") or "localhost"
    port = database.get("PORT") or 5432
    return f"{database['NAME']} on {host}:{port}"


# PostgreSQL connections and tools


def _libpq_params(database: dict) -> dict[str, str]:
    params = {
        keyword: str(database[key])
        for key, (keyword, _variable) in LIBPQ_SETTINGS.items()
        if database.get(key)
    }
    options = database.get("OPTIONS") or {}
    params.update({key: str(options[key]) for key in LIBPQ_OPTIONS if options.get(key)})
    return params


def _libpq_environment(database: dict) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the connection comes in PG* variables, so the
    password is never on a command line, where `ps` would show it to every user."""
    environment = dict(os.environ)
    for key, (_keyword, variable) in LIBPQ_SETTINGS.items():
        if database.get(key):
            environment[variable] = str(database[key])
    options = database.get("OPTIONS") or {}
    for key, variable in LIBPQ_OPTIONS.items():
        if options.get(key):
            environment[variable] = str(options[key])
    return environment


def _pg_connect(database: dict, *, hint: str = ""):
    try:
        return psycopg2.connect(**_libpq_params(database))
    except psycopg2.OperationalError as exc:
        raise BackupError(
            f"cannot connect to the database {_database_label(database)}: {str(exc).strip()}{hint}"
        ) from None


def _pg_tool(tool: str, arguments: list[str], database: dict) -> None:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(
            f"{tool} is not installed; it comes with the PostgreSQL client of the server's "
            "version or newer (Debian: apt install postgresql-client-15)"
        )
    result = subprocess.run(
        [path, *arguments],
        env=_libpq_environment(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()}")


# Reading a database: tables, counts, migrations, file references


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor, engine: str) -> list[str]:
    if engine == "postgresql":
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' "
            "ESCAPE '!' ORDER BY name"
        )
    return [row[0] for row in cursor.fetchall()]


def _row_counts(cursor, engine: str) -> dict[str, int]:
    counts = {}
    for table in _tables(cursor, engine):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 (a catalogue name)
        counts[table] = cursor.fetchone()[0]
    return counts


def _latest_migrations(cursor, tables: Iterable[str]) -> dict[str, str]:
    """The latest migration applied per app (migration names are numbered, so the greatest)."""
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, MAX(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(cursor.fetchall())


def _file_fields() -> list[tuple[str, str, str, str]]:
    """(table, primary key column, file column, label) of every FileField of a concrete model.
    Historical models are left out by themselves: django-simple-history turns a FileField into
    a TextField there."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        for model_field in meta.local_concrete_fields:
            if isinstance(model_field, models.FileField):
                label = f"{meta.label_lower} #{{pk}} {model_field.name}"
                found.append((meta.db_table, meta.pk.column, model_field.column, label))
    return found


def _file_references(cursor, tables: Iterable[str]) -> dict[str, list[str]]:
    references: dict[str, list[str]] = {}
    present = set(tables)
    for table, pk, column, label in _file_fields():
        if table not in present:
            continue
        cursor.execute(
            f"SELECT {_quote(pk)}, {_quote(column)} FROM {_quote(table)} "  # noqa: S608
            f"WHERE {_quote(column)} IS NOT NULL AND {_quote(column)} <> '' "
            f"ORDER BY {_quote(pk)}"
        )
        for key, name in cursor.fetchall():
            references.setdefault(name, []).append(label.format(pk=key))
    return references


def _read_snapshot(cursor, engine: str, server_version: str) -> Snapshot:
    tables = _row_counts(cursor, engine)
    return Snapshot(
        engine=engine,
        server_version=server_version,
        tables=tables,
        migrations=_latest_migrations(cursor, tables),
        references=_file_references(cursor, tables),
    )


# The dump


def _dump_postgresql(database: dict, path: Path) -> Snapshot:
    connection = _pg_connect(database)
    try:
        # The counts and file names below and pg_dump all see this one snapshot: the manifest
        # describes exactly the dump, whatever commits meanwhile.
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot_id, server_version = cursor.fetchone()
            _pg_tool(
                "pg_dump",
                [
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-password",  # fail, rather than wait for a password no one will type
                    f"--file={path}",
                    f"--dbname={database['NAME']}",
                ],
                database,
            )
            return _read_snapshot(cursor, "postgresql", server_version)
    finally:
        connection.close()


def _dump_sqlite(using: str, path: Path) -> Snapshot:
    connection = connections[using]
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    try:
        # One step (pages=-1) under one read lock: a consistent copy even while the web app and
        # the worker write.
        connection.connection.backup(copy)
        cursor = copy.cursor()
        return _read_snapshot(cursor, "sqlite", sqlite3.sqlite_version)
    finally:
        copy.close()


# Files


def _safe_name(name: str) -> PurePosixPath | None:
    """The relative path a stored name or a member name stands for, or None if it could leave
    its folder (absolute, `..`, empty parts)."""
    if not name or "\x00" in name or "\\" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in {"", ".", ".."} for part in name.split("/")):
        return None
    return path


def _stored_files(root: Path) -> set[str]:
    """Every regular file under the evidence folder, as its storage name."""
    if not root.is_dir():
        return set()
    found = set()
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                found.add(path.relative_to(root).as_posix())
    return found


class _Hashing:
    """A reader that hashes what passes through it (tarfile reads a member's bytes from it)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha.update(data)
        self.size += len(data)
        return data

    def checked(self) -> Checked:
        return Checked(self.sha.hexdigest(), self.size)


def _add(tar: tarfile.TarFile, name: str, handle: BinaryIO, size: int, mtime: float) -> Checked:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    # The archive holds private files and password hashes: only its owner may read its members.
    info.mode = 0o600
    reader = _Hashing(handle)
    tar.addfile(info, reader)
    return reader.checked()


def _add_file(tar: tarfile.TarFile, name: str, handle: BinaryIO) -> Checked:
    status = os.fstat(handle.fileno())
    return _add(tar, name, handle, status.st_size, status.st_mtime)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> Checked:
    return _add(tar, name, io.BytesIO(data), len(data), time.time())


def _hash_stream(handle: BinaryIO) -> Checked:
    sha, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return Checked(sha.hexdigest(), size)


def _copy_checked(source: BinaryIO, target: Path) -> Checked:
    sha, size = hashlib.sha256(), 0
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return Checked(sha.hexdigest(), size)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# Backup


def _app_version() -> dict:
    version = commit = None
    try:
        project = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text("utf-8"))
        version = project["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode == 0:
            commit = result.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass  # a deployment without git, or not a checkout: the version alone
    return {"version": version, "git_commit": commit}


def _write_archive(
    partial: Path,
    *,
    compress: bool,
    dump: Path,
    snapshot: Snapshot,
    root: Path,
    database: dict,
    allow_missing: bool,
) -> tuple[dict, dict[str, list[str]]]:
    """Writes the archive to `partial`; returns its manifest and the referenced files found
    missing (the caller throws the archive away when there are any it may not lack)."""
    for name in snapshot.references:
        if _safe_name(name) is None:
            rows = ", ".join(snapshot.references[name])
            raise BackupError(f"{rows} names the file {name!r}, outside the evidence folder")
    files: dict[str, Checked] = {}
    missing: dict[str, list[str]] = {}
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        with tarfile.open(
            fileobj=raw, mode="w:gz" if compress else "w", format=tarfile.PAX_FORMAT
        ) as tar:
            with dump.open("rb") as handle:
                files[dump.name] = _add_file(tar, dump.name, handle)
            # Walked now that the dump is complete: every file its rows name was written before
            # they committed, so it is here unless it was removed after the snapshot.
            names = _stored_files(root) | set(snapshot.references)
            for name in sorted(names):
                try:
                    handle = (root / name).open("rb")
                except FileNotFoundError:
                    if name in snapshot.references:
                        missing[name] = snapshot.references[name]
                    continue  # a file no row of the dump names, removed meanwhile: not needed
                with handle:
                    files[f"{EVIDENCE}/{name}"] = _add_file(tar, f"{EVIDENCE}/{name}", handle)
            if missing and not allow_missing:
                return {}, missing
            evidence = [checked for name, checked in files.items() if name != dump.name]
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "app": _app_version(),
                "database": {
                    "engine": snapshot.engine,
                    "server_version": snapshot.server_version,
                    "name": Path(str(database["NAME"])).name,
                    "dump": dump.name,
                },
                "migrations": snapshot.migrations,
                "tables": snapshot.tables,
                "evidence": {
                    "files": len(evidence),
                    "bytes": sum(checked.size for checked in evidence),
                    "referenced": len(snapshot.references),
                    "missing": [
                        {"name": name, "rows": rows} for name, rows in sorted(missing.items())
                    ],
                },
                "files": {name: checked.entry() for name, checked in files.items()},
            }
            data = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
            _add_bytes(tar, MANIFEST, data)
            _add_bytes(tar, MANIFEST_SUM, f"{hashlib.sha256(data).hexdigest()}\n".encode())
        raw.flush()
        os.fsync(raw.fileno())
    return manifest, missing


def backup_create(
    *,
    output: Path,
    using: str = DEFAULT_DB_ALIAS,
    allow_missing: bool = False,
    pause: float = 1.0,
) -> BackupResult:
    """Writes one archive of the database `using` and the evidence folder to `output`, which
    must not exist. Written to a hidden file beside it and renamed once complete, so `output`
    is either a whole archive or absent."""
    started = time.monotonic()
    database = connections[using].settings_dict
    engine = engine_of(database)
    root = evidence_root()
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} exists already; a backup never overwrites one")
    if output.resolve().is_relative_to(root.resolve()):
        raise BackupError(f"{output} is inside the evidence folder {root}; choose another place")
    output.parent.mkdir(parents=True, exist_ok=True)
    compress = output.name.endswith((".gz", ".tgz"))
    missing: dict[str, list[str]] = {}
    for attempt in range(1, ATTEMPTS + 1):
        # Beside the output, so the finished archive is renamed into place, never copied.
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=".dongda-backup-") as work:
            dump = Path(work) / DUMPS[engine]
            if engine == "postgresql":
                snapshot = _dump_postgresql(database, dump)
            else:
                snapshot = _dump_sqlite(using, dump)
            partial = Path(work) / "archive.partial"
            manifest, missing = _write_archive(
                partial,
                compress=compress,
                dump=dump,
                snapshot=snapshot,
                root=root,
                database=database,
                allow_missing=allow_missing,
            )
            if not missing or allow_missing:
                os.replace(partial, output)
                _fsync_folder(output.parent)
                return BackupResult(
                    path=output,
                    size=output.stat().st_size,
                    manifest=manifest,
                    attempts=attempt,
                    seconds=time.monotonic() - started,
                )
        if attempt < ATTEMPTS:
            # A file replaced or deleted after the snapshot: the next snapshot no longer names it.
            time.sleep(pause)
    lines = "\n".join(f"  {name} ({', '.join(rows)})" for name, rows in sorted(missing.items()))
    raise BackupError(
        f"no backup written: {len(missing)} file(s) the database refers to are missing from "
        f"{root}, on each of {ATTEMPTS} snapshots, so they are not being replaced but are gone "
        f"from the disk:\n{lines}\nOlder backups may still hold them. To back up without them "
        "(listed in the manifest), run backup --allow-missing."
    )


def backup_prune(*, folder: Path, keep: int) -> list[Path]:
    """Deletes all but the `keep` newest archives named as `backup` names them in `folder`;
    returns what it deleted. Any other file is left alone."""
    # The name holds the time it was made, so the names sort from the oldest.
    archives = sorted(
        (path for path in Path(folder).iterdir() if ARCHIVE_NAME.fullmatch(path.name)),
        key=lambda path: path.name,
    )
    doomed = archives[: max(len(archives) - keep, 0)]
    for path in doomed:
        path.unlink()
    return doomed


# Restore


def _bad(path: Path, problem: str) -> BackupError:
    return BackupError(f"{path} is refused, nothing was restored: {problem}")


def _member_allowed(name: str) -> bool:
    if name in {MANIFEST, MANIFEST_SUM, *DUMPS.values()}:
        return True
    head, _, rest = name.partition("/")
    return head == EVIDENCE and _safe_name(rest) is not None


def archive_verify(path: Path) -> dict:
    """Reads the whole archive and returns its manifest once every member is where the manifest
    says, with its size and sha256, and nothing else is there. Writes nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    seen: dict[str, Checked] = {}
    extra: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                name = member.name
                if not member.isreg() or not _member_allowed(name):
                    raise _bad(path, f"it holds {name!r}, which no backup writes")
                if name in seen or name in extra:
                    raise _bad(path, f"it holds {name!r} twice")
                handle = tar.extractfile(member)
                if name in {MANIFEST, MANIFEST_SUM}:
                    if member.size > MANIFEST_MAX_BYTES:
                        raise _bad(path, f"its {name} is {member.size:,} bytes, far too big")
                    extra[name] = handle.read()
                else:
                    seen[name] = _hash_stream(handle)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _bad(path, f"it cannot be read as a tar archive ({exc})") from None
    if MANIFEST not in extra or MANIFEST_SUM not in extra:
        raise _bad(path, "it has no manifest (not a backup, or cut short)")
    data = extra[MANIFEST]
    if extra[MANIFEST_SUM].decode("ascii", "replace").strip() != hashlib.sha256(data).hexdigest():
        raise _bad(path, "its manifest does not match its checksum (corrupted)")
    try:
        manifest = json.loads(data)
        expected = {name: Checked(e["sha256"], e["size"]) for name, e in manifest["files"].items()}
        fmt, version = manifest["format"], manifest["format_version"]
        engine, dump = manifest["database"]["engine"], manifest["database"]["dump"]
        if not isinstance(manifest["tables"], dict) or not isinstance(manifest["migrations"], dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _bad(path, "its manifest cannot be read") from None
    if fmt != FORMAT:
        raise _bad(path, f"it is not a backup of this app (format {fmt!r})")
    if version != FORMAT_VERSION:
        raise _bad(
            path, f"it is format version {version}; this code reads version {FORMAT_VERSION}"
        )
    problems = []
    for name, checked in expected.items():
        if name not in seen:
            problems.append(f"{name}: missing from the archive")
        elif seen[name].size != checked.size:
            problems.append(
                f"{name}: {seen[name].size:,} bytes, the manifest says {checked.size:,}"
            )
        elif seen[name].sha256 != checked.sha256:
            problems.append(f"{name}: its sha256 differs from the manifest's (corrupted)")
    problems += [f"{name}: not in the manifest" for name in sorted(set(seen) - set(expected))]
    if dump != DUMPS.get(engine) or dump not in expected:
        problems.append(f"the manifest names no database dump it lists ({dump!r})")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise _bad(path, f"{len(problems)} problem(s):\n  {shown}{more}")
    return manifest


def _not_empty_database(database: dict, engine: str) -> str | None:
    """Why the target database is not empty, or None. Empty means no table, view or sequence
    at all, hence no migration applied: pg_restore creates the schema itself, and a database
    `migrate` has run on already has rows (content types, permissions) and would clash."""
    found: dict[str, list[str]] = {}
    if engine == "sqlite":
        target = Path(database["NAME"])
        if not target.exists():
            return None
        connection = sqlite3.connect(target)
    else:
        connection = _pg_connect(
            database, hint=" (restore needs it to exist and be empty: createdb it first)"
        )
    try:
        cursor = connection.cursor()
        if engine == "sqlite":
            found["tables"] = _tables(cursor, "sqlite")
        else:
            cursor.execute(
                "SELECT CASE WHEN c.relkind = 'S' THEN 'sequences' "
                "WHEN c.relkind IN ('v', 'm') THEN 'views' ELSE 'tables' END, "
                "CASE WHEN n.nspname = 'public' THEN c.relname "
                "ELSE n.nspname || '.' || c.relname END "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg!_%' ESCAPE '!' "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY 1, 2"
            )
            for kind, name in cursor.fetchall():
                found.setdefault(kind, []).append(name)
        if not any(found.values()):
            return None
        rows = sum(_row_counts(cursor, engine).values())
        applied = _applied_count(cursor, found.get("tables", []))
    finally:
        connection.close()
    parts = []
    for kind in ("tables", "views", "sequences"):
        names = found.get(kind)
        if names:
            shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
            parts.append(
                f"{len(names)} {kind} ({shown})" if kind == "tables" else f"{len(names)} {kind}"
            )
    return f"it has {', '.join(parts)}, with {rows:,} rows; {applied} migrations are applied"


def _applied_count(cursor, tables: list[str]) -> int:
    if "django_migrations" not in tables:
        return 0
    cursor.execute("SELECT COUNT(*) FROM django_migrations")
    return cursor.fetchone()[0]


def _not_empty_folder(root: Path) -> str | None:
    if not root.exists():
        return None
    if not root.is_dir():
        return "it is a file, not a folder"
    entries = sorted(entry.name for entry in root.iterdir())
    if not entries:
        return None
    shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
    return f"it holds {len(entries)} entries ({shown})"


def _code_migrations() -> MigrationLoader:
    return MigrationLoader(None, ignore_no_migrations=True)


def _unknown_migrations(manifest: dict) -> list[str]:
    known = set(_code_migrations().disk_migrations)
    return [
        f"{app}.{name}"
        for app, name in sorted(manifest["migrations"].items())
        if (app, name) not in known
    ]


def _pending_migrations(applied: set[tuple[str, str]]) -> list[str]:
    pending = []
    for key, migration in sorted(_code_migrations().disk_migrations.items()):
        replaced = migration.replaces and all(tuple(r) in applied for r in migration.replaces)
        if key not in applied and not replaced:
            pending.append(".".join(key))
    return pending


def _restore_database(
    tar: tarfile.TarFile, manifest: dict, database: dict, engine: str, work: Path
) -> None:
    name = manifest["database"]["dump"]
    expected = Checked(**manifest["files"][name])
    if engine == "sqlite":
        target = Path(database["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".dongda-restore-") as folder:
            copy = Path(folder) / name
            if _copy_checked(tar.extractfile(name), copy) != expected:
                raise BackupError(f"{name} changed in the archive while it was restored")
            os.replace(copy, target)
        return
    # Beside the evidence folder rather than in /tmp, often a small RAM disk: a dump is big.
    with tempfile.TemporaryDirectory(dir=work, prefix=".dongda-restore-") as folder:
        dump = Path(folder) / name
        if _copy_checked(tar.extractfile(name), dump) != expected:
            raise BackupError(f"{name} changed in the archive while it was restored")
        # One transaction: a dump that fails half-way leaves the database as empty as it was.
        _pg_tool(
            "pg_restore",
            [
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={database['NAME']}",
                str(dump),
            ],
            database,
        )


def _restore_files(tar: tarfile.TarFile, manifest: dict, root: Path) -> None:
    root.parent.mkdir(parents=True, exist_ok=True)
    # Unpacked beside the folder and renamed into place: the folder is either whole or absent.
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=".dongda-restore-") as work:
        staging = Path(work) / EVIDENCE
        staging.mkdir()
        prefix = f"{EVIDENCE}/"
        for member in tar.getmembers():
            if not member.name.startswith(prefix) or member.name not in manifest["files"]:
                continue
            target = staging / member.name.removeprefix(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            checked = _copy_checked(tar.extractfile(member), target)
            if checked != Checked(**manifest["files"][member.name]):
                raise BackupError(f"{member.name} changed in the archive while it was restored")
            os.utime(target, (member.mtime, member.mtime))
        if root.exists():
            root.rmdir()  # checked empty before anything was written
        os.rename(staging, root)
        _fsync_folder(root.parent)


def _verify_restored(manifest: dict, database: dict, engine: str, root: Path) -> list[str]:
    """Problems found reading back what was restored, and the migrations left to apply."""
    connection = sqlite3.connect(database["NAME"]) if engine == "sqlite" else _pg_connect(database)
    try:
        cursor = connection.cursor()
        counts = _row_counts(cursor, engine)
        applied = set()
        if "django_migrations" in counts:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = {tuple(row) for row in cursor.fetchall()}
    finally:
        connection.close()
    problems = []
    expected = manifest["tables"]
    for table in sorted(set(expected) | set(counts)):
        if table not in counts:
            problems.append(f"table {table} is missing")
        elif table not in expected:
            problems.append(f"table {table} is not in the backup")
        elif counts[table] != expected[table]:
            problems.append(f"table {table} has {counts[table]:,} rows, not {expected[table]:,}")
    wanted = {
        name.removeprefix(f"{EVIDENCE}/"): Checked(**entry)
        for name, entry in manifest["files"].items()
        if name.startswith(f"{EVIDENCE}/")
    }
    on_disk = _stored_files(root)
    for name in sorted(set(wanted) | on_disk):
        if name not in on_disk:
            problems.append(f"evidence file {name} is missing")
        elif name not in wanted:
            problems.append(f"evidence file {name} is not in the backup")
        else:
            with (root / name).open("rb") as handle:
                if _hash_stream(handle) != wanted[name]:
                    problems.append(f"evidence file {name} differs from the backup")
    if problems:
        raise BackupError(
            "the database and files were restored, but reading them back found "
            f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:20])
        )
    return _pending_migrations(applied)


def backup_restore(
    *,
    archive: Path,
    database: dict | None = None,
    root: Path | None = None,
) -> RestoreResult:
    """Restores `archive` into `database` (a DATABASES entry, by default the app's own) and the
    evidence folder `root` (by default the app's own). Everything is checked before anything is
    written: the archive's checksums, the engine, the migrations, that both targets are empty."""
    started = time.monotonic()
    archive = Path(archive)
    database = database or connections[DEFAULT_DB_ALIAS].settings_dict
    engine = engine_of(database)
    root = Path(root) if root is not None else evidence_root()
    manifest = archive_verify(archive)
    made_on = manifest["database"]["engine"]
    if made_on != engine:
        raise BackupError(
            f"{archive} holds a {ENGINE_NAMES.get(made_on, made_on)} database and the target "
            f"is {ENGINE_NAMES[engine]}; restore it into {ENGINE_NAMES.get(made_on, made_on)} "
            "(moving between engines is not supported)"
        )
    unknown = _unknown_migrations(manifest)
    if unknown:
        commit = manifest["app"].get("git_commit") or "unknown"
        raise BackupError(
            f"{archive} was made by a newer version of the app: this code does not have the "
            f"migration(s) {', '.join(unknown)}. Restore it with the version that made it "
            f"(git commit {commit})."
        )
    why = _not_empty_database(database, engine)
    if why:
        raise BackupError(
            f"the database {_database_label(database)} is not empty: {why}. Restore writes only "
            "into an empty database: create a new one (createdb), or drop and recreate this one."
        )
    why = _not_empty_folder(root)
    if why:
        raise BackupError(
            f"the evidence folder {root} is not empty: {why}. Restore writes only into an empty "
            "or missing folder: move this one away first."
        )
    # Nothing was written up to here.
    root.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        _restore_database(tar, manifest, database, engine, root.parent)
        try:
            _restore_files(tar, manifest, root)
        except (OSError, tarfile.TarError, BackupError) as exc:
            raise BackupError(
                f"the database was restored but the evidence files were not ({exc}); drop and "
                f"recreate the database and empty {root} before trying again"
            ) from None
    pending = _verify_restored(manifest, database, engine, root)
    return RestoreResult(
        manifest=manifest,
        database=_database_label(database),
        evidence_root=root,
        seconds=time.monotonic() - started,
        pending_migrations=pending,
    )
