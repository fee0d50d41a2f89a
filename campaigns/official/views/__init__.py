"""The official report pages: the list, a new draft, the draft's form, its preview and files,
issuing, replacing and discarding.

Every report is fetched by id through the person's scope (`selectors.reports_visible_to`): another
committee's id answers 404, as if it did not exist. Drafts are read by those who may draft for
the committee and by the district's roles (the Standing Committee follows them, read-only);
anyone else in scope gets 404 for a draft. Writing (saving, issuing, replacing, discarding) is
for those who may draft for the committee (`selectors.can_draft_for`): 403 for the others who
see the report. Writes are POST only, behind CSRF, and go through `services`.
"""

from .documents import report_file, report_preview
from .drafts import report_detail
from .issuing import report_discard, report_issue, report_replace
from .listing import report_list, report_new

__all__ = [
    "report_detail",
    "report_discard",
    "report_file",
    "report_issue",
    "report_list",
    "report_new",
    "report_preview",
    "report_replace",
]
