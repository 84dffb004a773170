"""One person, several messengers: ``/link`` gives a registered person a code; typed on another app as
``/start CODE`` (or ``/link CODE``) it makes that account theirs too, so their reports, role and digests stay
one person's. ``onboarding.start`` hands a link code to ``redeem``.
"""

from __future__ import annotations

from handlers import onboarding
from handlers.commands import command
from handlers.context import Context
from handlers.i18n import N_, Safe, Translator
from storage import linking, people, senders
from storage.models import Invite


@command("link", N_("Use this bot from another app (Zalo, Telegram) as the same person"))
async def link_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    code = args.strip()
    if code:
        invite = await people.invite_by_code(ctx.session, code)
        if invite is None or not linking.is_link(invite):
            ctx.say(t("This link code is not valid. On the app where you are registered, send /link "
                      "to get a new one."))
            return
        await redeem(ctx, invite)
        return
    person = ctx.person
    if person is None or ctx.role is None:
        await onboarding.explain_registration(ctx)
        return
    invite = await linking.create_link_code(ctx.session, person, now=ctx.now)
    ctx.say(Safe("\n".join([
        t("To use this bot from another app as the same person, send this there (to the twinbot bot):"),
        t("<code>/start {code}</code>", code=invite.code),
        t("The code works once, until {time} on {date}. Do not share it: whoever sends it acts as you.",
          time=invite.expires_at.astimezone(ctx.config.tz).strftime("%H:%M"),
          date=t.date(invite.expires_at.astimezone(ctx.config.tz).date())),
    ])))


async def redeem(ctx: Context, invite: Invite) -> None:
    t = ctx.t
    incoming = ctx.incoming
    try:
        linked = await linking.redeem(ctx.session, invite, channel=incoming.channel, external_id=incoming.user_id,
                                      chat_id=incoming.chat_id, username=incoming.username, now=ctx.now)
    except linking.LinkError as exc:
        ctx.say({
            "used": t("This link code has already been used. Send /link again where you are registered."),
            "expired": t("This link code has expired. Send /link again where you are registered."),
            "gone": t("This link code no longer works. Ask your coordinator for an invite."),
            "taken": t("This account is already registered to someone else, so it cannot be linked. "
                       "Ask an administrator for help."),
        }[exc.reason])
        return
    await ctx.session.flush()
    ctx.sender = await senders.sender(ctx.session, incoming.channel, incoming.user_id)
    person = linked.person
    if person.locale:
        ctx.t = t = Translator(person.locale, ctx.config.tz)
    what = onboarding.describe_person(t, person)
    if linked.already:
        ctx.say(t("This account already belongs to {name} ({what}).", name=person.display_name, what=what))
        return
    ctx.say(Safe(t("✅ Linked: this account now belongs to {name} ({what}), as your other one does.",
                   name=person.display_name, what=what) + "\n"
                 + t("Send /help at any time to see what you can do.")), onboarding.main_menu(ctx))
    ctx.commands_changed = True


HANDLERS = (link_cmd,)
