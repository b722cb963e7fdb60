"""The API's JSON parser: the standard one, with a cap on nesting (a 400, never a RecursionError)."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from quota.core.inputs import load_json


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return load_json(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:  # invalid JSON or text, and JSON nested too deeply
            raise ParseError(f"JSON parse error - {exc}")
