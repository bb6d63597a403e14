"""Generate a city's worth of history as an import file (JSON Lines).

    python -m bench.generate OUT.jsonl --dossiers 1000000 [--seed 1]

Dossiers are spread over the last two years with five steps each for the
finished ones, through the same path a clerk's history would take. Procedures have
online levels, dossiers the digitisation and online-payment flags, and a share of
the finished ones an evaluation, so that the service index has something to count.
"""
from __future__ import annotations

import argparse
import random
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson

#: Changes whenever the generated data changes: the cached files are named by it.
VERSION = 2
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FIELDS = ["Hộ tịch", "Chứng thực", "Đất đai", "Xây dựng", "Doanh nghiệp", "Y tế", "Giáo dục", "Văn hóa"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hoa", "Lan", "Long", "Mai", "Nam", "Tâm", "Vy"]
ONLINE_LEVELS = ("full", "partial", "none")
EVALUATIONS = (("very_satisfied", 6), ("satisfied", 3), ("dissatisfied", 1))
FINISHED = {"complete", "return_result", "stop"}  # the evaluable ends (not a withdrawal)
PATHS = [
    (["process", "process", "complete", "return_result"], 60),
    (["process", "request_supplement", "receive_supplement", "complete"], 15),
    (["process", "process", "process", "process"], 10),
    (["process", "withdraw"], 5),
    (["process", "stop"], 5),
    (["process", "request_payment", "receive_payment", "complete"], 5),
]


def agencies(count: int) -> list[dict]:
    """A city, departments and communes."""
    root = {"type": "agency", "code": "999.00.00.H99", "name": "UBND thành phố thử nghiệm", "level": "province"}
    rows = [root]
    for n in range(1, count):
        rows.append({"type": "agency", "code": f"999.{n:02d}.00.H99" if n < 100 else f"999.{n:03d}.01.H99",
                     "name": f"Đơn vị thử nghiệm {n}", "parent_code": root["code"],
                     "level": "department" if n % 3 else "commune"})
    return rows


def procedures(count: int) -> list[dict]:
    """Procedures with limits in days, a few in hours."""
    return [{"type": "procedure", "code": f"9.{n:06d}", "name": f"Thủ tục thử nghiệm {n}",
             "field": FIELDS[n % len(FIELDS)], "online_level": ONLINE_LEVELS[n % 3],
             "time_limit": {"value": 4 if n % 10 == 0 else 3 + n % 15,
                            "unit": "working_hours" if n % 10 == 0 else "working_days"}}
            for n in range(1, count + 1)]


def _working(at: datetime) -> datetime:
    while at.weekday() >= 5:
        at += timedelta(days=1)
    return at


def dossiers(count: int, agency_rows: list[dict], procedure_rows: list[dict], rng: random.Random):
    """Dossier records with steps; codes are unique per agency and day."""
    now = datetime.now(timezone.utc).astimezone(TZ)
    # Up to three days ago, so that the move past a weekend never lands in the future.
    start = now - timedelta(days=733)
    counters: dict[tuple[str, str], int] = {}
    for n in range(count):
        day = start + timedelta(days=730 * n / count)
        accepted = _working(datetime.combine(day.date(), time(8, 0), TZ) + timedelta(minutes=rng.randrange(400)))
        agency = agency_rows[1 + n % (len(agency_rows) - 1)]["code"]
        key = (agency, accepted.strftime("%y%m%d"))
        counters[key] = counters.get(key, 0) + 1
        steps, at = [], accepted
        path = rng.choices([p for p, _ in PATHS], weights=[w for _, w in PATHS])[0]
        for action in path:
            at = at + timedelta(hours=rng.randrange(2, 60))
            if at >= now:
                break
            step = {"action": action, "at": at.isoformat()}
            if action in ("request_supplement", "stop"):
                step["reason"] = "Thiếu giấy tờ"
            if action == "complete":
                step["result"] = "approved"
                step["electronic_result"] = rng.random() < 0.4
            if action == "receive_payment":
                step["online"] = rng.random() < 0.5
            if action == "process":
                step["public_note"] = "Đang thẩm định"
            steps.append(step)
        record = {"type": "dossier", "code": f"{agency}-{key[1]}-{counters[key]:04d}", "agency_code": agency,
               "procedure_code": procedure_rows[n % len(procedure_rows)]["code"],
               "channel": ("online", "direct", "postal")[n % 3], "accepted_at": accepted.isoformat(),
               "applicant": {"name": f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)}",
                             "id_number": f"{rng.randrange(10**11, 10**12)}", "phone": f"09{rng.randrange(10**8):08d}"},
               "steps": steps, "digitized": rng.random() < 0.7}
        if steps and steps[-1]["action"] in FINISHED and rng.random() < 0.3:
            given = datetime.fromisoformat(steps[-1]["at"]) + timedelta(hours=rng.randrange(1, 48))
            if given < now:
                overall = rng.choices([e for e, _ in EVALUATIONS], weights=[w for _, w in EVALUATIONS])[0]
                record["evaluation"] = {"overall": overall, "first_given_at": given.isoformat(),
                                        "given_at": given.isoformat()}
        yield record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--procedures", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    agency_rows, procedure_rows = agencies(args.agencies), procedures(args.procedures)
    with open(args.out, "wb") as out:
        for row in agency_rows + procedure_rows:
            out.write(orjson.dumps(row) + b"\n")
        for row in dossiers(args.dossiers, agency_rows, procedure_rows, rng):
            out.write(orjson.dumps(row) + b"\n")


if __name__ == "__main__":
    main()
