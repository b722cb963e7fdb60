"""Front-end files come from node_modules one by one, at the static paths the templates load, and nothing else of npm's."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import override_settings

from quota.core.staticfinders import NodeModulesFinder

NODE_MODULES = Path(settings.NODE_MODULES)
pytestmark = pytest.mark.skipif(not (NODE_MODULES / "echarts").is_dir(), reason="npm packages not installed (make install)")


def static_paths_in_templates() -> set[str]:
    paths = set()
    for template in Path(settings.BASE_DIR, "quota").rglob("*.html"):
        paths |= set(re.findall(r"{% static ['\"]([^'\"]+)['\"] %}", template.read_text()))
    return paths


def test_every_vendor_file_a_template_loads_is_found_in_node_modules():
    vendor = {path for path in static_paths_in_templates() if path.startswith("vendor/")}
    assert vendor == set(settings.NODE_STATIC_FILES)
    for path in vendor:
        found = finders.find(path)
        assert found and Path(found).resolve().is_relative_to(NODE_MODULES.resolve()), path


def test_only_the_mapped_files_are_collected():
    listed = sorted((storage.prefix, path) for path, storage in NodeModulesFinder().list([]))
    assert listed == [("vendor/echarts", "echarts.min.js"), ("vendor/htmx", "htmx.min.js")]
    assert NodeModulesFinder().find("vendor/echarts/echarts.js") == []
    assert finders.find("vendor/echarts/echarts.min.js.map") is None
    assert NodeModulesFinder().find("vendor/htmx/htmx.min.js", find_all=True) == [str(NODE_MODULES / "htmx.org/dist/htmx.min.js")]


def test_ignore_patterns_apply():
    assert list(NodeModulesFinder().list(["*.js"])) == []


def test_a_missing_package_or_a_renamed_file_fails_the_system_check():
    broken = {"vendor/x/x.min.js": "nowhere/x.min.js", "vendor/y/other.js": "htmx.org/dist/htmx.min.js"}
    with override_settings(NODE_STATIC_FILES=broken):
        errors = {error.id: error for error in NodeModulesFinder().check()}
    assert set(errors) == {"quota.E101", "quota.E102"}
    assert "make install" in errors["quota.E102"].hint
    assert NodeModulesFinder().check() == []
