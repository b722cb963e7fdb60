"""Static files taken one by one from npm packages, at the static paths the templates load.

Front-end packages come from npm at install time (`make install`); they are never copied into
the repository. A whole package directory in STATICFILES_DIRS would make `collectstatic` copy
and compress everything npm ships (the ECharts package alone is hundreds of files with their
source maps), so settings.NODE_STATIC_FILES names each file served instead:

    NODE_STATIC_FILES = {"vendor/echarts/echarts.min.js": "echarts/dist/echarts.min.js"}

maps a static path to a file under settings.NODE_MODULES. A file keeps its own name: only its
directory changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.utils import matches_patterns
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage


class NodeModulesFinder(finders.BaseFinder):
    """Finds the files of settings.NODE_STATIC_FILES under settings.NODE_MODULES."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        root = Path(settings.NODE_MODULES)
        # static path -> absolute source file
        self.files = {name: root / source for name, source in getattr(settings, "NODE_STATIC_FILES", {}).items()}
        super().__init__(*args, **kwargs)

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        errors: list[CheckMessage] = []
        for name, source in self.files.items():
            if PurePosixPath(name).name != source.name:
                errors.append(
                    Error(
                        f"NODE_STATIC_FILES serves {source.name!r} as {name!r}: a file must keep its own name.",
                        id="quota.E101",
                    )
                )
            elif not source.is_file():
                errors.append(
                    Error(
                        f"The static file {name!r} comes from {source}, which does not exist.",
                        hint="Install the front-end packages with `make install` (npm ci).",
                        id="quota.E102",
                    )
                )
        return errors

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:  # a path, or a list with find_all
        source = self.files.get(path)
        found = [str(source)] if source is not None and source.is_file() else []
        if source is not None:
            finders.searched_locations.append(str(source.parent))
        if find_all:
            return found
        return found[0] if found else []

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        """Each file as collectstatic copies it: its name, in a storage of its directory prefixed with the static one."""
        for name, source in self.files.items():
            if not source.is_file() or matches_patterns(source.name, list(ignore_patterns or [])):
                continue
            storage = FileSystemStorage(location=source.parent)
            storage.prefix = os.path.dirname(name)  # type: ignore[attr-defined]  # as FileSystemFinder does
            yield source.name, storage
