"""What happens between domains, one module per event: a ticket is opened (opening.py) or
resolved (resolving.py), a technician chooses its runbook (runbook_choice.py), a run moves
(runs.py), an approval is decided (approvals.py), a ticket is escalated (escalations.py), a
signed link is used (action_links.py), a staff member changes or leaves (staff.py), a client
contact is removed (client_contacts.py); sender.py delivers what they queued.

Domains do not import each other in circles; when one event touches several of them (an
answer moves a run, asks for approval, saves a client fact and changes whether the ticket
may escalate) the coordination lives here, named after the event.
"""
