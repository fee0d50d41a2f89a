"""What units report and the district reviews: the forms (with Vietnamese dates and numbers),
evidence files checked by their content, the writes with their rules (create, edit, submit,
review: no lost update, history kept), the reads (an item within the person's scope, its history,
the review queue) and the report pages under /<lang>/units/<code>/<kind>/.

The kinds themselves come from the registry; this package names none of them. May import the
engine, mail and the campaign's core, `units` and `dongda`.
"""
