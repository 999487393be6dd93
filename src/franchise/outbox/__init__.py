"""The outbox: what to tell the outside world, written in the transaction, sent after it."""
