PLANS = "{ subscriptionPlans(first: 5) { edges { node { id } } } }"


def test_store_builds_through_graphql(store, api):
    assert len(store.variants) == 3
    assert api.execute(PLANS)["subscriptionPlans"]["edges"] == []
