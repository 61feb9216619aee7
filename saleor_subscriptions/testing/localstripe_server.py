"""localstripe with its state in a file of our choosing: the demo keeps it in .run/, so Stripe
customers and cards survive a restart together with the demo's database.

localstripe 1.15 pickles its whole store to the fixed path /tmp/localstripe.pickle after every
write, and reloads it at start unless --from-scratch: every localstripe on the machine (test
runs, several demos) shares that one file. Here load and save use --state FILE (written to a
temporary file and renamed, so a demo stopped mid-write keeps its previous state); without
--state nothing is loaded or saved (tests start from scratch).

    python -m saleor_subscriptions.testing.localstripe_server --port 8420 --state .run/localstripe.pickle

It also makes localstripe send the webhooks Stripe sends and localstripe 1.15 does not:
payment_intent.succeeded / payment_failed / requires_action / canceled, charge.refunded and
payment_method.detached — through localstripe's own webhook code (signed with each registered
endpoint's secret, POST /_config/webhooks/<name>), so the tests drive the plugin's endpoint end
to end.
"""
import argparse
import os
import pickle
import sys
from typing import Optional

from localstripe import resources
from localstripe.webhooks import schedule_webhook


def use_state_file(path: Optional[str]) -> None:
    def load(store) -> None:
        if path is None:
            return
        try:
            with open(path, "rb") as state:
                saved = pickle.load(state)
        except FileNotFoundError:
            return
        store.clear()
        store.update(saved)  # dict.update: no save per item

    def dump(store) -> None:
        if path is None:
            return
        temporary = path + ".tmp"
        with open(temporary, "wb") as state:
            # A plain dict: unpickling a Store would call its __setitem__, which saves.
            pickle.dump(dict(store), state, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


_INTENT_EVENTS = {"succeeded": "payment_intent.succeeded",
                  "requires_action": "payment_intent.requires_action",
                  "canceled": "payment_intent.canceled"}


def _send(event_type: str, obj, **extra) -> None:
    event = resources.Event(event_type, obj)
    event.data["object"].update(extra)
    schedule_webhook(event)


def _intent_changed(intent) -> None:
    status = intent.status
    if status in _INTENT_EVENTS:
        _send(_INTENT_EVENTS[status], intent)
    elif status == "requires_payment_method" and (
            intent.last_payment_error or intent._authentication_failed):
        _send("payment_intent.payment_failed", intent)


def _after(call, then):
    def wrapped(*args, **kwargs):
        result = call(*args, **kwargs)
        then(result)
        return result
    return wrapped


def _refunded(refund) -> None:
    charge = resources.Charge._api_retrieve(refund.charge)
    # Stripe's charges name their PaymentIntent; localstripe's do not.
    _send("charge.refunded", charge, payment_intent=refund.payment_intent)


def _refusing_over_refunds(create):
    """As Stripe: a refund for more than the charge's unrefunded amount is refused (localstripe
    1.15 refunds any amount, any number of times)."""
    def checked(**data):
        reference = data.get("payment_intent")
        charge = (resources.PaymentIntent._api_retrieve(reference).latest_charge
                  if reference else resources.Charge._api_retrieve(data.get("charge")))
        left = charge.amount - charge.amount_refunded if charge is not None else None
        if left is None:
            return create(**data)  # localstripe's own refusal (no payment to refund)
        if left <= 0:
            raise resources.UserError(400, "Charge %s has already been refunded." % charge.id,
                                      {"code": "charge_already_refunded"})
        wanted = resources.try_convert_to_int(data.get("amount"))
        if wanted is not None and isinstance(wanted, int) and wanted > left:
            raise resources.UserError(
                400, "Refund amount (%d) is greater than unrefunded amount on charge (%d)"
                % (wanted, left), {"code": "amount_too_large"})
        return create(**data)
    return checked


def send_missing_webhooks() -> None:
    """Before localstripe.server is imported: its routes keep the functions they find then."""
    resources.PaymentIntent._api_create = _after(resources.PaymentIntent._api_create,
                                                 _intent_changed)
    resources.Refund._api_create = _after(_refusing_over_refunds(resources.Refund._api_create),
                                          _refunded)
    extra = {
        "/v1/payment_intents/{id}/confirm": _intent_changed,
        "/v1/payment_intents/{id}/cancel": _intent_changed,
        "/v1/payment_intents/{id}/_authenticate": _intent_changed,
        "/v1/payment_methods/{id}/detach": lambda method: _send("payment_method.detached",
                                                                method),
    }
    resources.extra_apis[:] = [
        (method, url, _after(func, extra[url]) if url in extra else func)
        for method, url, func in resources.extra_apis]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state", help="file that keeps the state across restarts")
    args = parser.parse_args(argv)
    use_state_file(os.path.abspath(args.state) if args.state else None)
    send_missing_webhooks()
    from localstripe import server

    resources.store.try_load_from_disk()
    sys.argv = [sys.argv[0], "--port", str(args.port), "--from-scratch"]  # loaded above
    server.start()


if __name__ == "__main__":
    main()
