from django.urls import path

from . import views

app_name = "units"
urlpatterns = [
    path("<slug:code>/", views.unit_detail, name="detail"),
]
