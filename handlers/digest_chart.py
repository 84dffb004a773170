"""The digest's chart: activities per province by kind, and the last eight weeks, as one tall PNG that reads
on a phone held upright."""

from __future__ import annotations

import io
import threading
from typing import Any

from handlers.i18n import N_, Translator
from handlers.report_form import KINDS
from storage.digests import DigestData

# One colour per kind, the same in both panels and every week (colour-blind-safe "tab10" order).
KIND_COLOURS = {
    "exchange": "#1f77b4", "donation": "#ff7f0e", "visit": "#2ca02c", "delegation": "#d62728",
    "patrol": "#9467bd", "medical": "#8c564b", "outreach": "#e377c2", "twinning_signing": "#7f7f7f",
    "twinning_review": "#17becf", "other": "#bcbd22",
}
SHORT_KIND_LABELS = {
    "exchange": N_("Exchange"), "donation": N_("Donation"), "visit": N_("Visit"), "delegation": N_("Delegation"),
    "patrol": N_("Patrol"), "medical": N_("Medical care"), "outreach": N_("Outreach"),
    "twinning_signing": N_("Twinning signing"), "twinning_review": N_("Twinning review"), "other": N_("Other"),
}
# pyplot's figure registry is global state; the object-oriented API below avoids it, the lock guards the
# font cache and rcParams matplotlib keeps per process when two digests render in threads at once.
_LOCK = threading.Lock()


def render_chart(data: DigestData, t: Translator) -> bytes:
    """PNG bytes (about 1000 x 1400 pixels)."""
    with _LOCK:
        return _render(data, t)


def _render(data: DigestData, t: Translator) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from handlers.digest import week_dates

    kinds = [k for k in KINDS if data.current.total.by_kind.get(k) or any(c.get(k) for _, c in data.trend)]
    # The province panel grows with the provinces, so one province is one bar, not a wall of colour.
    top_height = 1.2 + 0.55 * max(1, len(data.current.by_province))
    figure = Figure(figsize=(8, top_height + 7.6), dpi=150, layout="constrained")
    top, middle, bottom = figure.subplots(3, 1, height_ratios=(top_height, 4.0, 3.2))
    figure.suptitle(t("Cluster {number} – week {dates}", number=data.cluster_number,
                      dates=week_dates(t, data.week)), fontsize=16, fontweight="bold")

    provinces = sorted(data.current.by_province.items(), key=lambda item: (item[1].events, item[0]))
    names = [data.province_names.get(code, code) for code, _ in provinces]
    top.set_title(t("Activities by province and kind"), fontsize=13, loc="left")
    if provinces:
        left = [0] * len(provinces)
        for kind in kinds:
            counts = [figures.by_kind.get(kind, 0) for _, figures in provinces]
            if any(counts):
                top.barh(names, counts, left=left, color=KIND_COLOURS.get(kind, "#333333"),
                         label=t(SHORT_KIND_LABELS.get(kind, kind)), height=0.6)
                left = [a + b for a, b in zip(left, counts, strict=True)]
        for y, total in enumerate(left):
            top.text(total, y, f" {t.number(total)}", va="center", fontsize=12)
        top.set_xlim(0, max(left) * 1.15 + 1)
        top.tick_params(axis="y", labelsize=12)
        top.xaxis.get_major_locator().set_params(integer=True)
        _legend_beside(top)
    else:
        top.text(0.5, 0.5, t("No activity reported in the week."), ha="center", va="center", fontsize=13,
                 transform=top.transAxes)
        top.set_yticks([])
        top.set_xticks([])
    _plain(top)

    # Weeks are named by their Monday, as people say them ("the week of 16/11"), not by ISO numbers.
    labels = [f"{week.start:%d/%m}" for week, _ in data.trend]
    middle.set_title(t("Activities in the last eight weeks (weeks from Monday)"), fontsize=13, loc="left")
    base = [0] * len(data.trend)
    for kind in kinds:
        counts = [counter.get(kind, 0) for _, counter in data.trend]
        if any(counts):
            middle.bar(labels, counts, bottom=base, color=KIND_COLOURS.get(kind, "#333333"), width=0.7,
                       label=t(SHORT_KIND_LABELS.get(kind, kind)))
            base = [a + b for a, b in zip(base, counts, strict=True)]
    for x, total in enumerate(base):
        if total:
            middle.text(x, total, t.number(total), ha="center", va="bottom", fontsize=11)
    middle.set_ylim(0, max(base, default=0) * 1.2 + 1)
    middle.tick_params(labelsize=11)
    middle.yaxis.get_major_locator().set_params(integer=True)
    _legend_beside(middle)
    _plain(middle)

    bottom.set_title(t("People taking part and gift packages, by week"), fontsize=13, loc="left")
    weeks = [f"{week.start:%d/%m}" for week, _, _ in data.trend_figures]
    positions = list(range(len(weeks)))
    people = [float(p) for _, p, _ in data.trend_figures]
    gifts = [float(g) for _, _, g in data.trend_figures]
    for offset, values, colour, label in ((-0.2, people, "#4c72b0", t("People taking part")),
                                          (0.2, gifts, "#dd8452", t("Gift packages"))):
        bars = bottom.bar([x + offset for x in positions], values, width=0.4, color=colour, label=label)
        for bar, value in zip(bars, values, strict=True):
            if value:
                bottom.text(bar.get_x() + bar.get_width() / 2, value, t.number(int(value)), ha="center",
                            va="bottom", fontsize=8)
    bottom.set_xticks(positions, weeks)
    bottom.set_ylim(0, max([*people, *gifts, 0]) * 1.2 + 1)
    bottom.tick_params(labelsize=11)
    bottom.yaxis.get_major_locator().set_params(integer=True)
    _legend_beside(bottom)
    _plain(bottom)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _legend_beside(axes: Any) -> None:
    """The panel's own legend, just right of it, so each colour is read next to its bars."""
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False, borderaxespad=0)


def _plain(axes: Any) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
