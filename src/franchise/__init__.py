"""Franchise: run a Managed IT Service Provider without its owner in the loop."""

__version__ = "0.1.0"
