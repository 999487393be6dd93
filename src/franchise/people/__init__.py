"""Notifications to staff members: their channels, the cards, the signed action links."""
