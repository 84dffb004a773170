"""The conversation core: one incoming event in, replies out, in one locked transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import onboarding
from handlers.commands import allowed
from handlers.context import Context, CoreConfig
from handlers.events import Incoming, Outcome, Reply, job_item, menu_item, reply_item
from handlers.i18n import Translator, normalise_locale
from handlers.parsing import small_int
from handlers.registry import current
from storage import conversations, inbox, outbox, senders
from storage.db import Database
from storage.folding import fold
from storage.outbox import Outgoing

log = logging.getLogger(__name__)

# Built at start-up: a handler registered twice, or left out of its module's list, stops the bot here.
REGISTRY = current()


class Core:
    def __init__(self, db: Database, config: CoreConfig) -> None:
        self.db = db
        self.config = config

    async def handle(self, incoming: Incoming) -> Outcome:
        """Handle one event; a failure rolls everything back and still answers the user."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._handle(incoming)
            except DBAPIError as exc:
                # Lock timeouts, deadlocks, serialisation failures, a dropped connection: worth another go.
                if attempt == ATTEMPTS:
                    log.exception("event %s/%s failed %d times", incoming.channel, incoming.event_key, attempt)
                    break
                log.warning("event %s/%s: %s; trying again", incoming.channel, incoming.event_key,
                            type(exc.orig).__name__)
                await asyncio.sleep(0.05 * attempt)
            except Exception:
                log.exception("event %s/%s failed", incoming.channel, incoming.event_key)
                break
        return await self.give_up(incoming)

    async def give_up(self, incoming: Incoming) -> Outcome:
        """Apologise, and take the stored update out of the inbox so that it is not tried for ever. If even
        that cannot be written (the database is gone), the apology goes out unstored and the update stays,
        to be handled when the database is back."""
        t = Translator(normalise_locale(incoming.language_code, self.config.default_locale), self.config.tz)
        sorry = Reply(text=t("Sorry, that did not work. Please try again later."))
        outcome = Outcome(replies=[sorry], notice=sorry.text, locale=t.locale)
        try:
            async with self.db.unit_of_work() as uow:
                if incoming.inbox_id is not None and not await inbox.done(uow.session, incoming.inbox_id):
                    # Gone from the inbox: another worker handled it meanwhile, and its answer went out.
                    log.info("event %s/%s was handled elsewhere; not given up", incoming.channel, incoming.event_key)
                    return Outcome(duplicate=True)
                outcome.outgoing = [await self._owe(uow.session, incoming.channel, incoming.chat_id,
                                                    [reply_item(sorry, t.locale)])]
                await uow.commit()
        except Exception:
            log.exception("could not record the failure of event %s/%s", incoming.channel, incoming.event_key)
        return outcome

    async def _owe(self, session: AsyncSession, channel: str, chat_id: str, items: list[dict[str, Any]], *,
                   delay: dt.timedelta | None = None, coalesce: str | None = None,
                   saving: dict[str, Any] | None = None) -> Outgoing:
        now = self.config.clock()
        return await outbox.add(session, channel, chat_id, items, owner=self.config.worker, now=now,
                                lease=self.config.lease, due_at=now + delay if delay else None, coalesce=coalesce,
                                saving=saving)

    async def _handle(self, incoming: Incoming) -> Outcome:
        async with self.db.unit_of_work() as uow:
            session = uow.session
            taken: bool | None = None
            if not self.db.is_sqlite:
                # Taken with BEGIN (SQLite's transaction holds the lock from its start): what follows reads the
                # conversation as the previous event of this user left it.
                await conversations.take_lock(session, incoming.channel, incoming.user_id)
            if incoming.inbox_id is not None and not self.db.is_sqlite and not incoming.out_of_turn:
                # The conversation, the sender and the update's taking out of the inbox in one statement.
                conversation, sender, taken = await senders.conversation_sender_taking(
                    session, incoming.channel, incoming.user_id, incoming.inbox_id)
            else:
                conversation, sender = await senders.conversation_and_sender(session, incoming.channel,
                                                                             incoming.user_id)
            if incoming.inbox_id is not None:
                # Stored updates were recorded as seen when stored: taking it out of the inbox is the check.
                if taken is None:
                    taken = await inbox.take(session, incoming.channel, incoming.user_id, incoming.inbox_id,
                                             out_of_turn=incoming.out_of_turn)
                if not taken:
                    older = None if incoming.out_of_turn else await inbox.older_waiting(
                        session, incoming.channel, incoming.user_id, incoming.inbox_id)
                    if older is not None:
                        return Outcome(waiting_for=older)
                    log.info("event %s/%s was handled already", incoming.channel, incoming.event_key)
                    return Outcome(duplicate=True)
            elif incoming.event_key and not await conversations.first_time(
                session, incoming.channel, incoming.event_key
            ):
                log.info("duplicate event %s/%s ignored", incoming.channel, incoming.event_key)
                await uow.commit()
                return Outcome(duplicate=True)
            if sender is not None:
                sender = await senders.unblocked(session, sender)
            locale = (
                (sender.locale if sender else None)
                or conversation.data.get("locale")
                or normalise_locale(incoming.language_code, self.config.default_locale)
            )
            ctx = Context(
                session=session,
                incoming=incoming,
                conversation=conversation,
                sender=sender,
                config=self.config,
                t=Translator(locale, self.config.tz),
                now=self.config.clock(),
            )
            await route(ctx)
            outgoing = await self._store_answers(session, ctx)
            await uow.commit()
        return Outcome(replies=ctx.replies, notice=ctx.notice, role=ctx.role, locale=ctx.t.locale,
                       outgoing=outgoing)

    async def _store_answers(self, session: AsyncSession, ctx: Context) -> list[Outgoing]:
        """The conversation written back and everything the event owes in the outbox, in the event's own
        transaction; where the database can, the conversation goes with the first answer, in one statement."""
        incoming, locale = ctx.incoming, ctx.t.locale
        items = [reply_item(reply, locale) for reply in ctx.replies]
        items += [job_item(name, args, locale) for name, args in ctx.jobs]
        if ctx.commands_changed and incoming.private_chat:
            items.append(menu_item(ctx.role, locale))
        owed = []
        if items and outbox.saves_along(session):
            owed.append(await self._owe(session, incoming.channel, incoming.chat_id, items,
                                        saving=conversations.unsaved(ctx.conversation)))
        else:
            await conversations.save(session, ctx.conversation)
            if items:
                owed.append(await self._owe(session, incoming.channel, incoming.chat_id, items))
        for channel, chat_id, role, their_locale in ctx.menu_updates:
            owed.append(await self._owe(session, channel, chat_id, [menu_item(role, their_locale)]))
        for key in ctx.unsaid:
            await outbox.forget(session, f"{incoming.channel}:{incoming.chat_id}:{key}")
        for later in ctx.later:
            coalesce = f"{incoming.channel}:{incoming.chat_id}:{later.key}"
            owed.append(await self._owe(session, incoming.channel, incoming.chat_id,
                                        [reply_item(later.reply, locale)], delay=later.delay, coalesce=coalesce))
        return owed


