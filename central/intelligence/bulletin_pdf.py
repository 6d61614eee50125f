"""The monthly risk analysis bulletin as PDF (reportlab): the same sections, rows and chart as the web
page (central.web.trends, bulletin.html), small cells suppressed alike."""
from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from central.intelligence import trends
from central.intelligence.bulletin import Bulletin

LINE_COLOURS = [colors.HexColor(c) for c in
                ("#1f5fa8", "#c0392b", "#1e8449", "#8e44ad", "#d68910", "#117a65", "#7f8c8d", "#2c3e50")]
TABLE_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black), ("ROWBACKGROUNDS", (0, 1), (-1, -1), [None, colors.whitesmoke]),
    ("VALIGN", (0, 0), (-1, -1), "TOP")])


def render(b: Bulletin) -> bytes:
    """The bulletin as a PDF document (A4); the same every time for the same bulletin."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    title = f"Risk analysis bulletin {b.month:%B %Y}"
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author="Limes risk analysis", invariant=True,
                                 leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    text = styles["BodyText"]
    story = [Paragraph(escape(title), styles["Title"]),
             Paragraph(escape(f"Weeks beginning in the month: {', '.join(map(str, b.weeks))}. Counts under "
                              f"{trends.MIN_CELL} shown as \u201c<{trends.MIN_CELL}\u201d. Numbers only; compiled "
                              "from the crossing register and officers' decisions."), text)]

    def section(heading: str, *flowables) -> None:
        story.extend([Spacer(1, 4 * mm), Paragraph(escape(heading), styles["Heading2"]), *flowables])

    anomalies = [[str(a.week), a.indicator.replace("_", " "), a.value, str(a.count),
                  f"{a.baseline}{' (seasonal)' if a.seasonal else ''}", f"{a.z:.1f}"] for a in b.anomalies]
    section("Anomalies this month", _table(["Week of", "Indicator", "Where / who", "Count", "Baseline", "z"],
                                           anomalies, "Nothing unusual this month."))
    section("Refusals per week by border point (and the eight weeks before)", _chart(b))
    for heading, result in (("By border point", b.by_point), ("By nationality", b.by_nationality)):
        section(f"{heading}: the month's totals",
                _table([result.dimension.replace("_", " "), *(i.replace("_", " ") for i in trends.INDICATORS)],
                       b.totals(result), "No crossings."))
    grounds = ", ".join(f"{g} {b.by_point.shown(n)}" for g, n in sorted(b.grounds.items())) or "No refusals."
    section("Refusal grounds", Paragraph(escape(grounds), text))
    section("Risk profiles in force and their yield",
            _table(["Profile", "Conditions", "Selected", "Refused", "Admitted", "Flags"], b.yield_rows(),
                   "No profile in force.", wrap=(1, 5)))
    document.build(story)
    return out.getvalue()


def _table(header: list[str], rows: list[list[str]], empty: str, wrap: tuple[int, ...] = ()) -> Table:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("cell", fontSize=8, leading=9.5)
    body = [[Paragraph(escape(cell), small) if k in wrap else cell for k, cell in enumerate(row)] for row in rows]
    table = Table([header, *body] if rows else [header, [empty]], repeatRows=1, hAlign="LEFT")
    table.setStyle(TABLE_STYLE)
    return table


def _chart(b: Bulletin) -> Drawing:
    lines = b.chart("refusals")
    drawing = Drawing(180 * mm, 70 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 18 * mm, 160 * mm, 48 * mm
    chart.data = list(lines.values()) or [[0] * len(b.by_point.weeks)]
    chart.categoryAxis.categoryNames = [f"{w:%d %b}" for w in b.by_point.weeks]
    chart.categoryAxis.labels.angle, chart.categoryAxis.labels.fontSize = 45, 6
    chart.categoryAxis.labels.boxAnchor = "ne"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    for k in range(len(chart.data)):
        chart.lines[k].strokeColor = LINE_COLOURS[k % len(LINE_COLOURS)]
        chart.lines[k].strokeWidth = 1.2
    drawing.add(chart)
    if lines:
        legend = Legend()
        legend.x, legend.y, legend.fontSize, legend.alignment = 14 * mm, 68 * mm, 7, "right"
        legend.columnMaximum, legend.deltax = 1, 70
        legend.colorNamePairs = [(LINE_COLOURS[k % len(LINE_COLOURS)], name) for k, name in enumerate(lines)]
        drawing.add(legend)
    return drawing
