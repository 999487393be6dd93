"""Owner notifications through Apprise (e-mail, Teams, Slack, SMS and more)."""
