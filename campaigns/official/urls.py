"""The official report pages, under /<lang>/official-reports/ (namespace `official`):

- ""                     the list of the reports the person may see
- "new/"                 a new draft (`?replaces=<id>` starts the replacement of an issued one)
- "<id>/"                a draft's form, or an issued report's read-only page
- "<id>/preview/"        the document as HTML, as it will print
- "<id>/issue/"          GET: the confirmation; POST: issue (freeze) the draft
- "<id>/report.docx|pdf" the document: a draft drawn afresh, an issued one as it was issued
- "<id>/replace/"        POST: start a draft replacing an issued report
- "<id>/discard/"        POST: delete a draft
"""

from django.urls import path, re_path

from . import views

app_name = "official"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="new"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/preview/", views.report_preview, name="preview"),
    path("<int:pk>/issue/", views.report_issue, name="issue"),
    re_path(r"^(?P<pk>[0-9]+)/report\.(?P<extension>docx|pdf)$", views.report_file, name="file"),
    path("<int:pk>/replace/", views.report_replace, name="replace"),
    path("<int:pk>/discard/", views.report_discard, name="discard"),
]
