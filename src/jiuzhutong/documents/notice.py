"""《湖北省申请最低生活保障告知书、申请授权及承诺书》: the notice every member signs.

Each version is a UTF-8 text file under ``texts/`` whose first line is the title. The text is
written for this project from the rules in ``docs/DOMAIN.md`` (民政部《最低生活保障审核确认办法》,
PIPL); local figures are referred to as 以当地公布为准, never stated.

Versions are immutable: every published version is listed here with the SHA-256 of its text,
and loading a text whose hash differs raises, so an edited wording must become a new version
(add ``notice_v2.txt``, list it, point ``CURRENT_NOTICE_VERSION`` at it). Signatures record the
version and hash they were given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# version -> (file under texts/, SHA-256 of the text). Append only; never edit a row.
_PUBLISHED: dict[str, tuple[str, str]] = {
    "v1": (
        "notice_v1.txt",
        "3628e492b25e25f52287dba8755c9ec2947e5c4558e748104a508d741750d840",
    ),
}

NOTICE_VERSIONS: tuple[str, ...] = tuple(_PUBLISHED)
CURRENT_NOTICE_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Document:
    """One published version of a document; ``sha256`` is over ``text`` encoded as UTF-8."""

    version: str
    title: str
    text: str
    sha256: str


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def _load(version: str) -> Document:
    filename, pinned = _PUBLISHED[version]
    raw = resources.files(__package__).joinpath("texts", filename).read_bytes()
    # A checkout with CRLF line ends must not change the hash.
    text = raw.decode("utf-8").replace("\r\n", "\n")
    digest = text_sha256(text)
    if digest != pinned:
        raise RuntimeError(
            f"published document {filename} changed (sha256 {digest}, pinned {pinned}); "
            "a published version is immutable: add a new version instead"
        )
    title = text.split("\n", 1)[0].strip()
    return Document(version=version, title=title, text=text, sha256=digest)


def get_notice(version: str) -> Document | None:
    """The notice of that version, or None for a version that was never published."""
    if not isinstance(version, str) or version not in _PUBLISHED:
        return None
    return _load(version)


def current_notice() -> Document:
    """The version new signatures are given."""
    return _load(CURRENT_NOTICE_VERSION)
