"""The console's files as Django serves them, and as the wheel ships them."""
import glob
import json
import os
import re

import pytest
from django.test import Client

from saleor_subscriptions import console

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "saleor_subscriptions")


@pytest.fixture
def client():
    return Client(HTTP_HOST="localhost")


def test_the_page_is_served_to_anyone_and_may_be_framed_by_a_host_dashboard(client):
    response = client.get("/subscriptions/dashboard/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" not in response  # Saleor 3.x mounts Apps in an iframe
    page = b"".join(response.streaming_content).decode()
    # Everything relative: the page works under any prefix, and nothing comes from elsewhere.
    assert 'src="static/vendor/chart.umd.min.js"' in page
    assert "http://" not in page and "https://" not in page


def test_scripts_are_served_as_javascript_and_hidden_paths_are_not(client):
    response = client.get("/subscriptions/dashboard/static/js/main.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]  # module scripts need a JavaScript type
    assert client.get("/subscriptions/dashboard/static/../views.py").status_code == 404
    assert client.get("/subscriptions/dashboard/static/js/nothing.js").status_code == 404
    assert client.post("/subscriptions/dashboard/").status_code == 405


def test_the_first_screen_document_is_the_packaged_file(client):
    response = client.get("/subscriptions/dashboard/first_screen.graphql")
    assert response.status_code == 200
    with open(os.path.join(os.path.dirname(console.__file__), "first_screen.graphql"), "rb") as f:
        assert b"".join(response.streaming_content) == f.read()


def test_the_shipped_chart_library_is_the_locked_one():
    with open(os.path.join(ROOT, "console", "package-lock.json")) as f:
        locked = json.load(f)["packages"]["node_modules/chart.js"]["version"]
    vendor = os.path.join(PACKAGE, "console", "static", "console", "vendor")
    with open(os.path.join(vendor, "chart.umd.min.js")) as f:
        banner = f.read(200)
    assert "Chart.js v%s" % locked in banner
    assert os.path.exists(os.path.join(vendor, "chart.js.LICENSE.md"))


def test_package_data_takes_every_console_file():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        text = f.read()
    data = text[text.index("[tool.setuptools.package-data]"):]
    patterns = re.findall(r'"([^"]+)"', data[data.index("saleor_subscriptions"):])
    packaged = set()
    for pattern in patterns:
        packaged.update(glob.glob(os.path.join(PACKAGE, pattern)))
    console_files = {path for path in glob.glob(os.path.join(PACKAGE, "console", "**", "*"), recursive=True)
                     if os.path.isfile(path) and not path.endswith((".py", ".pyc"))}
    assert console_files and console_files <= packaged, sorted(console_files - packaged)
