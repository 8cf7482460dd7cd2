"""Message catalogs: every user-facing string, in gettext ``.po`` files under ``locale/<lang>/LC_MESSAGES/``.

One domain (``.po`` file) per screen or area; message ids are symbolic keys (``title``, ``statuses.closed``) and
each language has its own ``msgstr``. Babel reads the files (the format translators' tools edit); this module
only looks strings up — which language a viewer wants is the UI's business (``ui.i18n``). ``tests/test_i18n.py``
checks every key has a Chinese and an English text with the same placeholders.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("zh", "en")  # each shown in its own language: key ``language_name`` of ``common``
DEFAULT_LANGUAGE = "zh"


@functools.cache
def messages(domain: str, lang: str) -> dict[str, str]:
    """key → text of one domain in one language (read once per process)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=None, domain=domain)
    return {m.id: m.string for m in catalog if m.id}


def domains() -> list[str]:
    """Every catalog domain (the ``.po`` files of the default language)."""
    return sorted(p.stem for p in (LOCALE_DIR / DEFAULT_LANGUAGE / "LC_MESSAGES").glob("*.po"))


def translate(domain: str, key: str, lang: str, **fmt) -> str:
    """The text of ``key`` in ``lang``, formatted with ``fmt``; a missing key raises KeyError (a bug, not data)."""
    text = messages(domain, lang if lang in LANGUAGES else DEFAULT_LANGUAGE)[key]
    return text.format(**fmt) if fmt else text


def language_name(lang: str) -> str:
    """A language's name in that language (中文, English), for the language picker."""
    return translate("common", "language_name", lang)


def domain_label(kind: str, code: str, lang: str) -> str:
    """Label of a domain code (``kind``: channels, statuses, actions …); an unknown code is shown as itself."""
    return messages("domain", lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(f"{kind}.{code}", code)
