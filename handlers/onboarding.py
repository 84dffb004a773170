"""Registration by invite, language, help, invites by chat, and the main menu."""

from __future__ import annotations

import re

from handlers.commands import ADMINS, REPORTERS, Input, action, command
from handlers.context import Context
from handlers.events import Option
from handlers.i18n import LANGUAGE_NAMES, LOCALES, N_, Safe, Translator, esc
from handlers.keyboard_layout import shorten
from handlers.parsing import clean_name, small_int
from storage import linking, people, senders
from storage.folding import fold
from storage.models import Invite, Person, Unit
from storage.senders import Sender

ROLE_NAMES = {"officer": N_("officer"), "coordinator": N_("coordinator"), "admin": N_("administrator")}


def invite_link(bot_username: str | None, code: str) -> str | None:
    return f"https://t.me/{bot_username}?start={code}" if bot_username else None


def describe_person(t: Translator, person: Person | Sender) -> Safe:
    role = t(ROLE_NAMES.get(person.role or "", person.role or ""))
    if person.role == "officer" and person.unit:
        return t("{role} of {unit} ({province})", role=role, unit=person.unit.name,
                 province=person.unit.province.name)
    if person.role == "coordinator" and person.cluster:
        return t("{role} of cluster {number}: {name}", role=role, number=person.cluster.number,
                 name=person.cluster.name)
    return t("{role}", role=role)


def main_menu(ctx: Context) -> list[Option]:
    t = ctx.t
    return [
        Option(t("📝 Report an activity"), "menu:report"),
        Option(t("📋 My reports"), "menu:myreports"),
        Option(t("🌐 Language"), "menu:lang"),
    ]


async def explain_registration(ctx: Context) -> None:
    ctx.say(ctx.t(
        "This bot is for border officers and village representatives who report twinning activities "
        "with partners across the border.\n"
        "To use it you need an invite from your cluster coordinator or your provincial friendship union. "
        "Open the invite link you received, or send /start followed by the invite code."
    ))


async def fallback(ctx: Context) -> None:
    if ctx.role is None:
        await explain_registration(ctx)
        return
    from handlers import quick_report

    if await quick_report.offer(ctx):  # what happened, typed as one message
        return
    ctx.say(ctx.t("What would you like to do?"), main_menu(ctx))


@command("start", N_("Start, or register with an invite code"), aside=False)
async def start(ctx: Context, args: str) -> None:
    code = args.strip()
    if not code:
        if ctx.person is None or ctx.role is None:
            await explain_registration(ctx)
            return
        ctx.say(
            ctx.t("Hello, {name}! You are registered as {what}.", name=ctx.person.display_name,
                  what=describe_person(ctx.t, ctx.person)),
            main_menu(ctx),
        )
        return
    invite = await people.invite_by_code(ctx.session, code)
    if invite is not None and linking.is_link(invite):
        from handlers.linking import redeem  # a code from /link on another app: the same person

        await redeem(ctx, invite)
        return
    problem = invite_problem(ctx, invite)
    if problem is not None:
        ctx.say(problem)
        return
    assert invite is not None
    person = await people.accept_invite(
        ctx.session,
        invite,
        channel=ctx.incoming.channel,
        external_id=ctx.incoming.user_id,
        chat_id=ctx.incoming.chat_id,
        display_name=clean_name(ctx.incoming.display_name),
        username=ctx.incoming.username,
        locale=ctx.t.locale,
        now=ctx.now,
    )
    await ctx.session.flush()
    ctx.sender = await senders.sender(ctx.session, ctx.incoming.channel, ctx.incoming.user_id)
    if person.role == "officer" and person.unit:
        greeting = ctx.t("Welcome, {name}! You are now registered as officer of {unit}.",
                         name=person.display_name, unit=person.unit.name)
    else:
        greeting = ctx.t("Welcome, {name}! You are now registered as {what}.",
                         name=person.display_name, what=describe_person(ctx.t, person))
    ctx.say(Safe(greeting + "\n" + ctx.t("Send /help at any time to see what you can do.")), main_menu(ctx))
    ctx.commands_changed = True


def invite_problem(ctx: Context, invite: Invite | None) -> Safe | None:
    t = ctx.t
    if invite is None:
        return t("This invite code is not valid. Check that you typed it exactly, "
                 "or ask your coordinator for a new invite.")
    if invite.used_at is not None:
        return t("This invite has already been used. Each invite works once; ask your coordinator for a new one.")
    if invite.expires_at <= ctx.now:
        return t("This invite expired on {date}. Ask your coordinator for a new one.",
                 date=t.date(invite.expires_at.astimezone(ctx.config.tz).date()))
    return None


@command("help", N_("What this bot can do"), in_groups=True)
async def help_(ctx: Context, _args: str) -> None:
    lines: list[str] = [ctx.t("<b>Commands</b>")]
    from handlers.registry import current

    lines += [f"/{c.name} – {ctx.t(c.description)}" for c in current().menu_for(ctx.role)]
    if ctx.role is None:
        lines.append("")
        lines.append(ctx.t("You are not registered yet: you need an invite from your coordinator."))
    ctx.say("\n".join(lines))


@command("lang", N_("Tiếng Việt / English"))
async def lang(ctx: Context, args: str) -> None:
    wanted = args.strip().lower()
    if wanted in LOCALES:
        await set_language(ctx, wanted)
        return
    ctx.say(ctx.t("Choose your language:"), [Option(LANGUAGE_NAMES[c], f"lang:{c}") for c in LOCALES],
            columns=2)


