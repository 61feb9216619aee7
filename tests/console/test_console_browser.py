"""The staff console in a real browser against a live server: sign in as staff, every page,
charts drawn with the store's numbers, CSV exports, and a refund from a subscription's page.

The store (numbers by hand, months counted back from today):
  monthly  20.00 × 1, since 6 months ago ................................ MRR 20.00
  yearly  120.00 × 1, since 4 months ago (120 / 12) ..................... MRR 10.00
  monthly  20.00 × 2, since 3 months ago, cancelled a month ago ......... churn -40.00
  weekly    7.00 × 1, since 2 months ago (7 × 365.25 / 12 / 7) .......... MRR 30.44
  monthly  20.00 × 1, since 32 days ago, renewed today (order + payment)  MRR 20.00
  monthly  20.00 × 1, trialing (worth nothing yet)
MRR today: 80.44; subscribers: 4 active, 1 trialing, 1 cancelled."""
import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.models import EventType, MrrMovement, Subscription
from saleor_subscriptions.services import renewals
from saleor_subscriptions.services.events import record_event
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.live_server import serving
from saleor_subscriptions.testing.users import PASSWORD

STRIPE_TEST_KEY = "sk_test_subscriptions"  # what tests/conftest.py's plugin_on configures
CANCEL = """
mutation($id: ID!) {
  subscriptionCancel(id: $id, immediately: true, reason: TOO_EXPENSIVE) {
    subscriptionErrors { field message code }
  }
}"""

FORECAST = """
query($day: Date!) {
  subscriptionMetrics(currency: "USD", start: $day, end: $day) { billingForecast { amount } }
}"""


