"""An inventory API."""
