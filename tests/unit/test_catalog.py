"""The French catalog keeps up with the code: every string the app and its templates mark
for translation is in it, translated, not fuzzy, with the same placeholders, and written
with French typography. A new English string without its French fails here (README,
"Where a change goes").

It extracts as `make messages` does (the keywords are read from the Makefile, so the two
cannot drift apart), and reads the catalog with polib: no Flask, no database.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
FRENCH = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def _keywords() -> list[str]:
    line = next(
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("BABEL_KEYWORDS :=")
    )
    return line.split(":=", 1)[1].split()


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    pot = tmp_path_factory.mktemp("catalog") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel), "extract", "-F", str(TRANSLATIONS / "babel.cfg"), *_keywords()]
    command += ["--no-wrap", "-o", str(pot), "."]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return polib.pofile(str(pot))


@pytest.fixture(scope="module")
def french() -> polib.POFile:
    return polib.pofile(str(FRENCH))


def _where(entry: polib.POEntry) -> str:
    return ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])


def test_every_marked_string_is_in_the_french_catalog_and_translated(extracted, french):
    translated = {(e.msgctxt, e.msgid): e for e in french if not e.obsolete}
    missing = [
        f"{e.msgid!r} ({_where(e)})"
        for e in extracted
        if (e.msgctxt, e.msgid) not in translated
        or not translated[(e.msgctxt, e.msgid)].translated()
    ]
    assert not missing, "Not translated into French (run `make messages`, then translate):\n" + (
        "\n".join(missing)
    )


def test_no_entry_is_fuzzy_or_left_over(extracted, french):
    assert not [e.msgid for e in french if "fuzzy" in e.flags], "fuzzy entries are not shown"
    marked = {(e.msgctxt, e.msgid) for e in extracted}
    stale = [e.msgid for e in french if not e.obsolete and (e.msgctxt, e.msgid) not in marked]
    assert not stale, f"In the catalog but no longer in the code (`make messages`): {stale}"


def test_translations_name_the_same_values_as_the_english(french):
    wrong = []
    for entry in french:
        wanted = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            # A French singular may leave the count unsaid ("un rendez-vous").
            if not set(PLACEHOLDER.findall(form)) <= wanted or (
                not entry.msgid_plural and set(PLACEHOLDER.findall(form)) != wanted
            ):
                wrong.append(f"{entry.msgid!r} -> {form!r}")
    assert not wrong, "\n".join(wrong)


def test_french_typography(french):
    """No-break spaces before : ; ? ! and inside guillemets, and the typographic apostrophe
    (docs/glossary.md): a plain space there lets a line break before the mark."""
    rules = [
        (re.compile(r" [:;?!»]"), "a plain space before : ; ? ! or »"),
        (re.compile(r"« "), "a plain space after «"),
        (re.compile(r"\w[;?!]"), "no space before ; ? !"),
        (re.compile(r"\w'\w"), "a straight apostrophe (use ’)"),
        (re.compile(r'"'), "straight quotes (use « »)"),
    ]
    wrong = []
    for entry in french:
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            text = re.sub(r"<[^>]*>|%\(\w+\)[sd]|https?://\S+", "", form)
            wrong += [f"{why}: {form!r}" for pattern, why in rules if pattern.search(text)]
    assert not wrong, "\n".join(wrong)


def test_the_plural_rule_is_frances(french):
    # One form for 0 and 1, as French says "0 rendez-vous annulé".
    assert french.metadata["Plural-Forms"] == "nplurals=2; plural=(n > 1);"


def test_compiled_catalogs_are_built_not_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "*.mo"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    assert tracked.stdout == "", "compiled catalogs are built by `make translations`"
