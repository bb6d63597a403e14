"""A believable small city to try the service with: agencies, procedures, staff and dossiers.

The data is generated from a fixed seed, so every demo database looks alike, and
only into an empty database: seeding twice changes nothing. The dossiers'
histories are generated in memory (each step checked by the same state machine
and deadline rules as the API) and loaded by the importer, which validates them
again, writes them in bulk, counts them in the statistics and audits the load once:
a few seconds rather than a few thousand audited requests.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import orjson
from flask import current_app
from sqlalchemy import func, select

from tracker.domain import progress
from tracker.domain.codes import dossier_code
from tracker.domain.deadlines import DAYS, HOURS, Deadlines, TimeLimit
from tracker.domain.service_levels import EVALUABLE, FULL, LEVELS, NONE, PARTIAL
from tracker.domain.statuses import Channel, Status
from tracker.domain.workflow import Action
from tracker.extensions import db
from tracker.models import Agency, Dossier, Procedure, Step
from tracker.models.types import utcnow
from tracker.services import evaluations, reference, users
from tracker.services.audit import Actor
from tracker.services.calendar import deadlines
from tracker.services.importing.importer import import_lines
from tracker.services.passwords import generate_password

CITY = ("000.00.00.H57", "Ủy ban nhân dân thành phố Huế", "province")
DEPARTMENTS = [
    ("000.00.01.H57", "Sở Tư pháp"), ("000.00.02.H57", "Sở Xây dựng"),
    ("000.00.03.H57", "Sở Nông nghiệp và Môi trường"), ("000.00.04.H57", "Sở Tài chính"),
    ("000.00.05.H57", "Sở Công Thương"), ("000.00.06.H57", "Sở Y tế"),
    ("000.00.07.H57", "Sở Giáo dục và Đào tạo"), ("000.00.08.H57", "Sở Văn hóa và Thể thao"),
    ("000.00.09.H57", "Sở Nội vụ"), ("000.00.10.H57", "Sở Du lịch"),
]
COMMUNES = [
    ("000.01.20.H57", "Phường Phú Xuân"), ("000.02.20.H57", "Phường Thuận Hóa"),
    ("000.03.20.H57", "Phường Kim Long"), ("000.04.20.H57", "Phường Vỹ Dạ"),
    ("000.05.20.H57", "Phường Hương Thủy"), ("000.06.20.H57", "Phường Hương Trà"),
    ("000.07.20.H57", "Xã Phú Vang"), ("000.08.20.H57", "Xã Quảng Điền"),
    ("000.09.20.H57", "Xã Phong Điền"), ("000.10.20.H57", "Xã A Lưới"),
]
# (code, name, field, value, unit, where it is handled: "department code" or "commune")
PROCEDURES = [
    ("1.000656", "Đăng ký khai sinh", "Hộ tịch", 1, DAYS, "commune"),
    ("1.000689", "Đăng ký kết hôn", "Hộ tịch", 3, DAYS, "commune"),
    ("1.001193", "Đăng ký khai tử", "Hộ tịch", 1, DAYS, "commune"),
    ("1.004746", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", 4, HOURS, "commune"),
    ("1.000894", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", 7, DAYS, "commune"),
    ("2.000815", "Chứng thực bản sao từ bản chính", "Chứng thực", 4, HOURS, "commune"),
    ("2.000884", "Chứng thực chữ ký trong giấy tờ, văn bản", "Chứng thực", 4, HOURS, "commune"),
    ("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến nhà ở", "Chứng thực", 2, DAYS, "commune"),
    ("1.001612", "Đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3, DAYS, "commune"),
    ("1.003003", "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình", "Bảo trợ xã hội", 5, DAYS, "commune"),
    ("1.004227", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Lý lịch tư pháp", 10, DAYS, "000.00.01.H57"),
    ("2.000488", "Cấp bản sao văn bản công chứng", "Công chứng", 2, DAYS, "000.00.01.H57"),
    ("1.008916", "Đăng ký hành nghề luật sư", "Luật sư", 7, DAYS, "000.00.01.H57"),
    ("1.009972", "Cấp giấy phép xây dựng mới đối với công trình cấp III", "Hoạt động xây dựng", 20, DAYS, "000.00.02.H57"),
    ("1.009974", "Cấp giấy phép xây dựng sửa chữa, cải tạo công trình", "Hoạt động xây dựng", 20, DAYS, "000.00.02.H57"),
    ("1.010009", "Cấp chứng chỉ hành nghề hoạt động xây dựng", "Hoạt động xây dựng", 25, DAYS, "000.00.02.H57"),
    ("1.004237", "Cấp lần đầu Giấy chứng nhận quyền sử dụng đất", "Đất đai", 30, DAYS, "000.00.03.H57"),
    ("1.004203", "Đăng ký biến động quyền sử dụng đất do chuyển nhượng", "Đất đai", 10, DAYS, "000.00.03.H57"),
    ("1.004138", "Cấp giấy phép khai thác nước dưới đất", "Tài nguyên nước", 30, DAYS, "000.00.03.H57"),
    ("1.003346", "Cấp Giấy chứng nhận vệ sinh an toàn thực phẩm nông lâm thủy sản", "Quản lý chất lượng nông lâm sản", 15, DAYS, "000.00.03.H57"),
    ("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân", "Thành lập và hoạt động doanh nghiệp", 3, DAYS, "000.00.04.H57"),
    ("2.002041", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", "Thành lập và hoạt động doanh nghiệp", 3, DAYS, "000.00.04.H57"),
    ("1.005376", "Quyết định chủ trương đầu tư của UBND cấp tỉnh", "Đầu tư tại Việt Nam", 35, DAYS, "000.00.04.H57"),
    ("2.000633", "Cấp Giấy phép bán lẻ sản phẩm rượu", "Lưu thông hàng hóa trong nước", 10, DAYS, "000.00.05.H57"),
    ("2.000208", "Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "An toàn thực phẩm", 20, DAYS, "000.00.05.H57"),
    ("1.001089", "Cấp Giấy phép hoạt động bán lẻ điện", "Điện", 15, DAYS, "000.00.05.H57"),
    ("1.003612", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "Khám bệnh, chữa bệnh", 20, DAYS, "000.00.06.H57"),
    ("1.002482", "Cấp giấy phép hoạt động nhà thuốc", "Dược phẩm", 20, DAYS, "000.00.06.H57"),
    ("1.001004", "Cấp giấy chứng nhận đủ điều kiện kinh doanh dược", "Dược phẩm", 30, DAYS, "000.00.06.H57"),
    ("1.005095", "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Văn bằng, chứng chỉ", 8, HOURS, "000.00.07.H57"),
    ("1.005092", "Chỉnh sửa nội dung văn bằng, chứng chỉ", "Văn bằng, chứng chỉ", 5, DAYS, "000.00.07.H57"),
    ("1.004440", "Cho phép trường trung học phổ thông hoạt động giáo dục", "Giáo dục trung học", 20, DAYS, "000.00.07.H57"),
    ("1.001809", "Cấp giấy phép tổ chức biểu diễn nghệ thuật", "Nghệ thuật biểu diễn", 5, DAYS, "000.00.08.H57"),
    ("1.003622", "Cấp giấy phép kinh doanh karaoke", "Văn hóa cơ sở", 5, DAYS, "000.00.08.H57"),
    ("1.000933", "Xác nhận đăng ký tổ chức lễ hội", "Văn hóa cơ sở", 7, DAYS, "000.00.08.H57"),
    ("1.005384", "Thẩm định hồ sơ thành lập hội", "Tổ chức phi chính phủ", 30, DAYS, "000.00.09.H57"),
    ("2.001681", "Công nhận ban vận động thành lập hội", "Tổ chức phi chính phủ", 30, DAYS, "000.00.09.H57"),
    ("1.004623", "Cấp thẻ hướng dẫn viên du lịch nội địa", "Lữ hành", 10, DAYS, "000.00.10.H57"),
    ("1.004628", "Cấp giấy phép kinh doanh dịch vụ lữ hành nội địa", "Lữ hành", 10, DAYS, "000.00.10.H57"),
    ("1.001432", "Công nhận hạng cơ sở lưu trú du lịch", "Lưu trú du lịch", 30, DAYS, "000.00.10.H57"),
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang", "Thu", "Xuân", "Hoài"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Huy", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến"]
# Where a dossier ends up, with weights: a realistic mix with every status represented.
ENDINGS = [("returned", 30), ("done", 12), ("processing", 14), ("accepted", 8), ("supplement_requested", 6),
           ("payment_requested", 3), ("stopped", 3), ("withdrawn", 4), ("not_accepted", 3), ("registered", 5),
           ("late_returned", 9), ("apologized", 3)]
DOSSIERS = 360
#: The demo staff accounts: username -> (role, agency code). They share one generated password.
DEMO_STAFF = {"clerk.tuphap": ("clerk", "000.00.01.H57"), "manager.tuphap": ("manager", "000.00.01.H57"),
              "clerk.phuxuan": ("clerk", "000.01.20.H57"), "viewer.city": ("viewer", CITY[0])}
#: The states of the sample codes printed at start-up, one dossier of each.
SAMPLE_STATES = (Status.PROCESSING, Status.SUPPLEMENT_REQUESTED, Status.DONE)


def is_empty() -> bool:
    """Whether the database has no agency yet (the demo only goes into an empty database)."""
    return db.session.scalar(select(func.count(Agency.id))) == 0


def seed(count: int = DOSSIERS, rng: random.Random | None = None) -> str:
    """Create the demo city; returns a summary line for the operator (nothing when not empty)."""

    if not is_empty():
        return "The database already has data: the demo was not loaded."
    rng = rng or random.Random(2025)
    system = Actor(ip="seed-demo")
    reference.create_agency(system, {"code": CITY[0], "name": CITY[1], "level": CITY[2]})
    for code, name in DEPARTMENTS:
        reference.create_agency(system, {"code": code, "name": name, "parent_code": CITY[0], "level": "department"})
    for code, name in COMMUNES:
        reference.create_agency(system, {"code": code, "name": name, "parent_code": CITY[0], "level": "commune"})
    for code, name, field_, value, unit, _ in PROCEDURES:
        reference.create_procedure(system, {"code": code, "name": name, "field": field_,
                                            "time_limit": {"value": value, "unit": unit},
                                            "online_level": online_level(code)})
    password = generate_password(*DEMO_STAFF)
    for username, (role, agency) in DEMO_STAFF.items():
        users.create_user(system, {"username": username, "password": password, "role": role,
                                   "agency_code": agency, "full_name": _name(rng)}, check_caller=False)
    db.session.commit()  # the importer rolls back its own bad lines, never the city
    rules, now = deadlines(), utcnow()
    numbers: dict[tuple[str, date], int] = {}
    records = [_dossier(rng, rules, now, numbers) for _ in range(count)]
    report = import_lines((orjson.dumps(record) for record in records), system, source="seed-demo")
    if report.errors:  # a bug in this generator, never the operator's doing
        number, reason = report.errors[0]
        raise RuntimeError(f"The demo dossier {records[number - 1]['code']} is inconsistent: {reason}")
    _evaluate_some()
    db.session.commit()
    # The figures are read back from the database: the line says what is there, not what was meant.
    agencies = db.session.scalar(select(func.count(Agency.id)))
    procedures = db.session.scalar(select(func.count(Procedure.id)))
    dossiers = db.session.scalar(select(func.count(Dossier.id)))
    steps = db.session.scalar(select(func.count(Step.id)))
    return (f"Demo city loaded: {agencies} agencies, {procedures} procedures, {dossiers} dossiers "
            f"with {steps} steps; demo staff {', '.join(DEMO_STAFF)} share the password: {password}")


def samples() -> dict[str, str]:
    """A dossier code for each of ``SAMPLE_STATES`` that the database holds: state -> code (oldest first)."""
    found = {}
    for status in SAMPLE_STATES:
        code = db.session.scalar(select(Dossier.code).where(Dossier.status == status).order_by(Dossier.id).limit(1))
        if code is not None:
            found[str(status)] = code
    return found


def online_level(code: str) -> str:
    """A procedure's demo online level: about a quarter fully online, a third partly, the rest not."""
    draw = random.Random(f"level {code}").random()
    return FULL if draw < 0.25 else PARTIAL if draw < 0.6 else NONE


