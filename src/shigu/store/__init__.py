"""Storage: events and runs in SQL (SQLite default, PostgreSQL by URL), media on disk."""

from shigu.store.events import EventFilter, EventStore
from shigu.store.media import MediaStore

__all__ = ["EventFilter", "EventStore", "MediaStore"]