@action("lang")
async def set_language(ctx: Context, code: str) -> None:
    if code not in LOCALES:
        return
    if ctx.sender is not None:
        ctx.sender = await senders.set_locale(ctx.session, ctx.sender, code)
    else:
        ctx.set_state(locale=code)
    ctx.t = Translator(code, ctx.config.tz)
    ctx.notice = LANGUAGE_NAMES[code]
    ctx.say(ctx.t("Language set to English."))
    ctx.commands_changed = True


@action("menu")
async def menu_choice(ctx: Context, arg: str) -> None:
    from handlers.core import run_command

    if arg in ("report", "myreports", "lang"):
        await run_command(ctx, arg, "")


_INVITE_RE = re.compile(r"^(\S+)(?:\s+(.+?))?(?:\s+(\d{1,3})d)?$", re.IGNORECASE)
# The role as an admin may write it, in either language (folded).
_ROLE_WORDS = {"officer": "officer", "can bo": "officer", "coordinator": "coordinator", "dieu phoi": "coordinator",
               "dieu phoi vien": "coordinator", "admin": "admin", "quan tri": "admin", "quan tri vien": "admin"}


@command("invite", N_("Create an invite (admins)"), roles=ADMINS)
async def invite_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    usage = t("Usage:\n<code>/invite officer UNIT-CODE</code> or <code>/invite officer part of its name</code>\n"
              "<code>/invite coordinator CLUSTER-NUMBER</code>\n<code>/invite admin</code>\nAdd e.g. "
              "<code>14d</code> at the end for a validity other than {days} days.", days=ctx.config.invite_days)
    words = " ".join(args.split())
    role = None
    for written, meant in sorted(_ROLE_WORDS.items(), key=lambda item: -len(item[0])):
        if fold(words) == written or fold(words).startswith(written + " "):
            role, words = meant, " ".join(words.split()[len(written.split()):])
            break
    m = _INVITE_RE.match(f"{role} {words}".strip()) if role else None
    if not m or role is None:
        ctx.say(usage)
        return
    target, days_text = m.group(2), m.group(3)
    days = int(days_text) if days_text else ctx.config.invite_days
    if not 1 <= days <= 90:
        ctx.say(t("An invite can be valid for 1 to 90 days."))
        return
    unit = cluster = None
    if role == "officer":
        unit = await people.unit_by_code(ctx.session, target or "") if target else None
        if unit is None or not unit.active:
            found = await people.units_named(ctx.session, target or "") if target else []
            if len(found) > 1:
                # Several units hold those words: the admin picks one.
                ctx.say(t("Several units match “{text}”. Which one?", text=target or ""),
                        [Option(shorten(f"{u.name} ({u.province.name})"), f"iv:{u.id}:{days}") for u in found])
                return
            unit = found[0] if found else None
        if unit is None:
            ctx.say(Safe(t("There is no unit with the code or name “{text}”.", text=target or "") + "\n" + usage))
            return
    elif role == "coordinator":
        number = small_int(target, digits=4)
        cluster = await people.cluster_by_number(ctx.session, number) if number is not None else None
        if cluster is None:
            ctx.say(Safe(t("There is no cluster number {number}.", number=target or "") + "\n" + usage))
            return
    invite = await people.create_invite(ctx.session, role=role, now=ctx.now, days=days, unit=unit,
                                        cluster=cluster, created_by=ctx.person)
    ctx.say(invite_message(ctx, invite))


@action("iv", roles=ADMINS)
async def invite_for_unit(ctx: Context, arg: str) -> None:
    """The unit an admin picked among those matching /invite officer's words."""
    unit_id, _, days_text = arg.partition(":")
    number, days = small_int(unit_id), small_int(days_text, digits=2)
    unit = await ctx.session.get(Unit, number) if number is not None else None
    if unit is None or not unit.active or days is None or not 1 <= days <= 90:
        ctx.notice = ctx.t("This button is no longer in use.")
        return
    invite = await people.create_invite(ctx.session, role="officer", now=ctx.now, days=days, unit=unit,
                                        created_by=ctx.person)
    ctx.say(invite_message(ctx, invite))


def invite_message(ctx: Context, invite: Invite) -> Safe:
    t = ctx.t
    target = invite.unit.name if invite.unit else (
        t("cluster {number}", number=invite.cluster.number) if invite.cluster else "")
    lines = [
        t("Invite ({role}{target}): <code>{code}</code>",
          role=t(ROLE_NAMES[invite.role]), target=Safe(f" – {esc(target)}" if target else ""), code=invite.code),
        t("Valid once, until {date}.", date=t.date(invite.expires_at.astimezone(ctx.config.tz).date())),
    ]
    link = invite_link(ctx.config.bot_username, invite.code)
    if link:
        lines.append(t("Link to forward: {link}", link=link))
    else:
        lines.append(t("The new user sends: <code>/start {code}</code>", code=invite.code))
    return Safe("\n".join(lines))


@command("whoami", N_("Who I am registered as"), roles=REPORTERS)
async def whoami(ctx: Context, _args: str) -> None:
    assert ctx.person is not None
    ctx.say(ctx.t("You are registered as {what}.", what=describe_person(ctx.t, ctx.person)))


async def fallback_input(ctx: Context) -> bool:
    await fallback(ctx)
    return True


HANDLERS = (start, help_, lang, set_language, menu_choice, invite_cmd, invite_for_unit, whoami,
            Input(fallback_input, last=True))
