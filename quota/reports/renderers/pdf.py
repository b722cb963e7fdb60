"""PDF through WeasyPrint: an HTML template with inline SVG charts, rendered without fetching anything."""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from quota.reports.content import ReportContent

# WeasyPrint logs every rendering step at INFO; a scheduled report is not worth seven lines of log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class NothingToFetch(ValueError):
    pass


def refuse_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The PDF is self-contained: no fonts, images or style sheets from the network or the disk."""
    raise NothingToFetch(f"A report PDF fetches nothing (asked for {url[:80]})")


def render_pdf(content: ReportContent) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which only the renderer needs

    context = {"content": content, "language": translation.get_language(), "bidi": translation.get_language_bidi()}
    html = render_to_string("reports/pdf/report.html", context)
    return HTML(string=html, url_fetcher=refuse_fetching).write_pdf()
