"""crawler/text.py: white space collapsed as the regular expression it replaced did."""

import re
import sys

from crawler.text import clean_space

SPACE = re.compile(r"\s+")


def test_str_split_splits_on_exactly_the_white_space_re_matches():
    # clean_space joins str.split()'s pieces instead of substituting r"\s+": the same only while both agree
    # on every code point (they share CPython's one definition of white space)
    differ = [hex(code) for code in range(sys.maxunicode + 1)
              if (SPACE.fullmatch(chr(code)) is not None) != (chr(code).split() == [])]
    assert differ == []


def test_clean_space_collapses_trims_and_composes():
    assert clean_space("  Thông\xa0tin \t chỉ\u2003đạo\n") == "Thông tin chỉ đạo"
    assert clean_space("Chi\u0309 đạo") == "Chỉ đạo"              # NFC: the hook above composes
    assert clean_space("\x1c\x85 a \u3000") == "a"
    assert clean_space("") == ""
