"""One store per test module for the permission matrix and the input fuzz.

Building a store through /graphql/ takes seconds, so `world` builds it once per module inside
an outer transaction that is rolled back at the module's end; every test (pytest-django's `db`)
runs in a savepoint inside it, so what one test changes is gone before the next one.
"""
import pytest
from django.db import transaction
from matrix_world import build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, localstripe):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build(localstripe)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
