from saleor_subscriptions.services.pacing import Pacer


def test_pacer_spaces_calls_to_the_rate():
    clock = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 3))
        clock[0] += seconds

    pace = Pacer(4, clock=lambda: clock[0], sleep=sleep)
    for _ in range(5):
        pace()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    clock[0] += 10
    pace()
    assert len(slept) == 4
