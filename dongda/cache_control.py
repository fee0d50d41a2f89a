"""Pages and exports for a signed-in person are theirs alone: no shared cache (a proxy, a CDN)
may keep them, and the browser must not store them on disk, where the next person at a ward's
shared computer could open them from the history or the cache after signing out."""

from django.utils.cache import patch_cache_control, patch_vary_headers

# What `private, no-store` replaces: a view's own caching directives must not contradict it.
_CONTRADICTED = ("public", "max_age", "s_maxage", "immutable")


class PrivateNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            directives = response.get("Cache-Control", "")
            if directives:
                kept = [
                    d.strip()
                    for d in directives.split(",")
                    if d.strip() and d.split("=")[0].strip().replace("-", "_") not in _CONTRADICTED
                ]
                response["Cache-Control"] = ", ".join(kept)
                if not kept:
                    del response["Cache-Control"]
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ("Cookie",))
        return response
