"""Running Franchise itself: metrics, readiness, upgrades and the worker roll call."""