def _flags(record: dict) -> None:
    """Believable service flags, drawn from the dossier's code so the rest of the demo stays as it was:
    about 70% digitised, 40% of payments online, 50% of results electronic."""
    draw = random.Random(f"flags {record['code']}")
    record["digitized"] = draw.random() < 0.7
    for step in record["steps"]:
        if step["action"] == Action.RECEIVE_PAYMENT:
            step["online"] = draw.random() < 0.4
        elif step["action"] == Action.COMPLETE:
            step["electronic_result"] = draw.random() < 0.5


def _evaluate_some() -> None:
    """About 40% of the finished dossiers evaluated by their applicant, mostly satisfied."""
    known = {c.key for c in evaluations.criteria(active_only=True)}  # the migration's, unless an admin changed them
    finished = db.session.scalars(select(Dossier).where(Dossier.status.in_([str(s) for s in EVALUABLE]))
                                  .order_by(Dossier.code)).all()
    for dossier in finished:
        draw = random.Random(f"evaluation {dossier.code}")
        if draw.random() < 0.4:
            overall = draw.choices(LEVELS, weights=[45, 45, 10])[0]
            criteria = {key: level for key, level in (("timeliness", overall), ("staff_attitude", draw.choice(LEVELS[:2])))
                        if key in known}
            evaluations.evaluate(dossier, {"verify": dossier.applicant_phone, "overall": overall,
                                           "criteria": criteria, "client_ip": "seed-demo"})


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _office_time(rng: random.Random, day: date, rules: Deadlines) -> datetime:
    minutes = rng.randrange(0, 7 * 60 + 30)  # 07:30 to 15:00, within the intake window
    start = datetime.combine(day, time(7, 30), rules.hours.tz) + timedelta(minutes=minutes)
    return start if start.time() < time(11, 30) or start.time() >= time(13, 30) else start + timedelta(hours=2)


