"""What happens between domains, one module per event: a run moves (runs.py) ...

Domains do not import each other in circles; when one event touches several of them (an
answer moves a run, asks for approval, saves a client fact and changes whether the ticket
may escalate) the coordination lives here, named after the event.
"""
