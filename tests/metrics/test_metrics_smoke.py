Q = """
query($start: Date!, $end: Date!) {
  subscriptionMetrics(currency: "USD", start: $start, end: $end, interval: MONTH) {
    currency
    series { start end mrr arr movements { new netNew } subscribers { active trialing pastDue paused }
             payingSubscribers customerChurnRate }
    summary { mrr arpu ltv netRevenueRetention trialConversionRate dunningRecoveryRate
              retentionOfferSaveRate }
    cancellationReasons { reason count }
    cohorts { month cells { monthsSince subscribers revenue } }
    billingForecast { month amount renewals }
    subscriptionErrors { field code message }
  }
}"""


def test_empty_store(staff_api):
    body = staff_api.raw(Q, {"start": "2028-01-01", "end": "2028-03-31"})
    assert "errors" not in body, body
    data = body["data"]["subscriptionMetrics"]
    assert len(data["series"]) == 3
    assert len(data["billingForecast"]) == 12
