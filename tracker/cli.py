"""The ``flask tracker ...`` commands for operators."""
from __future__ import annotations


import click
from flask.cli import AppGroup

from tracker.extensions import db
from tracker.models.people import ROLES

tracker_cli = AppGroup("tracker", help="Operate the dossier tracker.")


def _create_or_fail(data: dict) -> None:
    """Create the account, or stop with the service's reason (a taken name, a weak password)."""
    from tracker.services import users
    from tracker.services.audit import SYSTEM
    from tracker.services.errors import ServiceError

    try:
        users.create_user(SYSTEM, data, check_caller=False)
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        details = "; ".join(" ".join(v) for v in error.extra.get("errors", {}).values())
        raise click.ClickException(error.message + (f" {details}" if details else "")) from error


@tracker_cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True)
@click.option("--agency", "agency_code", default=None, help="Agency code (required except for admins).")
@click.option("--full-name", default="", help="The person's name.")
@click.option("--password", default=None, help="Read from TRACKER_NEW_PASSWORD or generated when omitted.",
              envvar="TRACKER_NEW_PASSWORD")
@click.option("--reset-password", is_flag=True,
              help="Give the existing account USERNAME a new password (generated and printed, or --password).")
def create_user(username, role, agency_code, full_name, password, reset_password):
    """Add a staff account, or reset its password (prints a generated password once)."""
    from tracker.services import users
    from tracker.services.audit import SYSTEM
    from tracker.services.errors import ServiceError
    from tracker.services.passwords import generate_password

    generated = password is None
    password = password or generate_password(username)
    shown = f" with the password: {password}" if generated else "."
    if reset_password:
        user = users.user_by_username(username)
        if user is None:
            raise click.ClickException(f"No user is named {username}: create it without --reset-password.")
        try:
            users.reset_password(SYSTEM, user, password)
        except ServiceError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        db.session.commit()
        click.echo(f"Reset the password of {user.role} {user.username}" + shown)
        return
    _create_or_fail({"username": username, "password": password, "role": role, "agency_code": agency_code,
                     "full_name": full_name})
    click.echo(f"Created {role} {username.strip().lower()}" + shown)


@tracker_cli.command("ensure-admin")
def ensure_admin():
    """Create the ``admin`` user on first start (TRACKER_ADMIN_PASSWORD, else a printed one)."""
    import os

    from tracker.services import users
    from tracker.services.passwords import generate_password

    given = os.environ.get("TRACKER_ADMIN_PASSWORD")
    if users.user_by_username("admin") is not None:
        click.echo("The admin user exists.")
        if given:
            click.echo("TRACKER_ADMIN_PASSWORD only applies to a new database: the admin keeps its password. "
                       "To change it: flask --app wsgi tracker create-user --reset-password admin")
        return
    password = given or generate_password("admin")
    _create_or_fail({"username": "admin", "password": password, "role": "admin", "full_name": "Quản trị hệ thống"})
    if given:
        click.echo("Created the admin user with TRACKER_ADMIN_PASSWORD.")
    else:
        click.echo(f"Created the admin user. Its password, shown this once: {password}")


@tracker_cli.command("seed-demo")
def seed_demo():
    """Load a small demo city into the database (does nothing twice)."""
    from tracker.services.demo import seed

    summary = seed()
    db.session.commit()
    click.echo(summary)


@tracker_cli.command("welcome")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the service answers.")
def welcome(base_url):
    """Say where to go once the service is up: the pages, sample demo codes, the logins."""
    from tracker.services import demo, users

    base = base_url.rstrip("/")
    lines = ["", "The service is starting. Open:",
             f"  {base}/lookup    the citizens' lookup page",
             f"  {base}/stats     the public statistics",
             f"  {base}/docs      the API documentation"]
    samples = demo.samples()
    if samples:
        lines.append("Demo dossier codes to look up:")
        lines += [f"  {code}  ({state})" for state, code in samples.items()]
    staff = [name for name in ("admin", *demo.DEMO_STAFF) if users.user_by_username(name) is not None]
    if staff:
        lines.append("Logins (each password was printed once, when its account was created; for a new one:")
        lines.append("  flask --app wsgi tracker create-user --reset-password NAME):")
        lines.append("  " + ", ".join(staff))
    click.echo("\n".join(lines) + "\n")


