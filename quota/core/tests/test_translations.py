"""The Polish, Russian and Persian catalogues: complete, not fuzzy, placeholders kept, plural forms right, used by the pages.

After adding or changing strings, run `scripts/translations`: it refreshes the catalogues and lists what is
left to translate.
"""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LANGS = ("pl", "ru", "fa")
# The number of plural forms each language may declare (Persian: one form, or two as Django's own catalogue has).
NPLURALS = {"pl": {3}, "ru": {3}, "fa": {1, 2}}
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "var", "*/tests/*"]

# %(name)s and friends, and bare %s / %d; "%%" is a literal percent sign. A "%" followed by a space (as in
# "20 % of") is text, even where xgettext marks the entry python-format.
PYTHON_PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdifr]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def catalogue(lang: str) -> polib.POFile:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"
    assert path.is_file(), f"{path} is missing: run scripts/translations"
    return polib.pofile(str(path))


def placeholders(text: str) -> tuple[set[str], set[str]]:
    return set(PYTHON_PLACEHOLDER.findall(text.replace("%%", ""))), set(BRACE_PLACEHOLDER.findall(text))


def entries(po: polib.POFile) -> list[polib.POEntry]:
    return [e for e in po if not e.obsolete]


def show(msgids: list[str]) -> str:
    return "\n".join(f"  {m!r}" for m in msgids[:20]) + (f"\n  ... and {len(msgids) - 20} more" if len(msgids) > 20 else "")


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_is_complete(lang):
    po = catalogue(lang)
    assert po.metadata.get("Language") == lang
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated (run scripts/translations):\n{show(untranslated)}"
    assert not fuzzy, f"{lang}: {len(fuzzy)} fuzzy (check and clear the flag):\n{show(fuzzy)}"
    assert not po.metadata_is_fuzzy, f"{lang}: the header is marked fuzzy"
    assert len(entries(po)) > 0


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_placeholders(lang):
    broken = []
    for e in entries(catalogue(lang)):
        sources = [e.msgid, e.msgid_plural] if e.msgid_plural else [e.msgid]
        allowed = [placeholders(s) for s in sources]
        targets = list(e.msgstr_plural.values()) if e.msgid_plural else [e.msgstr]
        for target in targets:
            if target and placeholders(target) not in allowed:
                broken.append(f"{e.msgid!r} -> {target!r}")
    assert not broken, f"{lang}: placeholders differ from the msgid:\n" + "\n".join(broken)


@pytest.mark.parametrize("lang", LANGS)
def test_plural_forms(lang):
    po = catalogue(lang)
    header = po.metadata.get("Plural-Forms", "")
    match = re.search(r"nplurals\s*=\s*(\d+)\s*;\s*plural\s*=", header)
    assert match, f"{lang}: no Plural-Forms header"
    nplurals = int(match.group(1))
    assert nplurals in NPLURALS[lang], f"{lang}: nplurals={nplurals}, expected one of {sorted(NPLURALS[lang])}"
    for e in entries(po):
        if e.msgid_plural:
            forms = [e.msgstr_plural.get(i, "") for i in range(nplurals)]
            assert sorted(e.msgstr_plural) == list(range(nplurals)), f"{lang}: {e.msgid!r} has forms {sorted(e.msgstr_plural)}"
            assert all(forms), f"{lang}: {e.msgid!r} has an empty plural form"


@pytest.fixture
def compiled_catalogues(tmp_path):
    """The .po files as they are now, compiled into a temporary LOCALE_PATHS (a stale .mo in the tree does not count)."""
    for lang in LANGS:
        target = tmp_path / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        catalogue(lang).save_as_mofile(str(target / "django.mo"))
    with override_settings(LOCALE_PATHS=[tmp_path]):  # resets Django's cached catalogues, on entry and on exit
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGS)
def test_login_page_is_translated(client, compiled_catalogues, lang):
    with translation.override(lang):
        log_in = translation.gettext("Log in")
        title = translation.gettext("Log in to Quota")
    assert log_in != "Log in" and title != "Log in to Quota"

    response = client.post("/i18n/setlang/", {"language": lang, "next": "/login/"})
    assert response.status_code == 302
    page = client.get("/login/").content.decode()

    assert log_in in page and title in page
    direction = "rtl" if lang == "fa" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in page


@pytest.mark.slow
def test_makemessages_finds_nothing_new(tmp_path, monkeypatch):
    """Every string in the code and templates is in the catalogues (otherwise: run scripts/translations)."""
    missing_tools = [tool for tool in ("xgettext", "msgmerge", "msguniq") if shutil.which(tool) is None]
    if missing_tools:
        pytest.skip(f"GNU gettext is not installed ({', '.join(missing_tools)} missing); scripts/translations does this check")
    source = Path(settings.BASE_DIR) / "quota"
    shutil.copytree(source, tmp_path / "quota", ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo", "static"))
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["pl"], ignore_patterns=MAKEMESSAGES_IGNORE, no_obsolete=True, verbosity=0)

    fresh = polib.pofile(str(tmp_path / "quota" / "locale" / "pl" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in entries(catalogue("pl"))}
    new = sorted(e.msgid for e in entries(fresh) if (e.msgctxt, e.msgid) not in known)
    assert not new, f"{len(new)} string(s) not in the catalogues yet (run scripts/translations):\n{show(new)}"
