"""What goes to whom without being asked: weekly digests, deadline reminders, announcements.

Each send-out is a job with a unique key (``digest:2021-W41``, ``reminder:bhyt:7``) created
together with one delivery per recipient, each holding the rendered replies. The sender (in
``bot/``) then works through the deliveries. Pictures are stored once per job (``blobs``), not
once per recipient.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from handlers.core import OFFICER, UNIT, Deps
from handlers.digest import (
    DigestData,
    commune_digest,
    digest_chart,
    district_digest,
    load_digest_data,
    unit_digest,
)
from handlers.i18n import Tr
from handlers.qa import PlanWriter
from handlers.richtext import Doc, b, it
from handlers.serialize import replies_to_payload
from handlers.task_view import Progress, is_done, load_progress
from handlers.types import Attachment, Reply
from knowledge.base import COMMUNES
from knowledge.models import Deadline
from storage.db import Row
from storage.files import FileStore
from storage.sending import Recipient, SendingRepo, SubscriptionRepo
from storage.users import User


def week_key(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


async def _recipients_office(deps: Deps) -> list[tuple[str, str, str, int | None]]:
    """(channel, chat, lang, user id) of subscribed office chats."""
    subscriptions = await SubscriptionRepo(deps.db).all()
    return [(s.channel, s.chat_id, s.lang, None) for s in subscriptions]


async def _officers(deps: Deps) -> list[User]:
    return [u for u in await deps.users.registered(role=OFFICER) if u.chat_id and u.commune_id]


def payload_with_blobs(replies: list[Reply], blobs: dict[bytes, str]) -> dict[str, Any]:
    """A delivery's payload whose files already stored (``blobs``: content → hash) are named by
    their hash instead of carried in it (the payload is kept for good; the sender reads them)."""
    payload = replies_to_payload(replies)
    for reply, item in zip(replies, payload["replies"], strict=True):
        for name in ("photo", "document"):
            attached: Attachment | None = getattr(reply, name)
            if attached is not None and attached.data in blobs:
                item[name] = {
                    "blob": blobs[attached.data],
                    "filename": attached.filename,
                    "mime": attached.mime,
                    "caption": attached.caption,
                }
    return payload


async def create_digest_job(
    deps: Deps, today: dt.date, key: str, *, created_by: int | None = None
) -> int | None:
    """The weekly digest for every subscribed office chat, every officer and every unit's
    staff (once per key)."""
    sending = SendingRepo(deps.db)
    if await sending.job(key) is not None:
        return None
    data = await load_digest_data(deps, today)
    data.problems = await previous_problems(deps)
    district = deps.kb.meta.district
    charts: dict[str, bytes | None] = {}
    blobs: dict[bytes, str] = {}

    async def chart(lang: str) -> Attachment | None:
        if lang not in charts:  # drawing takes a while: not on the event loop
            drawn = await asyncio.to_thread(digest_chart, deps.kb, data, Tr(deps.translator, lang))
            if drawn is not None:
                blobs[drawn] = await FileStore(deps.db).put(drawn)
            charts[lang] = drawn
        png = charts[lang]
        if png is None:
            return None
        return Attachment(f"bieu-do-{week_key(today)}.png", png, "image/png")

    recipients: list[Recipient] = []
    for channel, chat_id, lang, user_id in await _recipients_office(deps):
        tr = Tr(deps.translator, lang)
        replies = [Reply(district_digest(deps.kb, data, tr, district))]
        picture = await chart(lang)
        if picture is not None:
            replies.append(Reply(Doc(), photo=picture))
        recipients.append(Recipient(channel, chat_id, user_id, payload_with_blobs(replies, blobs)))
    communes = {c.id: c for c in data.communes}
    per_commune: dict[tuple[int, str], dict[str, Any]] = {}  # officers of one commune share it
    for officer in await _officers(deps):
        commune = communes.get(officer.commune_id or 0)
        if commune is None or officer.chat_id is None:
            continue
        lang = officer.lang or deps.default_lang
        if (commune.id, lang) not in per_commune:
            tr = Tr(deps.translator, lang)
            replies = [Reply(commune_digest(deps.kb, data, commune, tr))]
            picture = await chart(lang)
            if picture is not None:
                replies.append(Reply(Doc(), photo=picture))
            per_commune[commune.id, lang] = payload_with_blobs(replies, blobs)
        payload = per_commune[commune.id, lang]
        recipients.append(Recipient(officer.channel, officer.chat_id, officer.id, payload))
    staff = [
        u
        for u in await deps.users.registered(role=UNIT)
        if u.chat_id and u.unit_key and deps.kb.has_unit(u.unit_key)
    ]
    if staff:
        per_unit: dict[tuple[str, str], dict[str, Any]] = {}
        for person in staff:
            assert person.unit_key is not None and person.chat_id is not None
            lang = person.lang or deps.default_lang
            if (person.unit_key, lang) not in per_unit:
                tr = Tr(deps.translator, lang)
                doc = unit_digest(deps.kb, data, person.unit_key, tr)
                per_unit[person.unit_key, lang] = replies_to_payload([Reply(doc)])
            payload = per_unit[person.unit_key, lang]
            recipients.append(Recipient(person.channel, person.chat_id, person.id, payload))
    title = Tr(deps.translator, deps.default_lang)("Bản tin tuần {week}", week=week_key(today))
    return await sending.create_job("digest", key, title, recipients, deps.clock.now(), created_by)


async def send_notice(
    deps: Deps,
    person: User,
    key: str,
    title: str,
    lines: list[str],
    now: dt.datetime,
    created_by: int | None,
) -> bool:
    """One message to one person, through the sender like every send-out (stored before it is
    sent; ``key`` makes it once). ``False`` if the person has no private chat to reach."""
    if person.chat_id is None:
        return False
    payload = replies_to_payload([Reply(Doc.of(*lines))])
    recipient = Recipient(person.channel, person.chat_id, person.id, payload)
    job = await SendingRepo(deps.db).create_job("notice", key, title, [recipient], now, created_by)
    if job is not None and deps.on_job_created is not None:
        deps.on_job_created()
    return job is not None


def _not_reached_line(row: Row) -> str:
    who = row["display_name"] or row["chat_id"]
    return f"{who} ({row['channel']}): {row['last_error'] or row['status']}"


async def previous_problems(deps: Deps) -> list[str]:
    """Who the last completed send-out did not reach, in words for the digest."""
    sending = SendingRepo(deps.db)
    for job in await sending.recent_jobs(5):
        if job.completed_at is None:
            continue
        rows = await sending.not_reached(job.id)
        return [_not_reached_line(r) for r in rows]
    return []


def _reminder_offset(days_left: int, offsets: list[int]) -> int | None:
    candidates = [o for o in offsets if o >= days_left]
    return min(candidates) if candidates and days_left >= 0 else None


def due_reminders(deps: Deps, today: dt.date, offsets: list[int]) -> list[tuple[Deadline, int]]:
    """Deadlines a reminder is due for today, with the offset it belongs to."""
    due: list[tuple[Deadline, int]] = []
    for deadline in deps.kb.deadlines:
        offset = _reminder_offset((deadline.due - today).days, offsets)
        if offset is not None:
            due.append((deadline, offset))
    return due


def reminder_doc(
    deps: Deps,
    deadline: Deadline,
    today: dt.date,
    tr: Tr,
    progress: Progress | None = None,
    units: tuple[str, ...] | None = None,
) -> Doc:
    """``units``: those still to finish (default: every responsible unit)."""
    plan = PlanWriter(deps.kb, tr, today, progress)
    doc = Doc().add(
        "⏰ ",
        b(tr("Nhắc hạn: {date} ({state})", date=plan.when(deadline), state=plan.state(deadline))),
    )
    doc.add(plan.what(deadline))
    owners = list(units if units is not None else deadline.responsible)
    doc.add(tr("Đơn vị thực hiện: {units}", units=plan.units(owners, owner=False)))
    for unit in owners:  # what the units still at it have said about it
        said = plan.unit_progress(deadline, unit, named=True)
        if said:
            doc.add(said.removeprefix(" — "))
    doc.add(it(tr("Kế hoạch ghi: “{quote}”", quote=deadline.quote)))
    return doc


async def create_reminder_job(
    deps: Deps, deadline: Deadline, offset: int, today: dt.date
) -> int | None:
    """Remind of a deadline those whose task for it is still open: the office (naming the
    units still to finish), the staff of each unit still to finish (of their own task) and
    the officers of the communes that have not finished their share. Nothing is sent once
    every task of the deadline is done."""
    key = f"reminder:{deadline.id}:{offset}"
    sending = SendingRepo(deps.db)
    if await sending.job(key) is not None:
        return None
    progress = await load_progress(deps.db, deps.clock.now().tzinfo)
    tasks = [t for t in deps.kb.tasks if t.deadline == deadline.id]
    commune_tasks = [t for t in tasks if deps.kb.is_commune_task(t)]
    open_units = tuple(
        t.owner for t in tasks if not deps.kb.is_commune_task(t) and not is_done(progress.of(t.id))
    )
    communes = await deps.communes.all()
    open_communes = {
        c.id for c in communes for t in commune_tasks if not is_done(progress.of(t.id, c.id))
    }
    if not tasks:  # a plan without tasks.yaml entries for it: remind everyone it names
        owners = tuple(deadline.responsible)
    elif open_units or open_communes:
        owners = open_units + ((COMMUNES,) if open_communes else ())
    else:
        return None  # everyone has finished: no reminder
    recipients: list[Recipient] = []
    for channel, chat_id, lang, user_id in await _recipients_office(deps):
        tr = Tr(deps.translator, lang)
        doc = reminder_doc(deps, deadline, today, tr, progress, owners)
        recipients.append(Recipient(channel, chat_id, user_id, replies_to_payload([Reply(doc)])))
    for unit in dict.fromkeys(o for o in owners if o != COMMUNES):
        for person in await deps.users.staff_of_unit(unit):
            if person.chat_id is None:
                continue
            tr = Tr(deps.translator, person.lang or deps.default_lang)
            doc = reminder_doc(deps, deadline, today, tr, progress, (unit,))
            doc.add(it(tr("Gõ /viec để cập nhật tình trạng khi đã xong hoặc có vướng mắc.")))
            recipients.append(
                Recipient(
                    person.channel, person.chat_id, person.id, replies_to_payload([Reply(doc)])
                )
            )
    # A goal the communes reach together (32/32 xã) is no commune's own task to be reminded of.
    communal = (deadline.level == "xa" or COMMUNES in deadline.responsible) and not deadline.goal
    if communal:
        for officer in await _officers(deps):
            assert officer.chat_id is not None
            if commune_tasks and officer.commune_id not in open_communes:
                continue  # their commune has done its share
            tr = Tr(deps.translator, officer.lang or deps.default_lang)
            doc = reminder_doc(deps, deadline, today, tr, progress, owners)
            recipients.append(
                Recipient(
                    officer.channel, officer.chat_id, officer.id, replies_to_payload([Reply(doc)])
                )
            )
    title = f"{deadline.id} ({offset})"
    return await sending.create_job("reminder", key, title, recipients, deps.clock.now())


AUDIENCES = ("officers", "units", "office", "all")


async def create_announcement_job(
    deps: Deps, text: str, audience: str, created_by: int
) -> tuple[int | None, int]:
    """``audience``: ``officers`` (communes), ``units`` (the district units' staff),
    ``office`` (subscribed office chats) or ``all``. Returns (job id, recipients)."""
    recipients: list[Recipient] = []

    def payload(lang: str) -> dict[str, Any]:
        tr = Tr(deps.translator, lang)
        doc = Doc().add("📢 ", b(tr("Thông báo của Văn phòng NTM huyện"))).add(text)
        return replies_to_payload([Reply(doc)])

    if audience in ("office", "all"):
        for channel, chat_id, lang, user_id in await _recipients_office(deps):
            recipients.append(Recipient(channel, chat_id, user_id, payload(lang)))
    people: list[User] = []
    if audience in ("officers", "all"):
        people += await _officers(deps)
    if audience in ("units", "all"):
        people += [u for u in await deps.users.registered(role=UNIT) if u.chat_id]
    for person in people:
        assert person.chat_id is not None
        lang = person.lang or deps.default_lang
        recipients.append(Recipient(person.channel, person.chat_id, person.id, payload(lang)))
    key = f"announce:{uuid.uuid4().hex}"
    job_id = await SendingRepo(deps.db).create_job(
        "announcement", key, text[:60], recipients, deps.clock.now(), created_by
    )
    return job_id, len(recipients)


__all__ = [
    "DigestData",
    "create_announcement_job",
    "create_digest_job",
    "create_reminder_job",
    "due_reminders",
    "week_key",
]
