"""Saleor's routes with /graphql/ serving Saleor's schema plus ours (same route name "api")."""
from django.conf.urls import include, url
from django.views.decorators.csrf import csrf_exempt
from saleor.graphql.views import GraphQLView
from saleor.urls import urlpatterns as saleor_urlpatterns

from ..graphql.api import schema
from ..stripe_webhooks.view import stripe_webhook

urlpatterns = [
    url(r"^graphql/", csrf_exempt(GraphQLView.as_view(schema=schema)), name="api"),
    url(r"^subscriptions/stripe/webhook/$", stripe_webhook, name="subscriptions-stripe-webhook"),
    url(r"^subscriptions/dashboard/", include("saleor_subscriptions.console.urls")),
] + [pattern for pattern in saleor_urlpatterns if getattr(pattern, "name", None) != "api"]
