"""Every UI string exists in both languages, and the language follows the URL/session with a safe default."""
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import ui
from ui import i18n

ROOT = Path(__file__).resolve().parent.parent


def _import_all_catalogs():
    for mod in pkgutil.iter_modules(ui.__path__):
        importlib.import_module(f"ui.{mod.name}")


def test_every_catalog_entry_has_chinese_and_english():
    _import_all_catalogs()
    assert i18n.catalogs()
    for catalog in i18n.catalogs():
        for key, (zh, en) in catalog.entries.items():
            assert zh.strip() and en.strip(), key
            assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: Chinese text expected, got {zh!r}"
            # the same placeholders in both languages
            fields = r"{(\w+)(?:[:!][^}]*)?}"
            assert set(re.findall(fields, zh)) == set(re.findall(fields, en)), key


def test_pages_declare_their_strings_in_catalogs():
    """Pages say nothing to users outside a Catalog (a crude but useful check: no bare CJK string literals in calls)."""
    for page in (ROOT / "pages").glob("*.py"):
        text = page.read_text(encoding="utf-8")
        assert "Catalog(" in text, f"{page.name} has no Catalog"


def test_domain_labels_cover_every_key():
    from data_access import domain
    assert set(i18n.DOMAIN_EN["channels"]) == set(domain.CHANNELS)
    assert set(i18n.DOMAIN_EN["statuses"]) == set(domain.STATUSES)
    assert set(i18n.DOMAIN_EN["actions"]) == set(domain.ACTIONS)


def test_default_language_is_chinese_outside_streamlit(monkeypatch):
    monkeypatch.delenv("GRIDSCOPE_LANGUAGE", raising=False)
    assert i18n.current_language() == "zh"
    assert i18n.COMMON("all_streets") == "全区"
    monkeypatch.setenv("GRIDSCOPE_LANGUAGE", "en")
    assert i18n.COMMON("all_streets") == "Whole district"


@pytest.mark.parametrize("seconds, text", [(30, "30 秒"), (600, "10 分钟"), (7200, "2.0 小时")])
def test_humanize_age(seconds, text):
    assert i18n.humanize_age(seconds) == text


def test_recreating_a_page_catalog_does_not_grow_the_registry():
    """Pages re-run their module (and re-create their Catalog) on every rerun: the registry must stay bounded."""
    before = len(i18n.catalogs())
    for _ in range(50):
        i18n.Catalog({"probe_key": ("探针", "probe")})
    assert len(i18n.catalogs()) == before + 1
