"""The README's commands work as printed: every fenced block marked `checked` (```bash checked,
```graphql checked) runs against a live server on the demo store (built by `subscriptions_demo`
against the tests' localstripe): shell blocks with bash in the project's directory, with PORT,
STRIPE_PORT and DEMO_DATABASE_URL pointing at the server, localstripe and the test database;
GraphQL blocks over HTTP as the demo's staff. Each must succeed: exit 0, no GraphQL `errors`,
no non-empty `…Errors` list."""
import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection

from saleor_subscriptions.management.commands.subscriptions_demo import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    CUSTOMER_EMAIL,
)
from saleor_subscriptions.models import Subscription
from saleor_subscriptions.testing.client import HttpApiClient
from saleor_subscriptions.testing.live_server import serving
from saleor_subscriptions.testing.users import login

ROOT = Path(__file__).resolve().parents[2]
CHECKED = re.compile(r"^```(\w+) checked\n(.*?)^```$", re.M | re.S)

pytestmark = pytest.mark.usefixtures("keep_committed_data")


def checked_blocks():
    return CHECKED.findall((ROOT / "README.md").read_text())


def refusals(payload, path="") -> list:
    """GraphQL `errors` and non-empty `…Errors` lists anywhere in an answer."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if (key == "errors" or key.endswith("Errors")) and value:
                found.append(("%s.%s" % (path, key), value))
            else:
                found += refusals(value, "%s.%s" % (path, key))
    elif isinstance(payload, list):
        for index, item in enumerate(payload):
            found += refusals(item, "%s[%d]" % (path, index))
    return found


def test_the_readme_marks_its_checkable_blocks():
    languages = [language for language, _body in checked_blocks()]
    assert languages.count("bash") >= 5 and languages.count("graphql") >= 2


def _database_url() -> str:
    settings = connection.settings_dict
    return "postgres://%s@%s:%s/%s" % (settings["USER"] or "postgres",
                                       settings["HOST"] or "127.0.0.1",
                                       settings["PORT"] or 5432, settings["NAME"])


def test_every_checked_block_works_as_printed(transactional_db, localstripe):
    call_command("subscriptions_demo", "--stripe-secret-key", "sk_test_demo",
                 "--stripe-publishable-key", "pk_test_demo", "--stripe-api-base", localstripe.url)
    # The demo's customer (README "The demo") bought a subscription through the checkout.
    (bought,) = Subscription.objects.filter(user__email=CUSTOMER_EMAIL)
    assert (bought.plan.name, bought.status) == ("Club medium", "active")
    with serving() as url:
        env = dict(os.environ, PORT=str(urlsplit(url).port),
                   STRIPE_PORT=str(urlsplit(localstripe.url).port),
                   DEMO_DATABASE_URL=_database_url())
        api = HttpApiClient(url + "/graphql/")
        staff = api.as_user(login(api, ADMIN_EMAIL, ADMIN_PASSWORD))
        for number, (language, body) in enumerate(checked_blocks(), 1):
            where = "README block %d (%s):\n%s" % (number, language, body)
            if language == "graphql":
                answer = staff.raw(body)
                assert not refusals(answer), "%s\n%s" % (where, answer)
                continue
            assert language == "bash", where
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=str(ROOT), env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, "%s\nexit %d\n%s\n%s" % (
                where, done.returncode, done.stdout[-2000:], done.stderr[-2000:])
            assert (done.stdout + done.stderr).strip(), where
            try:
                answer = json.loads(done.stdout)
            except ValueError:
                continue
            assert not refusals(answer), "%s\n%s" % (where, answer)
