"""The instructor's package as PDFs: a facilitator guide and a 15-minute tabletop version.

Laid out with reportlab's platypus (the certificates use reportlab too). Every text from the
scenario goes through `lms.pdf_markup` (the web pages' Markdown parser and sanitiser, then
escaped into reportlab's paragraph markup); texts we write are escaped with `plain`.
"""

from __future__ import annotations

import io

from lms.pdf_markup import Block, blocks, inline_markup, plain, printable
from lms.services.facilitator import MODEL_PARAGRAPH, TABLETOP_MINUTES, DecisionNote, Package

BRAND = "#143a6b"
CRITICAL = "#a4161a"


def _styles():
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=13.5)
    return {
        "title": ParagraphStyle(
            "title", parent=base["Title"], textColor=HexColor(BRAND), fontSize=20, leading=24
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, textColor=HexColor("#555555"), alignment=1),
        "h2": ParagraphStyle(
            "h2",
            parent=base["Heading2"],
            textColor=HexColor(BRAND),
            fontSize=14,
            spaceBefore=10,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3", parent=base["Heading3"], fontSize=11.5, spaceBefore=6, spaceAfter=3, keepWithNext=1
        ),
        "h4": ParagraphStyle("h4", parent=base["Heading4"], fontSize=10.5),
        "body": body,
        "small": ParagraphStyle(
            "small", parent=body, fontSize=8.5, leading=11, textColor=HexColor("#444444")
        ),
        "quote": ParagraphStyle("quote", parent=body, leftIndent=14, textColor=HexColor("#333333")),
        "pre": ParagraphStyle("pre", parent=body, fontName="Courier", fontSize=9, leftIndent=10),
        "critical": ParagraphStyle("critical", parent=body, textColor=HexColor(CRITICAL), leftIndent=18),
        "feedback": ParagraphStyle("feedback", parent=body, leftIndent=18, textColor=HexColor("#333333")),
        "readaloud": ParagraphStyle("readaloud", parent=body, fontSize=11, leading=15, leftIndent=8),
    }


def _markdown(text: str, styles, *, style: str = "body", indent: float = 0) -> list:
    """Flowables for a Markdown text."""
    from reportlab.platypus import HRFlowable

    out = []
    for block in blocks(text):
        out.append(_block(block, styles, style, indent) if block.kind != "hr" else HRFlowable(width="100%"))
    return out


def _block(block: Block, styles, style: str, indent: float):
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    if block.kind in ("li", "li-cont"):
        left = indent + 14 + 14 * block.depth
        st = ParagraphStyle(f"li{left}", parent=styles[style], leftIndent=left, bulletIndent=left - 11)
        return Paragraph(block.markup, st, bulletText=block.bullet or None)
    name = {"h2": "h3", "h3": "h3", "h4": "h4", "quote": "quote", "pre": "pre"}.get(block.kind, style)
    st = styles[name]
    if indent:
        st = ParagraphStyle(f"{name}{indent}", parent=st, leftIndent=st.leftIndent + indent)
    return Paragraph(block.markup, st)


