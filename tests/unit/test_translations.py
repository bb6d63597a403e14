"""The catalogs: complete, nothing fuzzy, in step with the sentences of the code and the templates."""
from __future__ import annotations

import os
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tracker.http.i18n import TRANSLATIONS, compile_catalogs

ROOT = TRANSLATIONS.parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
METHODS = [("tracker/**.py", "python"), ("tracker/web/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}|%%")


def _catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=lang)


def _ids(message) -> tuple:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_entry_is_translated_and_none_is_fuzzy(lang):
    catalog = _catalog(lang)
    entries = [m for m in catalog if m.id]
    assert len(entries) > 100
    untranslated = [m.id for m in entries if not all(_strings(m))]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert untranslated == [] and fuzzy == [], (untranslated, fuzzy)
    for message in entries:  # a translation keeps every placeholder of its message
        for string in _strings(message):
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(_ids(message)[0])), message.id


def test_the_vietnamese_catalog_is_vietnamese():
    catalog = _catalog("vi")
    assert catalog.get("Processing stopped").string == "Dừng xử lý"
    same = [m.id for m in catalog if m.id and not isinstance(m.id, tuple) and m.string == m.id]
    assert same == [], same


def test_the_catalogs_hold_every_sentence_of_the_code():
    extracted = _extracted()
    assert "Processing stopped" in extracted and "Dossier lookup" in extracted
    for lang in ("vi", "en"):
        held = {_ids(m)[0] for m in _catalog(lang) if m.id}
        assert extracted - held == set(), f"run `make translations`: {sorted(extracted - held)}"
        assert held - extracted == set(), f"obsolete in {lang}: {sorted(held - extracted)}"


def test_a_missing_or_older_catalog_is_compiled(tmp_path):
    folder = tmp_path / "vi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "messages.po"
    po.write_text('msgid ""\nmsgstr "Language: vi\\n"\n\nmsgid "Look up"\nmsgstr "Tra cứu"\n', encoding="utf-8")
    assert compile_catalogs(tmp_path) == [folder / "messages.mo"]
    assert b"Tra c" in (folder / "messages.mo").read_bytes()
    assert compile_catalogs(tmp_path) == []  # up to date: left alone
    mo_time = (folder / "messages.mo").stat().st_mtime
    os.utime(po, (mo_time + 10, mo_time + 10))
    assert compile_catalogs(tmp_path) == [folder / "messages.mo"]


def test_outside_a_request_the_messages_are_english(app):
    from flask_babel import gettext

    with app.app_context():
        assert gettext("Processing stopped") == "Processing stopped"
    with app.test_request_context("/lookup"):
        assert gettext("Processing stopped") == "Dừng xử lý"
