from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("review/", views.review_queue, name="review_queue"),
    path("digest/", views.digest_preview, name="digest_preview"),
    path("digest/email.html", views.digest_preview_html, name="digest_preview_html"),
]
