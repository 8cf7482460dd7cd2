"""Every user-facing string lives in the message catalogs (locale/), in Chinese and English with the same
placeholders; no CJK text is written anywhere else in the application code; the language follows the URL/session
with a safe default. The checks read the files, so they hold whatever else ran before them."""

import ast
import re
from pathlib import Path

import pytest

from core import domain
from core import i18n as messages
from ui import i18n

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
PLACEHOLDER = re.compile(r"{(\w*)(?:[:!][^}]*)?}")
# Application code: no user-facing text outside the catalogs. seed/ writes the synthetic world's place and
# category names (data, not interface); tests and benchmarks may say what they like.
APP_CODE = ["app.py", "pages", "ui", "reports", "analytics", "data_access", "core", "worker"]


def catalog_problems(locale_dir: Path) -> list[str]:
    """Every way the catalogs under ``locale_dir`` fall short: a domain missing in a language, a key missing or
    empty in a language, Chinese text that has no Chinese, placeholders that differ between languages."""
    problems = []
    langs = {lang: {p.stem for p in (locale_dir / lang / "LC_MESSAGES").glob("*.po")} for lang in messages.LANGUAGES}
    for domain_name in sorted(set().union(*langs.values())):
        texts = {}
        for lang in messages.LANGUAGES:
            if domain_name not in langs[lang]:
                problems.append(f"{domain_name}: no {lang} catalog")
                continue
            from babel.messages.pofile import read_po

            with (locale_dir / lang / "LC_MESSAGES" / f"{domain_name}.po").open("rb") as fh:
                texts[lang] = {m.id: m.string for m in read_po(fh) if m.id}
        for key in sorted(set().union(*(t.keys() for t in texts.values()))):
            for lang, table in texts.items():
                if not (table.get(key) or "").strip():
                    problems.append(f"{domain_name}:{key}: no {lang} text")
            zh, en = texts.get("zh", {}).get(key) or "", texts.get("en", {}).get(key) or ""
            if zh and en:
                if not CJK.search(zh) and zh != en:
                    problems.append(f"{domain_name}:{key}: Chinese text expected, got {zh!r}")
                if sorted(PLACEHOLDER.findall(zh)) != sorted(PLACEHOLDER.findall(en)):
                    problems.append(f"{domain_name}:{key}: placeholders differ: {zh!r} / {en!r}")
    return problems


def cjk_literals(path: Path, root: Path = ROOT) -> list[str]:
    """String literals with CJK text in a Python file, docstrings excepted (comments are not literals)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        f"{path.relative_to(root)}:{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and CJK.search(node.value)
    ]


def test_the_real_catalogs_are_complete():
    assert messages.domains(), "no catalogs found"
    assert catalog_problems(messages.LOCALE_DIR) == []


def test_a_broken_catalog_is_caught(tmp_path):
    """The check above can fail: a missing English text, mismatched placeholders and a missing domain."""
    for lang, body in (
        ("zh", 'msgid "a"\nmsgstr "你好 {name}"\n\nmsgid "b"\nmsgstr "再见"\n'),
        ("en", 'msgid "a"\nmsgstr "Hello {who}"\n\nmsgid "b"\nmsgstr ""\n'),
    ):
        folder = tmp_path / lang / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "probe.po").write_text(body, encoding="utf-8")
    (tmp_path / "zh" / "LC_MESSAGES" / "only_zh.po").write_text('msgid "c"\nmsgstr "仅中文"\n', encoding="utf-8")
    problems = catalog_problems(tmp_path)
    assert any("probe:a: placeholders differ" in p for p in problems), problems
    assert any("probe:b: no en text" in p for p in problems), problems
    assert any("only_zh: no en catalog" in p for p in problems), problems


def test_no_cjk_text_outside_the_catalogs():
    files = [ROOT / "app.py"] + [p for folder in APP_CODE[1:] for p in sorted((ROOT / folder).rglob("*.py"))]
    found = [hit for path in files for hit in cjk_literals(path)]
    assert found == [], "user-facing text belongs in locale/*.po:\n" + "\n".join(found)


def test_the_literal_check_sees_literals_but_not_docstrings(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('"""模块说明"""\n# 注释\ndef f():\n    """函数说明"""\n    return f"超期 {1}"\n', encoding="utf-8")
    assert [hit.split(": ", 1)[1] for hit in cjk_literals(probe, tmp_path)] == ["'超期 '"]


def test_domain_labels_cover_every_code():
    for kind, codes in domain.VOCABULARIES.items():
        for lang in messages.LANGUAGES:
            table = messages.messages("domain", lang)
            missing = [c for c in codes if f"{kind}.{c}" not in table]
            assert missing == [], f"{lang} {kind}: {missing}"


def test_default_language_is_chinese_outside_streamlit(monkeypatch):
    monkeypatch.delenv("GRIDSCOPE_LANGUAGE", raising=False)
    assert i18n.current_language() == "zh"
    assert i18n.COMMON("all_streets") == "全区"
    monkeypatch.setenv("GRIDSCOPE_LANGUAGE", "en")
    assert i18n.COMMON("all_streets") == "Whole district"


def test_an_unknown_key_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        i18n.COMMON("no_such_key")


@pytest.mark.parametrize("seconds, text", [(30, "30 秒"), (600, "10 分钟"), (7200, "2.0 小时")])
def test_humanize_age(seconds, text):
    assert i18n.humanize_age(seconds) == text
