"""E-mail in: poll an IMAP mailbox, open tickets from new mail, add replies to tickets."""
