"""The one HTTP POST of a webhook delivery. Knows nothing of Saleor or our models."""
from typing import Dict, NamedTuple, Optional

import requests

TIMEOUT_SECONDS = 10
EXCERPT_CHARS = 1000


class PostResult(NamedTuple):
    status_code: Optional[int]  # None: no answer (refused, timed out, bad TLS)
    body_excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: Dict[str, str]) -> PostResult:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as error:
        # The exception's class only: its text may carry the URL's credentials.
        return PostResult(None, "", type(error).__name__)
    return PostResult(response.status_code, response.text[:EXCERPT_CHARS], "")