ATTEMPTS = 3


def addressed_to_us(ctx: Context) -> bool:
    """``/help@OtherBot`` in a group is for another bot."""
    head = (ctx.incoming.text or "").split(maxsplit=1)[0] if ctx.incoming.text else ""
    _, at, name = head.partition("@")
    return not at or not ctx.config.bot_username or name.lower() == ctx.config.bot_username.lower()


def aside_marker(ctx: Context) -> tuple[object, ...] | None:
    """What tells whether a command or button was an aside to an open report: the draft is where it was
    and no new buttons were shown (a confirmation's buttons must stay the current ones). None outside a
    private report, where nothing is shown again (a group must never see someone's draft)."""
    if not ctx.conversation.flow or not ctx.incoming.private_chat:
        return None
    return ctx.conversation.flow, ctx.conversation.step, ctx.conversation.seq


def typed_choice(ctx: Context) -> str | None:
    """On channels without buttons the user answers a menu with its number or its words: the whole label,
    or one whole part of it ("Outgoing" for "Outgoing (đoàn ra)", "Culture" for "Culture / arts"), never
    the first letters of one, which could be a word meant as the answer ("Quà" is not "Quay lại")."""
    menu = ctx.state.get("menu")
    text = (ctx.incoming.text or "").strip()
    if not menu or not text:
        return None
    options = menu["options"]
    number = small_int(text, digits=3)
    if not menu.get("free") and number is not None and 1 <= number <= len(options):
        return str(options[number - 1][0])
    key = fold(text)
    if not key:
        return None
    whole = [value for value, label in options if key == fold(label)]
    if whole:
        return str(whole[0])
    parts = [value for value, label in options if key in label_parts(label)]
    return str(parts[0]) if len(parts) == 1 else None


