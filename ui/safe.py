"""One way to show untrusted text: never as markdown (issue 16, finding 4).

Streamlit draws most text as markdown — ``st.markdown``, ``caption``, ``title``/``header``/``subheader``,
``info``/``warning``/``error``/``success``, ``toast``, ``write`` of a string, and every label: metrics, tabs,
expanders, widgets, ``page_link``, and ``help=`` tooltips. A value a viewer or the data controls (URL parameters,
street, community, grid, department and category names, case numbers, addresses, notes, error texts) would there
become a link, an image fetched from anywhere (breaking the offline promise), a phishing line inside the app, or
colour and LaTeX directives. So such a value is shown

- inside a markdown element: through ``plain(value)``, which makes it literal text (the catalog's own text around
  it, written by us, stays markdown: ``T("cases_of", name=plain(grid_name))``);
- inside an ``st.html`` panel: through ``html_text(value)`` (``html.escape``), which makes it literal text there;
- or in an element that never interprets text: a dataframe cell, ``st.text``, a selectbox option.

``tests/test_injection.py`` feeds hostile values through ``plain`` and the page scripts; the browser test
``tests/browser/test_xss_browser.py`` puts links, images and HTML in every URL parameter and stored name.
"""

from __future__ import annotations

import html
import string
import unicodedata

__all__ = ["chart_text", "html_text", "plain"]

_PUNCTUATION = frozenset(string.punctuation)  # CommonMark lets a backslash make any of these literal
# GitHub-flavoured markdown turns bare ``www.x``, ``http://x`` and ``a@b.c`` into links after escapes are resolved,
# so a backslash cannot stop them: an invisible word joiner inside ``://``, ``www.`` and ``@x`` does.
_JOINER = "\u2060"
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # could reorder the text around it


def plain(value: object) -> str:
    """``value`` as literal text for a markdown element: every markdown and HTML character escaped, bare addresses
    unlinked, line breaks and control characters turned into spaces (one line: no headings, lists or code blocks)."""
    out = []
    for c in str(value):
        if c in _PUNCTUATION:
            out.append((_JOINER + "\\." if c == "." else "\\" + c + _JOINER) if c in ".:@" else "\\" + c)
        elif c in _BIDI:
            continue
        elif unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def html_text(value: object) -> str:
    """``value`` as literal text inside ``st.html`` (quotes too, so it is safe in an attribute as well)."""
    return html.escape(str(value), quote=True)


def chart_text(value: object) -> str:
    """``value`` as literal text in a Plotly label, tick or hover text, whose markup renders ``<a href>``, ``<b>``
    and ``<br>`` (entities are decoded after the tags are read, so ``&lt;a&gt;`` stays text)."""
    return html.escape(str(value), quote=False)
