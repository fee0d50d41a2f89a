"""The district office's spreadsheet import: namespace `unit_import`, at /<lang>/import/units/."""

from django.urls import path

from . import import_views

app_name = "unit_import"

urlpatterns = [
    path("", import_views.import_page, name="page"),
    path("template.xlsx", import_views.import_template, name="template"),
    path("preview/", import_views.import_preview, name="preview"),
    path("confirm/", import_views.import_confirm, name="confirm"),
]