def _list(items, styles, *, style: str = "body", numbered: bool = False) -> list:
    """Flowables for a list of one-line Markdown texts."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    st = ParagraphStyle(f"list-{style}", parent=styles[style], leftIndent=16, bulletIndent=4)
    return [
        Paragraph(inline_markup(text), st, bulletText=f"{i}." if numbered else "\u2022")
        for i, text in enumerate(items, 1)
    ]


def _document(buffer, package: Package, title: str):
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.units import inch
    from reportlab.platypus import SimpleDocTemplate

    return SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=0.85 * inch,
        rightMargin=0.85 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
        title=f"{title}: {package.title}",
        author="Ripple",
        subject=f"Scenario {package.slug}, version {package.version}",
    )


def _footer(label: str):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColorRGB(0.4, 0.4, 0.4)
        canvas.drawString(doc.leftMargin, 0.5 * 72, printable(label)[:110])
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, 0.5 * 72, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def _heading(package: Package, kind: str, styles) -> list:
    from reportlab.platypus import Paragraph, Spacer

    status = "" if package.status == "published" else f" ({plain(package.status)})"
    return [
        Paragraph(plain(kind), styles["subtitle"]),
        Paragraph(plain(package.title), styles["title"]),
        Paragraph(
            f"Scenario <font face='Courier'>{plain(package.slug)}</font>, version {package.version}{status}",
            styles["subtitle"],
        ),
        Spacer(1, 10),
    ]


def _minutes_table(package: Package, styles):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Paragraph, Table, TableStyle

    rows = [["Part", "Minutes", ""]]
    for phase, label in (("briefing", "Briefing"), ("play", "Play the decisions"), ("debrief", "Debrief")):
        note = "default" if package.minutes_are_defaults[phase] else ""
        rows.append([label, str(package.minutes[phase]), note])
    rows.append(["Total", str(sum(package.minutes.values())), ""])
    table = Table(
        [[Paragraph(plain(str(c)), styles["body"]) for c in row] for row in rows], colWidths=(200, 70, 120)
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, HexColor(BRAND)),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _decision_for_facilitator(dp: DecisionNote, styles) -> list:
    from reportlab.platypus import Paragraph

    out = [Paragraph(f"Decision {dp.number}: {plain(dp.when)}", styles["h3"])]
    out += _markdown(dp.prompt, styles)
    if dp.kind == "multiple":
        out.append(Paragraph(f"<i>Officers may choose up to {dp.max_choices}.</i>", styles["small"]))
    for option in dp.options:
        marks = []
        if option.expert:
            marks.append("<b>EXPERT CHOICE</b>")
        if option.critical:
            marks.append(f"<font color='{CRITICAL}'><b>CRITICAL</b></font>")
        marks.append(f"{option.points:g} points")
        out.append(
            Paragraph(
                f"<b>{plain(option.letter)}.</b> {inline_markup(option.label)} <font size='8.5'>[{' · '.join(marks)}]</font>",
                styles["body"],
            )
        )
        if option.critical:
            out.append(Paragraph(f"Fails the attempt: {inline_markup(option.critical)}", styles["critical"]))
        out += _markdown(option.feedback, styles, style="feedback")
    label = (
        "Discussion prompts (general: the scenario gives none)"
        if dp.prompts_are_defaults
        else "Discussion prompts"
    )
    out.append(Paragraph(f"<b>{label}</b>", styles["body"]))
    out += _list(dp.prompts, styles)
    return out


def guide_pdf(package: Package) -> bytes:
    """The facilitator guide: everything an instructor needs to run the scenario with a class."""
    from reportlab.platypus import Paragraph, Spacer

    styles = _styles()
    buffer = io.BytesIO()
    doc = _document(buffer, package, "Facilitator guide")
    story = _heading(package, "Facilitator guide", styles)
    if package.summary:
        story += _markdown(package.summary, styles)

    story.append(Paragraph("Teaching objectives", styles["h2"]))
    story += _list([f"{n}. {name}" for n, name in package.objectives] or ["None listed."], styles)
    story.append(Paragraph("Session goals", styles["h2"]))
    if package.goals_are_defaults:
        story.append(
            Paragraph("General goals drawn from the objectives (the scenario sets none).", styles["small"])
        )
    story += _list(package.goals, styles)
    story.append(Paragraph("Timings", styles["h2"]))
    story.append(_minutes_table(package, styles))

    story.append(Paragraph("The briefing", styles["h2"]))
    story += _markdown(package.briefing or "(This scenario has no briefing.)", styles)

    story.append(Paragraph("Partners", styles["h2"]))
    if not package.partners:
        story.append(Paragraph("This scenario has no partners to call.", styles["body"]))
    for partner in package.partners:
        reach = "Reaches " + "; ".join(partner.reaches) if partner.reaches else "Reaches no group directly"
        story.append(
            Paragraph(
                f"<b>{plain(partner.name)}</b>, {plain(partner.kind.lower())}: usually acts about "
                f"{partner.delay_hours:g} hour{'s' if partner.delay_hours != 1 else ''} after the call. "
                f"{plain(reach)}.",
                styles["body"],
            )
        )

    story.append(Paragraph("Decision points", styles["h2"]))
    story.append(
        Paragraph(
            "Options are listed by their letter. <b>EXPERT CHOICE</b> marks the expert path; "
            f"<font color='{CRITICAL}'><b>CRITICAL</b></font> marks an option that fails the attempt "
            "whatever the score. Officers see the options in a shuffled order.",
            styles["small"],
        )
    )
    for dp in package.decisions:
        story += _decision_for_facilitator(dp, styles)

    story.append(Paragraph("Debrief prompts", styles["h2"]))
    if package.debrief_are_defaults:
        story.append(Paragraph("General prompts (the scenario gives none).", styles["small"]))
    story += _list(package.debrief_prompts, styles, numbered=True)

    story += _outcomes(package, styles)

    story.append(Paragraph("What the model assumes", styles["h2"]))
    story.append(Paragraph(plain(MODEL_PARAGRAPH), styles["body"]))
    if package.assumptions:
        story.append(Spacer(1, 4))
        story.append(Paragraph("In this scenario:", styles["body"]))
        story += _list(package.assumptions, styles)

    footer = _footer(f"Facilitator guide · {package.title} · version {package.version}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _outcomes(package: Package, styles) -> list:
    from reportlab.platypus import Paragraph

    out = [Paragraph("What happened in the model", styles["h2"])]
    if package.outcomes is None:
        out.append(
            Paragraph(
                "No reference results yet: they are worked out the first time an attempt at this "
                "version is graded, or when it is calibrated. Download the guide again after that.",
                styles["body"],
            )
        )
        return out
    out.append(
        Paragraph(
            f"Averages over {package.outcomes.runs} runs of the expert path and of the no-partnership "
            "path (the references every grade of this version is scored against).",
            styles["small"],
        )
    )
    out += _list(list(package.outcomes.figures) or ["No figures stored."], styles)
    return out


def tabletop_pdf(package: Package) -> bytes:
    """The tabletop version: a 15-minute roll-call exercise, read aloud and discussed."""
    from reportlab.platypus import Paragraph

    styles = _styles()
    buffer = io.BytesIO()
    doc = _document(buffer, package, "Tabletop")
    story = _heading(package, f"Tabletop exercise · {TABLETOP_MINUTES}-minute roll call", styles)
    story.append(
        Paragraph(
            "<b>How to run it:</b> read the briefing aloud (3 minutes), put each decision to the "
            "group and take two or three answers before moving on (7 minutes), read what happened "
            "in the model (2 minutes), then close with the three questions (3 minutes).",
            styles["body"],
        )
    )
    story.append(Paragraph("Read aloud", styles["h2"]))
    story += _markdown(
        package.briefing or package.summary or "(This scenario has no briefing.)", styles, style="readaloud"
    )

    story.append(Paragraph("Questions for the group", styles["h2"]))
    for dp in package.decisions:
        story.append(Paragraph(f"{dp.number}. {plain(dp.when)}", styles["h3"]))
        story += _markdown(dp.prompt, styles)
        story.append(
            Paragraph("<i>Ask: what would you do, and why? The choices officers had:</i>", styles["small"])
        )
        story += _list([f"{o.letter}) {o.label}" for o in dp.options], styles)

    story.append(Paragraph("What happened in the model", styles["h2"]))
    for heading, attr in (
        ("The expert chose", "expert_labels"),
        ("With no partnership, the officer chose", "baseline_labels"),
    ):
        story.append(Paragraph(f"<b>{heading}:</b>", styles["body"]))
        story += _list(
            [
                f"Decision {dp.number}: " + " ".join(getattr(dp, attr))
                if getattr(dp, attr)
                else f"Decision {dp.number}: nothing"
                for dp in package.decisions
            ],
            styles,
        )
    story += _outcomes(package, styles)[1:]

    story.append(Paragraph("Three questions to close", styles["h2"]))
    story += _list(package.tabletop_prompts, styles, numbered=True)
    story.append(Paragraph(plain(MODEL_PARAGRAPH), styles["small"]))

    footer = _footer(f"Tabletop · {package.title} · version {package.version}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