def _later(rng: random.Random, at: datetime, hours: float, now: datetime, rules: Deadlines) -> datetime | None:
    """A working time some hours after ``at``, or None when that is still in the future."""
    moved = rules.add_working_minutes(at, max(1, int(hours * 60))) + timedelta(seconds=rng.randrange(60))
    return moved if moved < now else None


def _dossier(rng: random.Random, rules: Deadlines, now: datetime, numbers: dict[tuple[str, date], int]) -> dict:
    """One dossier as an import record: its code, intake and the steps that already happened."""
    code, _, _, value, unit, where = rng.choice(PROCEDURES)
    agency = rng.choice(COMMUNES)[0] if where == "commune" else where
    ending = rng.choices([e for e, _ in ENDINGS], weights=[w for _, w in ENDINGS])[0]
    day = rules.local(now).date() - timedelta(days=rng.randrange(1, 180))
    while not rules.calendar.is_working_day(day):
        day -= timedelta(days=1)
    at = _office_time(rng, day, rules)
    registered = ending in ("registered", "not_accepted") or rng.random() < 0.25
    applicant = {"name": _name(rng), "phone": "09" + "".join(rng.choice("0123456789") for _ in range(8)),
                 "id_number": "046" + "".join(rng.choice("0123456789") for _ in range(9))}
    # A dossier registered first (awaiting acceptance) was submitted online; one accepted at
    # once came to the desk, in person or by post: no "submitted online" step on a walk-in.
    channel = (Channel.ONLINE if registered else rng.choice([Channel.DIRECT, Channel.DIRECT, Channel.POSTAL])).value
    # The code carries the local day of registration (online) or acceptance (at the desk).
    numbers[(agency, day)] = numbers.get((agency, day), 0) + 1
    record = {"type": "dossier", "code": dossier_code(agency, day, numbers[(agency, day)]),
              "procedure_code": code, "agency_code": agency, "channel": channel, "applicant": applicant,
              "status": Status.REGISTERED.value if registered else Status.ACCEPTED.value,
              "submitted_at" if registered else "accepted_at": at.isoformat(), "steps": []}
    clock = progress.DossierClock(status=Status.REGISTERED, limit=TimeLimit(value, unit))
    if not registered:
        progress.apply(clock, Action.ACCEPT, at, rules)
    payment_pauses = current_app.config["TRACKER_PAYMENT_PAUSES"]
    span = value * (8 if unit == DAYS else 1)  # the time limit, in working hours
    for action, share in _plan(ending, registered):
        at = _later(rng, at, span * share, now, rules)
        if at is None:
            break
        body = _body(action, rng, clock, at, rules)
        progress.apply(clock, action, at, rules, body, payment_pauses=payment_pauses)
        record["steps"].append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in body.items()})
    _flags(record)
    return record


