"""Fixtures: a real Saleor store built through /graphql/, users, localstripe over HTTP."""
from decimal import Decimal

import pytest

from saleor_subscriptions.gateway.api_bases import is_allowed
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.localstripe import LocalStripe
from saleor_subscriptions.testing.plugins import configure_plugin
from saleor_subscriptions.testing.store import add_product, build_store
from saleor_subscriptions.testing.users import create_user, login

STRIPE_TEST_KEY = "sk_test_subscriptions"
STRIPE_TEST_PUBLISHABLE_KEY = "pk_test_subscriptions"



@pytest.fixture(scope="session")
def localstripe():
    assert is_allowed("http://127.0.0.1:8420"), (
        "The plugin may not call localstripe: run the tests with scripts/pytest.sh, which sets "
        "SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=http://127.0.0.1")
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture
def api(db):
    return ApiClient()


@pytest.fixture
def superuser(db):
    return create_user("owner@example.com", superuser=True)


@pytest.fixture
def staff_api(superuser):
    client = ApiClient()
    return client.as_user(login(client, superuser.email))


@pytest.fixture
def customer(db):
    return create_user("customer@example.com")


@pytest.fixture
def customer_api(customer):
    client = ApiClient()
    return client.as_user(login(client, customer.email))


@pytest.fixture
def other_customer(db):
    return create_user("other@example.com")


@pytest.fixture
def other_customer_api(other_customer):
    client = ApiClient()
    return client.as_user(login(client, other_customer.email))


@pytest.fixture
def store(staff_api):
    built = build_store(staff_api)
    add_product(
        staff_api, built, "Coffee beans", Decimal("20.00"),
        {"COFFEE-250G": Decimal("20.00"), "COFFEE-1KG": Decimal("60.00")},
    )
    add_product(staff_api, built, "Tea", Decimal("10.00"), {"TEA-100G": Decimal("10.00")})
    return built




@pytest.fixture
def plugin_on(staff_api, localstripe):
    """The plugin switched on the way the dashboard does it, pointed at localstripe."""
    configure_plugin(
        staff_api,
        active=True,
        **{"Stripe secret key": STRIPE_TEST_KEY, "Stripe publishable key": STRIPE_TEST_PUBLISHABLE_KEY,
           "Stripe API base URL": localstripe.url},
    )
    return localstripe


@pytest.fixture
def keep_committed_data(django_db_setup, django_db_blocker):
    """transactional_db (tests with real worker processes) empties every table, including the
    rows Saleor's data migrations made (site settings, menus): put them back afterwards for the
    tests that share the database."""
    from django.core import serializers
    from django.db import connection, transaction

    recreated_by_post_migrate = {"contenttypes.ContentType", "auth.Permission"}
    with django_db_blocker.unblock():
        data = connection.creation.serialize_db_to_string()
    yield
    with django_db_blocker.unblock(), transaction.atomic():
        for item in serializers.deserialize("json", data):
            if item.object._meta.label not in recreated_by_post_migrate:
                item.save()


@pytest.fixture(autouse=True)
def celery_may_wait_for_results():
    """Celery keeps "inside a task, never wait for a result" in one process-wide flag that each
    eager task sets and then restores; eager tasks run at once in several threads (a live
    server's request threads) can restore it in the wrong order and leave it set, and a later
    test's `task.apply().get()` then fails as if it ran inside a task."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
