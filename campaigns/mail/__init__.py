"""E-mail: the outbox (every message a row before it is sent, claimed by one sender), the weekly
digests (each for the week it is about, with its reader's agenda: `agenda.py`), the deadline
reminders, the returned-report notices, what each says in the recipient's
language, and the digest preview page for the district office.

May import the engine and the campaign's core, `units` and `dongda`.
"""
