"""Serves the console's files as they are in the package: no template, no session, no database.

The page signs in through GraphQL itself, so these views need no authentication; they serve the
same bytes to everyone (the data is behind /graphql/'s permissions)."""
import os

from django.http import Http404
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from django.views.static import serve

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC_ROOT = os.path.join(HERE, "static", "console")
FIRST_SCREEN = "first_screen.graphql"


def _no_store(response):
    # A new release must not run against an old cached page.
    response["Cache-Control"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@xframe_options_exempt  # Saleor 3.x's dashboard mounts it in an iframe as an App extension
def index(request):
    return _no_store(serve(request, "index.html", document_root=STATIC_ROOT))


@require_safe
def asset(request, path):
    if path.startswith((".", "/")) or "/." in path:
        raise Http404()
    return _no_store(serve(request, path, document_root=STATIC_ROOT))


@require_safe
def first_screen(request):
    """The overview's GraphQL document, the same file the benchmark measures."""
    response = serve(request, FIRST_SCREEN, document_root=HERE)
    response["Content-Type"] = "application/graphql; charset=utf-8"
    return _no_store(response)
