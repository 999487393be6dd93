"""The alertmanager webhook format."""
