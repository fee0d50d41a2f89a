"""The pages that show where units stand: the home page, the campaign overview and its charts,
the unit table with its filters and exports, the review queue page, and each unit's page (its
checklist, its items, its flags, the units below it). Everything is read from the status rows
and the rules' registrations, within the person's scope.

May import reporting, mail, the engine and the campaign's core, `units` and `dongda`.
"""
