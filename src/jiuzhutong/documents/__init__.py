"""Versioned legal texts shown to residents and signed by them.

Pure: standard library only. A signed record names the document version and its SHA-256, so a
published version never changes; a new wording is a new version.
"""

from jiuzhutong.documents.notice import (
    CURRENT_NOTICE_VERSION,
    NOTICE_VERSIONS,
    Document,
    current_notice,
    get_notice,
)

__all__ = [
    "CURRENT_NOTICE_VERSION",
    "NOTICE_VERSIONS",
    "Document",
    "current_notice",
    "get_notice",
]
