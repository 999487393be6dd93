"""The pagerduty webhook format."""
