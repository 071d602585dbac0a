"""Make generated HTML offline-clean: no tag may fetch anything from another host.

pyvis's ``in_line`` mode still links bootstrap from a CDN, and nbconvert's templates load
MathJax and require.js from one. Reports are read on machines without internet (and should not
call home anyway), so every ``<script src>``, ``<link href>``, ``@import`` or ``url()`` pointing at
``http(s)://`` or a protocol-relative ``//host`` is removed. Plain text that merely *mentions* a URL
(licence notices inside the inlined JavaScript, the SVG namespace string) fetches nothing and stays:
:func:`external_references` lists only what a browser would load.

Example
-------
>>> html = '<head><script src="https://cdn.example/x.js"></script><p>hi</p></head>'
>>> offline_clean(html)
'<head><p>hi</p></head>'
>>> external_references(offline_clean(html))
[]
"""

from __future__ import annotations

import re

__all__ = ["external_references", "offline_clean"]

_REMOTE = r"""(?:https?:)?//[^"'\s>)]+"""

# <script ... src="http..." ...></script>  (the body of such a tag is ignored by browsers)
_SCRIPT_SRC = re.compile(
    rf"""<script\b[^>]*\bsrc\s*=\s*["']?{_REMOTE}["']?[^>]*>\s*</script\s*>""",
    re.IGNORECASE | re.DOTALL,
)
# <link ... href="http..." ...> (stylesheets, preloads, icons); possibly spread over lines
_LINK_HREF = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*["']?{_REMOTE}["']?[^>]*/?>""", re.IGNORECASE | re.DOTALL)
_CSS_IMPORT = re.compile(rf"""@import\s+(?:url\()?\s*["']?{_REMOTE}["']?\s*\)?[^;]*;""", re.IGNORECASE)
_CSS_URL = re.compile(rf"""url\(\s*["']?{_REMOTE}["']?\s*\)""", re.IGNORECASE)

# What a browser would fetch: src/href attributes, CSS imports and url() with a remote target.
_FETCHING = (
    re.compile(rf"""\b(?:src|href|data|poster|action)\s*=\s*["']?({_REMOTE})""", re.IGNORECASE),
    re.compile(rf"""@import\s+(?:url\()?\s*["']?({_REMOTE})""", re.IGNORECASE),
    re.compile(rf"""url\(\s*["']?({_REMOTE})""", re.IGNORECASE),
)


def offline_clean(html: str) -> str:
    """Remove every tag or CSS rule of ``html`` that would load a resource from another host."""
    html = _SCRIPT_SRC.sub("", html)
    html = _LINK_HREF.sub("", html)
    html = _CSS_IMPORT.sub("", html)
    return _CSS_URL.sub("url()", html)


def external_references(html: str) -> list[str]:
    """The distinct remote URLs ``html`` would make a browser fetch (attributes, CSS imports, ``url()``)."""
    found: set[str] = set()
    for pattern in _FETCHING:
        found.update(m.group(1) for m in pattern.finditer(html))
    return sorted(found)
