from django.contrib.auth import views as auth_views
from django.urls import path

from .account_views import LoginView, PasswordSetView, profile, unsubscribe
from .sign_in import SignInForm

urlpatterns = [
    path("login/", LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", profile, name="profile"),
    path("password/<uidb64>/<token>/", PasswordSetView.as_view(), name="password_set"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
