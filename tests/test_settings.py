"""Settings: one declarative list, every setting documented, environment overrides typed."""

import re
from pathlib import Path

import pytest

from core import settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented_with_its_default():
    text = DOCS.read_text(encoding="utf-8")
    for s in settings.SETTINGS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{s.name}` |")), None)
        assert row, f"setting {s.name} is not documented in docs/configuration.md (python -m core.settings)"
        assert s.env_var in row


def test_documented_table_is_current():
    assert settings.markdown_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/configuration.md is out of date: paste the output of `python -m core.settings`"
    )


def test_every_setting_has_help_text():
    for s in settings.SETTINGS:
        assert len(s.help) > 20, s.name
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)


def test_environment_overrides_are_typed(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_ROW_CAP", "123")
    monkeypatch.setenv("GRIDSCOPE_SCORE_WEIGHTS", '{"disposal_rate": 1}')
    assert settings.get("row_cap") == 123
    assert settings.get("score_weights") == {"disposal_rate": 1}


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("GRIDSCOPE_ROW_CAP", "lots")
    with pytest.raises(ValueError, match="GRIDSCOPE_ROW_CAP"):
        settings.get("row_cap")


def test_db_url_precedence(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "_secrets_file", lambda: tmp_path / "secrets.toml")
    monkeypatch.delenv("GRIDSCOPE_DB_URL", raising=False)
    assert settings.get("db_url") == "sqlite:///data/gridscope.db"
    (tmp_path / "secrets.toml").write_text('db_url = "postgresql://from-secrets/db"\n')
    assert settings.get("db_url") == "postgresql://from-secrets/db"
    monkeypatch.setenv("GRIDSCOPE_DB_URL", "sqlite:///elsewhere.db")
    assert settings.get("db_url") == "sqlite:///elsewhere.db"