def _plan(ending: str, registered: bool) -> list[tuple[str, float]]:
    if ending == "registered":
        return []
    if ending == "not_accepted":
        return [(Action.REFUSE_INTAKE, 0.05)]
    head = [(Action.ACCEPT, 0.05)] if registered else []
    paths = {
        "accepted": [],
        "processing": [(Action.PROCESS, 0.2)],
        "supplement_requested": [(Action.PROCESS, 0.2), (Action.REQUEST_SUPPLEMENT, 0.2)],
        "payment_requested": [(Action.PROCESS, 0.2), (Action.REQUEST_PAYMENT, 0.3)],
        # Stopped because the documents asked for never came: the request comes first.
        "stopped": [(Action.PROCESS, 0.2), (Action.REQUEST_SUPPLEMENT, 0.2), (Action.STOP, 0.6)],
        "withdrawn": [(Action.PROCESS, 0.1), (Action.WITHDRAW, 0.2)],
        "done": [(Action.PROCESS, 0.2), (Action.PROCESS, 0.3), (Action.COMPLETE, 0.3)],
        "returned": [(Action.PROCESS, 0.2), (Action.REQUEST_SUPPLEMENT, 0.1), (Action.RECEIVE_SUPPLEMENT, 0.3),
                     (Action.PROCESS, 0.2), (Action.REQUEST_PAYMENT, 0.05), (Action.RECEIVE_PAYMENT, 0.1),
                     (Action.COMPLETE, 0.2), (Action.RETURN_RESULT, 0.1)],
        "late_returned": [(Action.PROCESS, 0.5), (Action.PROCESS, 0.5), (Action.COMPLETE, 0.4),
                          (Action.RETURN_RESULT, 0.1)],
        "apologized": [(Action.PROCESS, 0.5), (Action.APOLOGIZE, 0.4), (Action.COMPLETE, 0.4)],
    }
    return head + paths[ending]


def _body(action: str, rng: random.Random, clock: progress.DossierClock, at: datetime, rules: Deadlines) -> dict:
    body: dict = {"action": str(action), "at": at}
    if action == Action.REFUSE_INTAKE:
        body["reason"] = "Hồ sơ không thuộc thẩm quyền giải quyết."
    elif action == Action.PROCESS:
        body.update(handler=_name(rng), public_note="Hồ sơ đang được thẩm định.")
    elif action == Action.REQUEST_SUPPLEMENT:
        body.update(reason="Thiếu bản sao giấy tờ tùy thân.",
                    public_note="Đề nghị bổ sung bản sao căn cước công dân.")
    elif action == Action.REQUEST_PAYMENT:
        body["public_note"] = "Đề nghị nộp phí, lệ phí theo quy định."
    elif action == Action.STOP:
        body["reason"] = "Người nộp không bổ sung hồ sơ đúng hạn."
    elif action == Action.COMPLETE:
        body["result"] = "approved" if rng.random() < 0.9 else "denied"
    elif action == Action.APOLOGIZE:
        body.update(reason="Cần xin ý kiến cơ quan liên quan.",
                    new_appointment_at=rules.extend(clock.appointment_at, clock.limit, 3))
    return body
