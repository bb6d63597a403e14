"""The bare baseline of the lookup benchmark: Flask plus the raw database driver.

It reads the same rows as the public lookup (the dossier with its agency and
procedure, then its steps) and answers JSON, with nothing else: no ORM, no
schema, no limits. The service must reach at least 70% of its throughput.

``BENCH_SQLITE_PATH`` names a SQLite file, or ``BENCH_POSTGRES_DSN`` a PostgreSQL
database (read with psycopg); one connection per worker thread, opened on first use
(after gunicorn forks).
"""
from __future__ import annotations

import os
import sqlite3
import threading

from flask import Flask, abort, jsonify

SQLITE = os.environ.get("BENCH_SQLITE_PATH")
POSTGRES = os.environ.get("BENCH_POSTGRES_DSN")
app = Flask(__name__)
_local = threading.local()

DOSSIER = """SELECT d.id, d.code, d.status, d.channel, d.accepted_at, d.due_at, d.appointment_at, d.finished_at,
       d.returned_at, d.timeliness, d.applicant_name, a.code, a.name, p.code, p.name
FROM dossiers d JOIN agencies a ON a.id = d.agency_id JOIN procedures p ON p.id = d.procedure_id
WHERE d.code = ?"""
STEPS = """SELECT s.seq, s.action, s.at, a.code, s.public_note FROM steps s LEFT JOIN agencies a ON a.id = s.agency_id
WHERE s.dossier_id = ? ORDER BY s.seq"""


def _connection():
    if not hasattr(_local, "db"):
        if POSTGRES:
            import psycopg

            _local.db = psycopg.connect(POSTGRES, autocommit=True)
        else:
            _local.db = sqlite3.connect(SQLITE, check_same_thread=False)
    return _local.db


def _query(sql: str) -> str:
    return sql.replace("?", "%s") if POSTGRES else sql


_DOSSIER, _STEPS = _query(DOSSIER), _query(STEPS)


@app.get("/api/v1/public/dossiers/<code>")
def lookup(code):
    db = _connection()
    row = db.execute(_DOSSIER, (code.strip().upper(),)).fetchone()
    if row is None:
        abort(404)
    steps = db.execute(_STEPS, (row[0],)).fetchall()
    return jsonify({
        "code": row[1], "status": row[2], "channel": row[3], "accepted_at": row[4], "due_at": row[5],
        "appointment_at": row[6], "finished_at": row[7], "returned_at": row[8], "timeliness": row[9],
        "applicant_name": row[10], "agency": {"code": row[11], "name": row[12]},
        "procedure": {"code": row[13], "name": row[14]},
        "steps": [{"seq": s[0], "action": s[1], "at": s[2], "agency": s[3], "public_note": s[4]} for s in steps],
    })