_LABEL_PARTS = re.compile(r"[()/]|\s·\s")


def label_parts(label: str) -> set[str]:
    """The parts a label is made of, as one may type them: "Outgoing (đoàn ra)" is "outgoing" or "doan ra"."""
    return {part for part in (fold(piece) for piece in _LABEL_PARTS.split(label)) if part}


async def route(ctx: Context) -> None:
    incoming = ctx.incoming
    if not incoming.private_chat:
        # Only commands meant for groups: a group message must never feed the sender's private draft.
        parsed = incoming.command
        if parsed is not None and addressed_to_us(ctx):
            cmd = REGISTRY.commands.get(parsed[0])
            if cmd is not None and cmd.in_groups:
                await run_command(ctx, *parsed)
        return
    if incoming.choice is not None:
        await on_choice(ctx, incoming.choice, incoming.choice_seq)
        return
    parsed = incoming.command
    if parsed is not None:
        await run_command(ctx, *parsed)
        return
    choice = typed_choice(ctx)
    if choice is not None:
        await on_choice(ctx, choice, ctx.conversation.seq)
        return
    for entry in REGISTRY.inputs:
        if await entry.handler(ctx):
            return


async def reprompt(ctx: Context, *, stale: bool = False) -> None:
    """Show again where the user is in the flow under way, if any."""
    flow = REGISTRY.flows.get(ctx.conversation.flow or "")
    if flow is not None:
        await flow.reprompt(ctx, stale=stale)


async def run_command(ctx: Context, name: str, args: str) -> None:
    cmd = REGISTRY.commands.get(name)
    if cmd is None:
        ctx.say(ctx.t("I don't know the command /{name}. Send /help to see what I can do.", name=name))
        return
    if not allowed(cmd, ctx.role):
        if ctx.person is None or ctx.role is None:
            await onboarding.explain_registration(ctx)
        else:
            ctx.say(ctx.t("Sorry, this command is not available to you."))
        return
    before = aside_marker(ctx)
    await cmd.handler(ctx, args)
    if cmd.aside and before == aside_marker(ctx):
        # An aside (/help, /lang …) in the middle of a report: show again where the user was.
        await reprompt(ctx)


async def on_choice(ctx: Context, value: str, seq: int | None) -> None:
    prefix, _, arg = value.partition(":")
    entry = REGISTRY.actions.get(prefix)
    if entry is None:
        ctx.notice = ctx.t("This button is no longer in use.")
        return
    if entry.roles is not None and ctx.role not in entry.roles:
        ctx.notice = ctx.t("Sorry, this is not available to you.")
        return
    if entry.current_only and seq != ctx.conversation.seq:
        if entry.stale is not None and entry.stale(ctx, arg, seq):
            return
        ctx.notice = ctx.t("That button belongs to an earlier message.")
        await reprompt(ctx, stale=True)
        return
    before = aside_marker(ctx)
    await entry.handler(ctx, arg)
    if entry.aside and before == aside_marker(ctx):
        await reprompt(ctx)
