"""The demo MSP: a deterministic, believable Managed IT business to explore Franchise with."""
