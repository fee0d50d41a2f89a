from .selectors import user_scope


def roles(request):
    """Lets the menu show what the signed-in person may reach, without a query per link."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scope": user_scope(user)}