def month_start(now, back):
    month = now.month - 1 - back
    return datetime(now.year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def not_due(subscription, now):
    """Old subscriptions whose renewals are not the test's subject: next due in ten days."""
    Subscription.objects.filter(pk=subscription.pk).update(
        next_billing_at=now + timedelta(days=10), current_period_end=now + timedelta(days=10))


@pytest.fixture
def console_store(keep_committed_data, transactional_db, store, staff_api, plugin_on, customer):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    shipping = rf.shipping_method_from_global_id(store.shipping_method_id)
    monthly = rf.make_plan(variant, name="Coffee monthly", price=Decimal("20.00"))
    yearly = rf.make_plan(variant, name="Coffee yearly", interval_unit="year", price=Decimal("120.00"))
    weekly = rf.make_plan(variant, name="Coffee weekly", interval_unit="week", price=Decimal("7.00"))
    card = rf.create_card(plugin_on.url, STRIPE_TEST_KEY, customer.email)

    def subscribe(plan, start, **kwargs):
        """As checkout leaves it: the subscription, its `created` event and first movement."""
        subscription = rf.make_subscription(plan, customer, card, start=start,
                                            shipping_method=shipping, **kwargs)
        MrrMovement.objects.filter(subscription=subscription).delete()  # the factory's own
        record_event(subscription, EventType.CREATED, date=start)
        return subscription

    for plan, back, quantity in ((monthly, 6, 1), (yearly, 4, 1), (monthly, 3, 2), (weekly, 2, 1)):
        start = month_start(now, back) + timedelta(days=2, hours=10)
        subscription = subscribe(plan, start, quantity=quantity)
        not_due(subscription, now)
        if quantity == 2:
            cancelled = subscription
    with freeze_time(month_start(now, 1) + timedelta(days=14)):
        payload = staff_api.execute(CANCEL, {"id": gid(cancelled)})["subscriptionCancel"]
    assert payload["subscriptionErrors"] == []
    renewed = subscribe(monthly, now - timedelta(days=32))
    subscribe(monthly, now - timedelta(days=1), trial_end=now + timedelta(days=13))
    context = renewals.make_context(load_settings())
    while renewals.renew_due_subscriptions(now, context=context).claimed:
        pass
    renewed.refresh_from_db()
    assert renewed.paid_cycles == 2
    return {"renewed": renewed, "customer": customer}


@pytest.fixture
def console(console_store, page, superuser):
    with serving() as url:
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.goto(url + "/subscriptions/dashboard/")
        page.fill("input[name=email]", superuser.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-overview=complete]")  # the cards below the first screen too
        yield page, url


def chart_data(page):
    return page.evaluate("""() => Object.fromEntries(Object.entries(window.consoleCharts).map(
        ([name, chart]) => [name, {labels: chart.data.labels,
            datasets: Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data]))}]))""")


def download_csv(page, name):
    with page.expect_download() as info:
        page.click("[data-csv='%s']" % name)
    with open(info.value.path(), encoding="utf-8") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


def test_overview_draws_the_stores_numbers(console, staff_api, screenshot):
    page, url = console
    # The overview's first document is the packaged file the benchmark times.
    assert url + "/subscriptions/dashboard/first_screen.graphql" in page.requested
    charts = chart_data(page)
    mrr = charts["mrr"]["datasets"]["MRR"]
    assert len(mrr) == 12 and mrr[-1] == pytest.approx(80.44)
    assert mrr[-7] == pytest.approx(20.00)  # six months ago: only the first monthly
    movements = charts["movements"]["datasets"]
    assert movements["Churn"][-2] == pytest.approx(-40.00)
    assert movements["New"][-3] == pytest.approx(30.44)
    statuses = {name: counts[-1] for name, counts in charts["statuses"]["datasets"].items()}
    assert statuses == {"Active": 4, "Trialing": 1, "Past due": 0, "Paused": 0}
    churn = charts["churn"]["datasets"]
    # A month ago: 1 of 4 paying subscribers left, with 40 of the opening 100.44 MRR.
    assert churn["Customer churn %"][-2] == pytest.approx(25.0)
    assert churn["Revenue churn %"][-2] == pytest.approx(39.82)
    plans = dict(zip(charts["plans"]["labels"], charts["plans"]["datasets"]["MRR"]))
    assert plans == {"Coffee monthly": 40.0, "Coffee yearly": 10.0, "Coffee weekly": 30.44}
    reasons = dict(zip(charts["reasons"]["labels"], charts["reasons"]["datasets"]["Cancellations"]))
    assert reasons == {"Too expensive": 1}
    # The forecast's schedule is the API's to test (tests/renewals/test_subscription_metrics.py):
    # the chart draws what it answers.
    today = datetime.now(timezone.utc).date().isoformat()
    answer = staff_api.execute(FORECAST, {"day": today})["subscriptionMetrics"]["billingForecast"]
    assert charts["forecast"]["datasets"]["Scheduled billing"] == [
        pytest.approx(float(month["amount"])) for month in answer]
    assert len(answer) == 12 and sum(float(month["amount"]) for month in answer) > 0
    six_months_ago = charts["mrr"]["labels"][-7]
    assert page.inner_text("[data-cohort='%s'] td.cell >> nth=0" % six_months_ago) == "1"
    assert page.inner_text("[data-kpi=mrr] .tile-value").replace(",", "").endswith("80.44")

    rows = download_csv(page, "mrr-movements")
    assert len(rows) == 12 and rows[0]["MRR"] == "80.44" and rows[1]["Churn"] == "-40.00"
    assert download_csv(page, "cancellation-reasons") == [
        {"Reason": "TOO_EXPENSIVE", "Cancellations": "1"}]
    cohort_rows = download_csv(page, "cohorts")
    assert {"Signed up": six_months_ago, "Months since": "0", "Subscribers": "1",
            "MRR": "20.00"} in cohort_rows
    assert len(download_csv(page, "billing-forecast")) == 12
    assert page.errors == []
    screenshot("overview")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot("overview-first-screen", full_page=False)

    # By week: the API answers at most 100 points, so a year at most.
    page.select_option("select[name=interval]", "WEEK")
    page.wait_for_function("window.consoleCharts.mrr.data.labels.length > 12")
    page.wait_for_selector("[data-overview=complete]")
    weekly = chart_data(page)["mrr"]["datasets"]["MRR"]
    assert 50 <= len(weekly) <= 54 and weekly[-1] == pytest.approx(80.44)
    ranges = page.eval_on_selector_all("select[name=months] option",
                                       "(options) => options.map((option) => option.value)")
    assert ranges == ["3", "6", "12"]
    assert page.errors == []


def test_subscriptions_list_searches_filters_and_exports(console, screenshot):
    page, url = console
    page.click("[data-nav=subscriptions]")
    page.wait_for_selector("[data-table=subscriptions] tbody tr.clickable")
    assert page.locator("[data-table=subscriptions] tbody tr").count() == 6
    rows = download_csv(page, "subscriptions")
    assert len(rows) == 6 and {row["Customer"] for row in rows} == {"customer@example.com"}
    assert sorted(row["Status"] for row in rows) == ["ACTIVE"] * 4 + ["CANCELLED", "TRIALING"]
    page.select_option("select[name=status]", "CANCELLED")
    page.wait_for_function("document.querySelectorAll('[data-table=subscriptions] tbody tr').length === 1")
    assert "Coffee monthly" in page.inner_text("[data-table=subscriptions] tbody")
    page.fill("input[name=q]", "nobody@")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("[data-table=subscriptions] td.empty")
    page.goto(url + "/subscriptions/dashboard/#/subscriptions")
    page.wait_for_selector("[data-table=subscriptions] tbody tr.clickable")
    screenshot("subscriptions")
    assert page.errors == []


def test_subscription_page_shows_the_timeline_and_refunds(console, console_store, screenshot):
    page, url = console
    renewed = console_store["renewed"]
    page.goto(url + "/subscriptions/dashboard/#/subscriptions/" + gid(renewed))
    page.wait_for_selector("[data-table=timeline] tbody tr")
    facts = page.inner_text(".facts")
    assert "Coffee monthly" in facts and "Visa •••• 4242" in facts
    timeline = page.inner_text("[data-table=timeline]")
    assert "Renewed" in timeline and "Order #" in timeline and "Capture" in timeline
    rows = download_csv(page, "timeline")
    assert {"Event", "Order", "Payment"} <= {row["Kind"] for row in rows}
    screenshot("subscription")

    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("input[name=amount]", "999.00")  # more than was paid: a typed error, no refund
    page.click("[data-action=refund]")
    page.wait_for_selector(".messages .notice-error")
    assert "amount" in page.inner_text(".messages .notice-error")
    assert "Refund" not in page.inner_text("[data-table=timeline]")
    page.fill("input[name=amount]", "5.00")
    page.click("[data-action=refund]")
    page.wait_for_selector(".notice-success")
    page.wait_for_function(
        "document.querySelector('[data-table=timeline]').innerText.includes('Refund')")
    rows = download_csv(page, "timeline")
    refunds = [row for row in rows if row["Kind"] == "Refund"]
    assert refunds and {row["Amount"] for row in refunds} == {"5.00"}
    screenshot("subscription-refunded")
    assert page.errors == []


def test_a_customer_cannot_use_the_console(console_store, page, customer):
    with serving() as url:
        page.goto(url + "/subscriptions/dashboard/")
        page.fill("input[name=email]", customer.email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector(".notice-error")
        assert "not a staff account" in page.inner_text(".notice-error")
        assert page.evaluate("window.sessionStorage.length") == 0


def test_mounted_as_an_app_extension_with_a_handed_token(console_store, page, staff_api):
    """Saleor 3.x's dashboard frames an App's page and hands it the API URL and a token: the
    same page, unchanged, takes `?apiUrl=` with the token in the fragment or posted to it."""
    with serving() as url:
        console_url = url + "/subscriptions/dashboard/?apiUrl=" + url + "/graphql/"
        page.goto(console_url + "#token=" + staff_api.token + "&route=/subscriptions")
        page.wait_for_selector("[data-table=subscriptions] tbody tr.clickable")
        assert "token" not in page.url  # taken out of the address bar

        host = page.context.browser.new_page()  # another browser session: not signed in
        errors = []
        host.on("pageerror", lambda error: errors.append(str(error)))
        try:
            host.set_content('<iframe src="%s" style="width:1200px;height:800px"></iframe>'
                             % console_url)
            frame = host.frame_locator("iframe")
            frame.locator("input[name=email]").wait_for()
            host.evaluate("""(token) => document.querySelector('iframe').contentWindow.postMessage(
                {type: 'handshake', payload: {token, version: 1}}, '*')""", staff_api.token)
            frame.locator("[data-overview=complete]").wait_for()
            assert frame.locator("[data-kpi=mrr] .tile-value").inner_text().endswith("80.44")
            assert errors == []
        finally:
            host.context.close()