@tracker_cli.command("audit-verify")
def audit_verify():
    """Check the audit chain, its end and the steps it seals; names the first problem and exits 1."""
    from tracker.services import audit_check

    checked, broken, why = audit_check.verify()
    if why is None:
        click.echo(f"The audit trail is intact: {checked} records checked.")
        return
    if broken is not None:
        where = f"record {broken.id} ({broken.action} {broken.target_type} {broken.target_id})"
        click.echo(f"The audit trail is broken at {where}: {why}. {checked} records before it are intact.", err=True)
    else:
        click.echo(f"The audit trail is broken: {why}. The {checked} records themselves are intact.", err=True)
    raise SystemExit(1)


@tracker_cli.command("audit-upgrade")
def audit_upgrade():
    """Once, after upgrading from an unkeyed audit trail: check the old chain, then seal it and
    the steps recorded so far with TRACKER_AUDIT_KEY."""
    from tracker.services import audit_upgrade as upgrading
    from tracker.services.audit import Actor
    from tracker.services.errors import ServiceError

    try:
        records, steps = upgrading.upgrade(Actor(ip="cli"))
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Sealed {records} audit records and {steps} steps with the key {upgrading.seals.current_kid()}.")


@tracker_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Processes preparing dossier lines (0: none, all in this one); one per CPU by default.")
def import_file(path, quiet, workers):
    """Import agencies, procedures and dossiers from a JSON Lines file (see the README)."""
    import os

    from tqdm import tqdm

    from tracker.services.audit import Actor
    from tracker.services.importing.importer import import_lines

    with open(path, "rb") as handle, tqdm(total=os.path.getsize(path), unit="B", unit_scale=True,
                                          desc="import", disable=quiet) as bar:
        report = import_lines(handle, Actor(ip="cli"), source=os.path.basename(path), advance=bar.update,
                              workers=workers)
    for number, reason in report.errors[:1000]:
        click.echo(f"line {number}: {reason}", err=True)
    if len(report.errors) > 1000:
        click.echo(f"... and {len(report.errors) - 1000} more bad lines", err=True)
    click.echo(report.summary())
    if report.errors:
        raise SystemExit(1)


@tracker_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def export_file(path, quiet):
    """Export agencies, procedures and dossiers with their steps as JSON Lines."""
    from flask import current_app
    from sqlalchemy import func, select
    from tqdm import tqdm

    from tracker.models import Dossier
    from tracker.services.importing.export import dumps, export_records

    total = db.session.scalar(select(func.count(Dossier.id)))
    tz = current_app.config["OFFICE_HOURS"].tz
    count = 0
    with open(path, "wb") as handle, tqdm(total=total, unit=" dossiers", desc="export", disable=quiet) as bar:
        for record in export_records(tz):
            handle.write(dumps(record))
            if record["type"] == "dossier":
                bar.update(1)
                count += 1
    click.echo(f"Exported {count} dossiers to {path}.")


@tracker_cli.command("rebuild-stats")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def rebuild_stats(quiet):
    """Recompute every statistics counter by replaying the dossiers' steps with today's calendar.

    The replay also corrects the stored deadline, appointment, paused days and
    timeliness of dossiers that paused, when the rules give them other dates now.
    """
    from sqlalchemy import func, select
    from tqdm import tqdm

    from tracker.database import refresh_planner_statistics
    from tracker.models import Dossier
    from tracker.services import statistics

    total = db.session.scalar(select(func.count(Dossier.id)).where(Dossier.accepted_at.is_not(None)))
    with tqdm(total=total, unit=" dossiers", desc="rebuild-stats", disable=quiet) as bar:
        counted = statistics.rebuild(progress_callback=bar.update)
    db.session.commit()
    refresh_planner_statistics(db.session, [table.name for table in statistics.TABLES])
    click.echo(f"Rebuilt the statistics from {counted} accepted dossiers.")


