"""Mount with `url(r"^subscriptions/dashboard/", include("saleor_subscriptions.console.urls"))`
(host/urls.py does). Every link inside the page is relative, so any prefix works."""
from django.conf.urls import url

from . import views

app_name = "subscriptions-console"
urlpatterns = [
    url(r"^$", views.index, name="index"),
    url(r"^first_screen\.graphql$", views.first_screen, name="first-screen"),
    url(r"^static/(?P<path>[\w./-]+)$", views.asset, name="asset"),
]
