"""Public arXiv feed API: parsing (``arxiv_parse``) and polite fetching (``arxiv_client``)."""

from bot.papers.feed.client import (
    DEFAULT_API_URL,
    USER_AGENT,
    ArxivClient,
    ArxivFetchError,
    FetchResult,
    parse_retry_after,
)
from bot.papers.feed.parse import (
    ANNOUNCE_TYPES,
    ArxivPaper,
    FeedError,
    ParsedFeed,
    is_stale,
    parse_feed,
    split_arxiv_id,
    split_authors,
)

__all__ = [
    "ANNOUNCE_TYPES",
    "DEFAULT_API_URL",
    "USER_AGENT",
    "ArxivClient",
    "ArxivFetchError",
    "ArxivPaper",
    "FeedError",
    "FetchResult",
    "ParsedFeed",
    "is_stale",
    "parse_feed",
    "parse_retry_after",
    "split_arxiv_id",
    "split_authors",
]
