"""Plan and configuration fixtures: the plugin switched on, staff with chosen permissions."""
import pytest
from plan_api import switch_plugin

from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.users import create_user, login


@pytest.fixture
def subscriptions_on(staff_api):
    """Switched on through pluginUpdate; plan admin never calls Stripe, so no server is needed."""
    switch_plugin(staff_api, True)


@pytest.fixture
def staff_with(db):
    """Logs in a new staff member holding exactly the given permissions ("app.codename")."""
    def make(*permissions):
        email = "staff-%d@example.com" % (len(make.made) + 1)
        make.made.append(create_user(email, staff=True, permissions=permissions))
        client = ApiClient()
        return client.as_user(login(client, email))

    make.made = []
    return make
