"""Collected static files are pre-compressed with brotli and gzip, brotli at a quality that keeps collectstatic quick."""

import gzip

import pytest
from django.conf import settings

from quota.core.staticstorage import BROTLI_QUALITY, CompressedManifestStorage, QuickerCompressor

brotli = pytest.importorskip("brotli")


def test_production_settings_use_the_quicker_storage():
    from quota.settings import base

    assert base.STORAGES["staticfiles"]["BACKEND"] == "quota.core.staticstorage.CompressedManifestStorage"
    assert "map" in base.WHITENOISE_SKIP_COMPRESS_EXTENSIONS
    assert isinstance(CompressedManifestStorage(location=settings.BASE_DIR).create_compressor(quiet=True), QuickerCompressor)


def test_compressed_copies_hold_the_file(tmp_path):
    script = tmp_path / "charts.js"
    script.write_text("function draw(chart) { return chart.options; }\n" * 500)
    written = QuickerCompressor(quiet=True).compress(str(script))
    assert sorted(written) == [f"{script}.br", f"{script}.gz"]
    assert brotli.decompress((tmp_path / "charts.js.br").read_bytes()) == script.read_bytes()
    assert gzip.decompress((tmp_path / "charts.js.gz").read_bytes()) == script.read_bytes()
    assert brotli.compress(script.read_bytes(), quality=BROTLI_QUALITY) == (tmp_path / "charts.js.br").read_bytes()
