"""Text guests write: shown safely, and checked against the hotel's word filter.

:func:`render` is the only way user text becomes HTML: everything is escaped
(MarkupSafe), then plain ``http://`` and ``https://`` addresses become links
that open in a new tab and pass no ranking or referrer (``rel="nofollow
noopener noreferrer ugc"``). No other scheme is ever linked, so
``javascript:`` or ``data:`` stay inert text.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

from hotel_community.errors import ValidationFailed
from hotel_community.i18n import lazy_gettext as _l
from hotel_community.settings import config_value

#: An address: the scheme, then printable ASCII up to white space, a quote or an
#: angle bracket. Not after a letter or digit ("xhttp://"), but right after
#: Chinese text ("看这个https://..."), and it ends where Chinese text resumes.
URL = re.compile(r"(?<![A-Za-z0-9])https?://[!#-&(-;=?-_a-~]+", re.IGNORECASE)
#: Punctuation that ends a sentence rather than the address: "see https://x.com."
TRAILING = ".,;:!?"
LINK = Markup('<a href="{0}" rel="nofollow noopener noreferrer ugc" target="_blank">{0}</a>')
LINE_BREAK = Markup("<br>\n")


def render(text: str | None) -> Markup:
    """``text`` as safe HTML: escaped, web addresses linked, line breaks kept."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    parts: list[Markup] = []
    position = 0
    for match in URL.finditer(text):
        url = _trim(match.group(0))
        if not url.split("://", 1)[1]:
            continue
        parts.append(_plain(text[position:match.start()]))
        parts.append(LINK.format(url))  # Markup.format escapes the address
        position = match.start() + len(url)
    parts.append(_plain(text[position:]))
    return Markup("").join(parts)


def check_words(text: str) -> None:
    """Refuse text holding a word or phrase of ``HOTEL_COMMUNITY_WORD_FILTER``.

    Case does not matter; a word only matches as a whole word ("ass" does not
    refuse "class"). Words in scripts written without spaces (Chinese) match
    anywhere.
    """
    words = config_value("WORD_FILTER")
    words = (words,) if isinstance(words, str) else tuple(words or ())
    found = _filter(words).search(text) if words else None
    if found:
        raise ValidationFailed(
            _l("Please leave out “%(word)s”: this community does not allow it.",
               word=found.group(0)),
            {"body": ["Contains a filtered word."]})


def _plain(text: str) -> Markup:
    return LINE_BREAK.join(escape(line) for line in text.split("\n"))


def _trim(url: str) -> str:
    """Drop what ends the sentence, and a closing bracket that has no opening one."""
    while url and (url[-1] in TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


@lru_cache(maxsize=8)
def _filter(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_pattern(word) for word in words if word.strip()) or r"(?!)",
                      re.IGNORECASE)


def _pattern(word: str) -> str:
    body = r"\s+".join(re.escape(part) for part in word.split())
    start = r"(?<!\w)" if re.match(r"\w", word.strip()[0], re.ASCII) else ""
    end = r"(?!\w)" if re.match(r"\w", word.strip()[-1], re.ASCII) else ""
    return start + body + end
