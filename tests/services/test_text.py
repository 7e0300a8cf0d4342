"""User text: escaped, http(s) addresses linked safely, line breaks kept; the word filter."""
from __future__ import annotations

import pytest

from hotel_community.errors import ValidationFailed
from hotel_community.services.text import check_words, render

REL = 'rel="nofollow noopener noreferrer ugc" target="_blank"'


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_WORD_FILTER": ("spam", "cheap pills", "坏话")}


def test_markup_is_escaped():
    html = render('<script>alert("x")</script> & <b>bold</b>')
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" == html


def test_http_and_https_addresses_become_safe_links():
    html = render("Menu: https://example.com/menu?a=1&b=2 and http://example.org.")
    assert (f'<a href="https://example.com/menu?a=1&amp;b=2" {REL}>'
            "https://example.com/menu?a=1&amp;b=2</a>") in html
    # The full stop ends the sentence, not the address.
    assert f'<a href="http://example.org" {REL}>http://example.org</a>.' in html


@pytest.mark.parametrize("text", [
    "javascript:alert(1)", "JAVASCRIPT:alert(document.cookie)", "data:text/html;base64,PHNjcmlwdD4=",
    "vbscript:msgbox(1)", "ftp://example.com/file", "//evil.example.com", "www.example.com",
    "xhttp://example.com",
])
def test_no_other_scheme_becomes_a_link(text):
    html = render(text)
    assert "<a" not in html and "href" not in html


def test_an_address_cannot_break_out_of_its_attribute():
    html = render('https://example.com/"onmouseover="alert(1) https://example.com/<img src=x>')
    assert 'href="https://example.com/"' in html
    assert '"onmouseover="' not in html and "<img" not in html
    assert html.count("<a ") == 2


def test_javascript_before_a_real_address_links_only_the_address():
    html = render("javascript:alert(1)//https://example.com")
    assert html.count("<a ") == 1
    assert 'href="https://example.com"' in html
    assert 'href="javascript' not in html


def test_addresses_beside_chinese_text_and_in_brackets():
    html = render("看这个https://example.cn/页面 (see https://example.com/a_(b))")
    assert f'<a href="https://example.cn/" {REL}>' in html
    assert f'<a href="https://example.com/a_(b)" {REL}>' in html
    assert "页面 (see" in html


def test_line_breaks_are_kept_and_escaped_text_stays_escaped():
    assert render("one\r\ntwo\n<three>") == "one<br>\ntwo<br>\n&lt;three&gt;"
    assert render("") == "" and render(None) == ""


def test_the_word_filter_refuses_whole_words_in_any_case(app):
    with pytest.raises(ValidationFailed) as refused:
        check_words("Great SPAM offer")
    with app.test_request_context():
        assert "SPAM" in str(refused.value.message)
    with pytest.raises(ValidationFailed):
        check_words("Buy cheap\n  PILLS now")
    with pytest.raises(ValidationFailed):
        check_words("spam.")
    with pytest.raises(ValidationFailed):
        check_words("别说坏话了")  # no spaces in Chinese: matched anywhere


def test_the_word_filter_leaves_other_words_alone(app):
    for fine in ("spammy emails", "antispam", "cheap hotel pills", "a nice evening"):
        check_words(fine)


class TestWithoutAFilter:
    @pytest.fixture
    def app_config(self) -> dict:
        return {}

    def test_nothing_is_refused_by_default(self, app):
        assert app.config["HOTEL_COMMUNITY_WORD_FILTER"] == ()
        check_words("spam spam spam")
