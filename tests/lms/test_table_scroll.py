"""Every scrolling table region in the templates can be reached and named (WCAG 2.1.1, 4.1.2):
axe's `scrollable-region-focusable` fails a region that scrolls but takes no focus."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "lms" / "templates"
REGION = re.compile(r"<div\b[^>]*\bclass=\"table-scroll\"[^>]*>")


def test_every_table_scroll_is_a_focusable_labelled_region():
    problems, found = [], 0
    for path in sorted(TEMPLATES.rglob("*.html")):
        for tag in REGION.findall(path.read_text(encoding="utf-8")):
            found += 1
            missing = [a for a in ('tabindex="0"', 'role="region"') if a not in tag]
            if "aria-label=" not in tag and "aria-labelledby=" not in tag:
                missing.append("aria-label= or aria-labelledby=")
            if missing:
                problems.append(f"{path.relative_to(TEMPLATES)}: {tag} lacks {missing}")
    assert found > 20
    assert not problems, "\n".join(problems)
