"""Charts for the statistics pages, drawn on the server as SVG (no script needed).

Each chart is an ``<svg role="img">`` with a title and a description, and the page shows the
same numbers in a table next to it (RGAA: the table is the accessible alternative). Colours are
DSFR ones; presentation attributes (``fill``), never ``style``, because of the CSP.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from idp.admin.stats.figures import STATE_LABELS, Counts
from idp.i18n import _

#: Segment order and DSFR colours (success, info, warning, grey, error).
SEGMENTS = (
    ("active", "#18753c"),
    ("notified", "#0063cb"),
    ("expired", "#b34000"),
    ("not_created", "#929292"),
    ("locked", "#ce0500"),
    ("disabled", "#3a3a3a"),
)
TEXT = "#161616"
GRID = "#dddddd"
FONT = 'font-family="Marianne, arial, sans-serif"'


def _svg(width: int, height: int, title: str, desc: str, body: list[str], ident: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" {FONT} font-size="13">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text part is escaped


def _legend(y: int, x: int = 0) -> list[str]:
    parts = []
    for state, colour in SEGMENTS:
        parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        label = escape(STATE_LABELS[state])
        parts.append(f'<text x="{x + 16}" y="{y}" fill="{TEXT}">{label}</text>')
        x += 24 + 8 * len(STATE_LABELS[state])
    return parts


def state_bars(rows: list[tuple[str, Counts]], title: str, ident: str) -> Markup:
    """One stacked bar per row (a class or a school): the share of each account state."""
    label_w, bar_w, rate_w, bar_h, gap = 180, 560, 90, 18, 8
    width = label_w + bar_w + rate_w
    height = 30 + len(rows) * (bar_h + gap) + 10
    body = _legend(16)
    y = 30
    for label, counts in rows:
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_short(label, 24))}</text>"
        )
        x = float(label_w)
        total = counts.total
        if total == 0:
            body.append(
                f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="{GRID}"/>'
            )
        for state, colour in SEGMENTS:
            n = counts[state]
            if not n:
                continue
            w = bar_w * n / total
            tip = _("%(label)s : %(state)s %(n)s sur %(total)s") % {
                "label": label,
                "state": STATE_LABELS[state],
                "n": n,
                "total": total,
            }
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            x += w
        rate = _("%(rate)s %% activés") % {"rate": f"{counts.rate * 100:.0f}"}
        body.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 13}" fill="{TEXT}">{escape(rate)}</text>'
        )
        y += bar_h + gap
    line = _("%(label)s : %(active)s activés sur %(total)s")
    desc = "; ".join(
        line % {"label": label, "active": counts["active"], "total": counts.total}
        for label, counts in rows[:50]
    )
    return _svg(width, height, title, desc or _("Aucune donnée"), body, ident)


def timeline(points: list[tuple[date, int, int]], title: str, ident: str) -> Markup:
    """Cumulative activations over time, one line for pupils and one for guardians."""
    width, height, left, bottom, top = 830, 260, 56, 36, 28
    plot_w, plot_h = width - left - 16, height - bottom - top
    cumulative, pupils, guardians = [], 0, 0
    for week, p, g in points:
        pupils, guardians = pupils + p, guardians + g
        cumulative.append((week, pupils, guardians))
    peak = max([1] + [max(p, g) for _, p, g in cumulative])
    tick = _nice_step(peak)
    top_value = tick * -(-peak // tick)
    step = plot_w / max(1, len(cumulative) - 1)
    body = []
    for value in range(0, top_value + 1, tick):
        y = top + plot_h - plot_h * value / top_value
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 16}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{value}</text>'
        )
    peak = top_value
    shown_month = None
    for i, (week, _pupils, _guardians) in enumerate(cumulative):
        if week.month != shown_month:
            shown_month = week.month
            x = left + i * step
            body.append(
                f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{TEXT}">'
                f"{week:%m/%y}</text>"
            )
    for index, colour, name in ((1, "#0063cb", _("Élèves")), (2, "#18753c", _("Responsables"))):
        coords = " ".join(
            f"{left + i * step:.1f},{top + plot_h - plot_h * point[index] / peak:.1f}"
            for i, point in enumerate(cumulative)
        )
        body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="3"/>')
        x = left + (0 if index == 1 else 110)
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 16}" y="16" fill="{TEXT}">{name}</text>')
    desc = (
        _(
            "Du %(start)s au %(end)s : %(pupils)s comptes élèves et %(guardians)s comptes "
            "responsables activés."
        )
        % {
            "start": f"{points[0][0]:%d/%m/%Y}",
            "end": f"{points[-1][0]:%d/%m/%Y}",
            "pupils": pupils,
            "guardians": guardians,
        }
        if points
        else _("Aucune activation sur la période.")
    )
    return _svg(width, height, title, desc, body, ident)


def route_bars(routes: dict[str, int], labels: dict[str, str], title: str, ident: str) -> Markup:
    """Active accounts by activation route."""
    label_w, bar_w, bar_h, gap = 140, 560, 18, 8
    items = [(labels.get(k, k), n) for k, n in routes.items()]
    peak = max([1] + [n for _, n in items])
    height = len(items) * (bar_h + gap) + 8
    body, y = [], 4
    for label, n in items:
        body.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" fill="{TEXT}">'
            f"{escape(label)}</text>"
        )
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{bar_w * n / peak:.1f}" height="{bar_h}" '
            'fill="#000091"/>'
        )
        body.append(
            f'<text x="{label_w + bar_w * n / peak + 6:.1f}" y="{y + 13}" fill="{TEXT}">{n}</text>'
        )
        y += bar_h + gap
    desc = "; ".join(f"{label} : {n}" for label, n in items)
    return _svg(label_w + bar_w + 60, height, title, desc, body, ident)


def _nice_step(peak: int) -> int:
    """A round step giving at most five grid lines (1, 2, 5, 10, 20, 50…)."""
    step = 1
    while peak / step > 5:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if peak / step <= 5:
                break
    return step


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
