from tests.ask.fixtures import library, make_ticket, owner_inbox, settings, team

__all__ = ["library", "make_ticket", "owner_inbox", "settings", "team"]
