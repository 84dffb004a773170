"""Admin commands: withdraw a report from the figures (/void), list people (/users), change roles (/role)."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.commands import ADMINS, command
from handlers.context import Context
from handlers.i18n import N_, Safe, esc
from handlers.onboarding import ROLE_NAMES
from handlers.parsing import Invalid, clean_text, small_int
from storage import people, reports
from storage.models import Identity, Person

PAGE = 30


@command("void", N_("Void a report (it stays on record, out of the figures): /void 12 reason (admins)"),
         roles=ADMINS)
async def void_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    number, _, reason = args.strip().lstrip("#").partition(" ")
    if small_int(number) is None:
        ctx.say(t("Usage: <code>/void 12 reason</code>"))
        return
    try:
        reason = clean_text(reason, limit=300)
    except Invalid:
        ctx.say(t("Give a reason after the number: <code>/void 12 entered twice</code>"))
        return
    report = await reports.get(ctx.session, int(number), lock=True)
    if report is None:
        ctx.say(t("Report #{id} is not available to you.", id=number))
        return
    if report.status == "voided":
        ctx.say(t("Report #{id} was already voided.", id=report.id))
        return
    assert ctx.person is not None
    report.status = "voided"
    report.status_reason = reason
    await reports.record_change(ctx.session, report, action="voided", by=ctx.person, now=ctx.now, note=reason)
    ctx.say(t("Report #{id} is voided: it stays on record, no longer counts, and shows the reason.", id=report.id))


@command("users", N_("People and their roles (admins)"), roles=ADMINS)
async def users_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    page = max(1, small_int(args, digits=4) or 1)
    total = int(await ctx.session.scalar(select(func.count(Person.id))) or 0)
    rows = (await ctx.session.scalars(
        select(Person).order_by(Person.id).limit(PAGE).offset((page - 1) * PAGE))).all()
    if not rows:
        ctx.say(t("No people on this page."))
        return
    channels: dict[int, list[str]] = {}
    for ident in (await ctx.session.scalars(select(Identity).where(Identity.person_id.in_([p.id for p in rows])))):
        channels.setdefault(ident.person_id, []).append(ident.channel + (" ⛔" if ident.blocked_at else ""))
    lines: list[str] = [t("<b>People</b> {first}–{last} of {total}", first=(page - 1) * PAGE + 1,
               last=(page - 1) * PAGE + len(rows), total=total)]
    for person in rows:
        where = person.unit.name if person.unit else (
            t("cluster {number}", number=person.cluster.number) if person.cluster else "")
        role = t(ROLE_NAMES[person.role]) if person.role in ROLE_NAMES else t("no role")
        lines.append(f"#{person.id} {esc(person.display_name)} · {role}"
                     + (f" · {esc(where)}" if where else "") + f" · {', '.join(channels.get(person.id, []))}")
    if total > page * PAGE:
        lines.append(t("Next page: <code>/users {page}</code>", page=page + 1))
    ctx.say(Safe("\n".join(lines)))


@command("role", N_("Change someone's role: /role 12 officer UNIT-CODE (admins)"), roles=ADMINS)
async def role_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    usage = t("Usage: <code>/role 12 officer UNIT-CODE</code>, <code>/role 12 coordinator 2</code>, "
              "<code>/role 12 admin</code> or <code>/role 12 none</code> (person numbers are in /users).")
    parts = args.split()
    person_id = small_int(parts[0].lstrip("#")) if len(parts) >= 2 else None
    if person_id is None:
        ctx.say(usage)
        return
    person = await ctx.session.get(Person, person_id)
    role, target = parts[1].lower(), parts[2] if len(parts) > 2 else ""
    if person is None:
        ctx.say(t("There is no person #{id}.", id=parts[0].lstrip("#")))
        return
    if person.id == (ctx.person.id if ctx.person else None) and role != "admin":
        ctx.say(t("You cannot take away your own admin role; ask another admin."))
        return
    if role == "officer":
        unit = await people.unit_by_code(ctx.session, target) if target else None
        if unit is None or not unit.active:
            ctx.say(Safe(t("There is no unit with the code {code}.", code=target) + "\n" + usage))
            return
        person.role, person.unit_id, person.cluster_id = "officer", unit.id, None
    elif role == "coordinator":
        number = small_int(target, digits=4)
        cluster = await people.cluster_by_number(ctx.session, number) if number is not None else None
        if cluster is None:
            ctx.say(Safe(t("There is no cluster number {number}.", number=target) + "\n" + usage))
            return
        person.role, person.unit_id, person.cluster_id = "coordinator", None, cluster.id
    elif role == "admin":
        person.role, person.unit_id, person.cluster_id = "admin", None, None
    elif role in ("none", "-"):
        person.role, person.unit_id, person.cluster_id = None, None, None
    else:
        ctx.say(usage)
        return
    await ctx.session.flush()
    await ctx.session.refresh(person, ["unit", "cluster"])
    from handlers.onboarding import describe_person

    identities = (await ctx.session.scalars(select(Identity).where(Identity.person_id == person.id))).all()
    for ident in identities:
        ctx.menu_updates.append((ident.channel, ident.chat_id, person.role, person.locale or ctx.config.default_locale))
    if person.role:
        ctx.say(t("{name} is now {what}.", name=person.display_name, what=describe_person(ctx.t, person)))
    else:
        ctx.say(t("{name} no longer has a role.", name=person.display_name))


HANDLERS = (void_cmd, users_cmd, role_cmd)
