"""The generic webhook format."""
