from django.contrib.auth import views as auth_views
from django.urls import reverse
from django.utils import translation


class LoginView(auth_views.LoginView):
    """After sign-in the person lands in the language they chose last time."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        url = self.get_redirect_url()
        if url:
            return url
        with translation.override(self.request.user.language):
            return reverse("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        response.set_cookie("dongda_language", self.request.user.language, samesite="Lax")
        return response
