"""What the units app tells the apps above it, without importing them.

`units` sits below `campaigns` (README, "floors"): it may not call the engine or the outbox, so
when an import changes the tree or creates accounts it sends these signals and the campaign app
does its part (re-judging status rows, queueing the invitations) in the same transaction.
"""

import contextvars

from django.dispatch import Signal

# Sent inside the import's transaction once every unit and assignment is written.
# kwargs: unit_ids (every unit created or changed), tree_changed (a unit was created or moved).
units_imported = Signal()

# Sent for people who need an e-mail with a link to choose their password: the accounts an
# import created (inside its transaction), or people a staff member re-invites from the admin
# (`again`: a fresh e-mail even if one was sent before). kwargs: user_ids, again.
invitations_wanted = Signal()

# True while an import writes units one by one: receivers of per-unit `post_save` skip their
# work, because `units_imported` follows with the whole set (one refresh instead of thousands).
bulk_unit_writes = contextvars.ContextVar("bulk_unit_writes", default=False)