@tracker_cli.command("purge")
def purge():
    """Delete expired idempotency keys, sessions and revoked-token records (run it daily)."""
    from tracker.services import housekeeping

    counts = housekeeping.purge()
    db.session.commit()
    click.echo(f"Deleted {counts['idempotency_keys']} expired idempotency keys and "
               f"{counts['sessions_and_tokens']} expired sessions and revoked tokens.")


@tracker_cli.command("anonymize")
@click.option("--finished-before", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Dossiers finished or closed before this day (YYYY-MM-DD, office time zone).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def anonymize(day, quiet):
    """Erase the applicant's personal data of finished dossiers: the name is masked, the ID number,
    phone, e-mail and address removed. Statistics stay the same."""
    from tqdm import tqdm

    from tracker.services import retention
    from tracker.services.audit import Actor

    day = day.date()
    with tqdm(total=retention.count(day), unit=" dossiers", desc="anonymize", disable=quiet) as bar:
        changed = retention.anonymize(Actor(ip="cli"), day, advance=bar.update)
    db.session.commit()
    click.echo(f"Anonymized {changed} dossiers finished before {day.isoformat()}.")


def _schema_head() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    return ScriptDirectory(current_app.extensions["migrate"].directory).get_current_head()


def _sqlite_database(path: str):
    """The configured SQLite file; on PostgreSQL, an error that gives the pg_dump/pg_restore command."""
    from tracker.services import backup

    database = backup.sqlite_path(db.engine.url)
    if database is not None:
        return database
    if db.engine.dialect.name == "postgresql":
        dump, restore = backup.postgresql_commands(db.engine.url, path)
        raise click.ClickException(
            "The database is PostgreSQL: use PostgreSQL's own tools, pg_dump and pg_restore (they read "
            f"the password from PGPASSWORD or ~/.pgpass).\n  back up:  {dump}\n  restore (server stopped):  {restore}")
    raise click.ClickException("Only a SQLite database file or PostgreSQL can be backed up.")


def _file_command(desc: str, path: str, quiet: bool, job):
    """Run ``job(database, file, head, progress)`` on the SQLite database under a progress bar of pages."""
    from pathlib import Path

    from tqdm import tqdm

    from tracker.services.errors import ServiceError

    database = _sqlite_database(path)
    db.session.remove()
    db.engine.dispose()  # this command's own connection must not count as a user of the file (restore)
    with tqdm(total=0, unit=" pages", desc=desc, disable=quiet) as bar:
        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            return database, job(database, Path(path), _schema_head(), advance)
        except ServiceError as error:
            raise click.ClickException(error.message) from error


@tracker_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def backup_file(path, quiet):
    """Copy the SQLite database into PATH while the server runs (PostgreSQL: prints the pg_dump command)."""
    from tracker.services.backup import backup

    _, summary = _file_command("backup", path, quiet, backup)
    click.echo(f"Backed up {summary.dossiers} dossiers (schema {summary.revision}, {summary.size} bytes) "
               f"to {summary.path}.")


@tracker_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def restore_file(path, quiet):
    """Replace the SQLite database by the backup PATH; stop the server first (it is refused while in use)."""
    from tracker.services.backup import restore

    database, summary = _file_command("restore", path, quiet,
                                      lambda database, file, head, advance: restore(file, database, head, advance))
    click.echo(f"Restored {summary.dossiers} dossiers (schema {summary.revision}) from {path} into {database}. "
               "Start the server again.")
