"""A bookmarks API."""
