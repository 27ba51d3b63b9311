"""The catalogs match the code: every UI string is translated in es and en and compiled.

The strings are extracted from the real sources with babel.cfg (what ``pybabel extract``
does), so a new ``_("...")`` that nobody added to the catalogs fails here, as does an
untranslated or fuzzy entry or a ``.mo`` older than its ``.po``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = Path("pelubot_web") / "translations"
LANGUAGES = ("es", "en")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}  # pybabel extract -k _l


def _msgid(message_id: str | tuple[str, ...] | list[str]) -> str:
    """The singular form identifies a plural message."""
    return message_id if isinstance(message_id, str) else message_id[0]


def extracted_msgids(root: Path) -> set[str]:
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = extract_from_dir(root, method_map, options_map, keywords=KEYWORDS)
    return {_msgid(message) for _, _, message, _, _ in found}


def _read_po(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _entry_problems(lang: str, message: Message, compiled: Catalog) -> list[str]:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not all(strings):
        return [f"{lang}: untranslated {message.id!r}"]
    if message.fuzzy:
        return [f"{lang}: fuzzy {message.id!r}"]
    mo = compiled.get(message.id)
    mo_strings = None if mo is None else mo.string
    if isinstance(mo_strings, list):  # read_mo gives plural forms as a list
        mo_strings = tuple(mo_strings)
    if mo_strings != message.string:
        return [f"{lang}: messages.mo is stale for {message.id!r}; run pybabel compile"]
    return []


def catalog_problems(root: Path) -> list[str]:
    """What is wrong with the catalogs under ``root``, one line per problem."""
    in_code = extracted_msgids(root)
    problems: list[str] = []
    in_pot = {_msgid(m.id) for m in _read_po(root / TRANSLATIONS / "messages.pot") if m.id}
    if in_pot != in_code:
        problems.append(f"messages.pot is stale ({sorted(in_code ^ in_pot)}); run pybabel extract")
    for lang in LANGUAGES:
        folder = root / TRANSLATIONS / lang / "LC_MESSAGES"
        po = _read_po(folder / "messages.po", locale=lang)
        with (folder / "messages.mo").open("rb") as f:
            compiled = read_mo(f)
        in_po = {_msgid(m.id) for m in po if m.id}
        problems += [f"{lang}: missing {msgid!r}; run pybabel update" for msgid in in_code - in_po]
        problems += [f"{lang}: unused {msgid!r}; run pybabel update" for msgid in in_po - in_code]
        for message in po:
            if message.id:
                problems += _entry_problems(lang, message, compiled)
    return problems


def test_every_ui_string_is_translated_and_compiled() -> None:
    assert catalog_problems(ROOT) == []


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The catalogs, babel.cfg and the sources they are extracted from, in a scratch dir."""
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    for folder in ("pelubot_web", "templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


def test_a_new_string_missing_from_the_catalogs_is_reported(project_copy: Path) -> None:
    page = project_copy / "templates" / "portal" / "agenda.html"
    page.write_text(page.read_text() + '\n{{ _("Brand new greeting") }}\n')

    problems = catalog_problems(project_copy)

    assert f"es: missing {'Brand new greeting'!r}; run pybabel update" in problems
    assert f"en: missing {'Brand new greeting'!r}; run pybabel update" in problems


def test_an_edited_translation_without_pybabel_compile_is_reported(project_copy: Path) -> None:
    po_path = project_copy / TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
    text = po_path.read_text()
    po_path.write_text(text.replace('msgstr "Contraseña"', 'msgstr "Clave"', 1))
    assert text != po_path.read_text(), "the fixture string moved; pick another"

    assert any("messages.mo is stale" in p for p in catalog_problems(project_copy))
