"""The grafana webhook format."""
