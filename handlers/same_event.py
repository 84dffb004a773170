"""Reports of one event, linked or told apart afterwards by a coordinator (reports of their cluster) or an
admin: ``/same 12 15`` and ``/notsame 15`` (``/cungsukien``, ``/khacsukien``). Each change is a version of
the reports it touched, like ``/void``. What linking means for totals is ``storage.events``."""

from __future__ import annotations

from handlers.commands import command
from handlers.context import Context
from handlers.i18n import N_, Safe
from handlers.lookup import scope_of
from handlers.parsing import small_int
from handlers.report_view import twin_line
from storage import events, reports
from storage.models import Report

COORDINATING = frozenset({"coordinator", "admin"})


def _numbers(args: str) -> list[int | None]:
    return [small_int(word.lstrip("#")) for word in args.replace(",", " ").split()]


def _usage(ctx: Context) -> Safe:
    return ctx.t("Usage: <code>/same 12 15</code> makes reports #12 and #15 one event, counted once; "
                 "<code>/notsame 15</code> makes report #15 an event of its own again.")


async def _linkable(ctx: Context, report_id: int) -> Report | None:
    """The report, locked, if the sender may see it and it still counts; otherwise says why."""
    report = await reports.get(ctx.session, report_id, lock=True)
    if report is None or not scope_of(ctx).contains(report):
        ctx.say(ctx.t("Report #{id} is not available to you.", id=report_id))
        return None
    if report.status != "submitted":
        ctx.say(ctx.t("Report #{id} was withdrawn or voided: it no longer counts, so it cannot be linked.",
                      id=report.id))
        return None
    return report


@command("same", N_("Two reports of one event, counted once: /same 12 15"), roles=COORDINATING)
async def same_cmd(ctx: Context, args: str) -> None:
    t = ctx.t
    numbers = _numbers(args)
    if len(numbers) != 2 or numbers[0] is None or numbers[1] is None:
        ctx.say(_usage(ctx))
        return
    if numbers[0] == numbers[1]:
        ctx.say(t("Give two different reports: <code>/same 12 15</code>."))
        return
    first = await _linkable(ctx, numbers[0])
    second = await _linkable(ctx, numbers[1]) if first is not None else None
    if first is None or second is None:
        return
    assert ctx.person is not None
    if not await events.link(ctx.session, first, second, by=ctx.person, now=ctx.now):
        ctx.say(t("Reports #{first} and #{second} are one event already.", first=first.id, second=second.id))
        return
    lines = [t("✅ Reports #{first} and #{second} are one event now: every total counts it once, with the "
               "larger of their figures.", first=first.id, second=second.id)]
    twins = await twin_line(ctx, first)
    if twins:
        lines.append(t("#{id}: {twins}", id=first.id, twins=Safe(twins)))
    ctx.say(Safe("\n".join(lines)))


@command("notsame", N_("A report that is not the same event after all: /notsame 15"), roles=COORDINATING)
async def not_same_cmd(ctx: Context, args: str) -> None:
    numbers = _numbers(args)
    if len(numbers) != 1 or numbers[0] is None:
        ctx.say(_usage(ctx))
        return
    report = await _linkable(ctx, numbers[0])
    if report is None:
        return
    assert ctx.person is not None
    if not await events.unlink(ctx.session, report, by=ctx.person, now=ctx.now):
        ctx.say(ctx.t("Report #{id} is not linked to another report.", id=report.id))
        return
    ctx.say(ctx.t("✅ Report #{id} is an event of its own again, counted on its own.", id=report.id))


# Vietnamese names of the same commands ("cùng sự kiện", "khác sự kiện"), not listed in the menu.
command("cungsukien", N_("Two reports of one event, counted once: /same 12 15"), roles=COORDINATING,
        in_menu=False)(same_cmd)
command("khacsukien", N_("A report that is not the same event after all: /notsame 15"), roles=COORDINATING,
        in_menu=False)(not_same_cmd)


HANDLERS = (same_cmd, not_same_cmd)
