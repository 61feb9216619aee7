"""Free text from outside: what PostgreSQL can store (no NUL) and what our columns hold."""
import unicodedata
from typing import Optional

#: A customer's own words (cancellation reason); the subscription and its event keep them whole.
REASON_TEXT_LENGTH = 2000


def text_problem(value: str, max_length: int, *, single_line: bool = False) -> Optional[str]:
    """Why `value` can't be stored, or None. Single-line texts (names) take no control
    characters at all; free text keeps line breaks and tabs but never NUL, which PostgreSQL
    refuses in text and jsonb alike."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    if single_line and any(unicodedata.category(char) == "Cc" for char in value):
        return "Must not contain control characters."
    if len(value) > max_length:
        return "At most %d characters." % max_length
    return None
