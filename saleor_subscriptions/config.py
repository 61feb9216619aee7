"""The store owner's settings, stored in Saleor's PluginConfiguration, parsed in one place."""
from dataclasses import dataclass
from datetime import timedelta
from typing import Dict, FrozenSet, List, Optional, Tuple

from django.core.exceptions import ValidationError

from .domain.dunning import FinalAction, parse_retry_schedule
from .domain.notices import NoticeKind
from .error_codes import SubscriptionErrorCode


class Field:
    ACTIVE = "active"
    STRIPE_SECRET_KEY = "Stripe secret key"
    STRIPE_PUBLISHABLE_KEY = "Stripe publishable key"
    STRIPE_API_BASE = "Stripe API base URL"
    RETRY_SCHEDULE = "Payment retry schedule"
    FINAL_ACTION = "Action after the last failed retry"
    RENEWAL_BATCH_SIZE = "Renewal batch size"
    CHARGES_PER_SECOND = "Charge requests per second"
    UPGRADE_BILLING = "Upgrade billing"
    ALLOW_PAUSE = "Allow pausing"
    MAX_PAUSE_CYCLES = "Maximum pause length in cycles"
    REFUND_UNUSED_ON_CANCEL = "Refund unused time on immediate cancellation"
    MISSED_RENEWALS = "Missed renewals"
    TRIALS_PER_CUSTOMER = "Free trials per customer"
    STRIPE_WEBHOOK_SECRET = "Stripe webhook signing secret"
    MANAGE_LINK_URL = "Manage link page"
    PAUSE_ON_DISPUTE = "Pause a subscription when its charge is disputed"
    TRIAL_NOTICE_DAYS = "Trial ending notice days"
    RETENTION_OFFER_MONTHS = "Months between accepted retention offers"
    WIN_BACK_AFTER_DAYS = "Win-back offer after days"
    WIN_BACK_VALID_DAYS = "Win-back offer valid for days"
    WIN_BACK_PERCENT = "Win-back discount percent"
    WIN_BACK_RENEWALS = "Win-back discounted renewals"


#: the setting that switches each e-mail notice on or off (all on by default)
NOTICE_FIELDS = {
    NoticeKind.RENEWAL_UPCOMING: "E-mail: renewal coming up",
    NoticeKind.TRIAL_ENDING: "E-mail: trial ending",
    NoticeKind.PAYMENT_FAILED: "E-mail: payment failed",
    NoticeKind.PAYMENT_ACTION_REQUIRED: "E-mail: authentication needed",
    NoticeKind.CARD_EXPIRING: "E-mail: card expiring",
    NoticeKind.CARD_UPDATED: "E-mail: card updated",
    NoticeKind.CARD_DETACHED: "E-mail: card removed",
    NoticeKind.PRICE_CHANGE: "E-mail: price change",
    NoticeKind.WIN_BACK: "E-mail: win-back offer",
    NoticeKind.CANCELLED: "E-mail: cancelled",
    NoticeKind.CANCELLATION_SCHEDULED: "E-mail: cancellation scheduled",
    NoticeKind.PAUSED: "E-mail: paused",
    NoticeKind.RESUMED: "E-mail: resumed",
    NoticeKind.PLAN_CHANGED: "E-mail: plan changed",
    NoticeKind.STAFF_PAYMENT_FAILED: "Staff e-mail: payment failed",
    NoticeKind.STAFF_DISPUTE: "Staff e-mail: dispute",
    NoticeKind.STAFF_PAYMENT_REFUNDED: "Staff e-mail: payment for an abandoned renewal refunded",
    NoticeKind.STAFF_REFUND_FAILED: "Staff e-mail: payment for an abandoned renewal not refunded",
}
#: the longest trial-ending notice, in days
MAX_TRIAL_NOTICE_DAYS = 30


UPGRADE_IMMEDIATELY = "immediately"
UPGRADE_NEXT_RENEWAL = "next_renewal"
#: after a stall: one order for the current period (the missed ones skipped), or one per period
MISSED_BILL_ONCE = "bill_once"
MISSED_BILL_EACH = "bill_each"
#: free trials per customer (by account, e-mail or card; services/trials.py)
TRIALS_UNLIMITED = "unlimited"
TRIALS_ONE = "one"

DEFAULT_CONFIGURATION: List[Dict] = [
    {"name": Field.STRIPE_SECRET_KEY, "value": ""},
    {"name": Field.STRIPE_PUBLISHABLE_KEY, "value": ""},
    {"name": Field.STRIPE_API_BASE, "value": ""},
    {"name": Field.RETRY_SCHEDULE, "value": "1,3,7"},
    {"name": Field.FINAL_ACTION, "value": FinalAction.CANCEL.value},
    {"name": Field.RENEWAL_BATCH_SIZE, "value": "100"},
    {"name": Field.CHARGES_PER_SECOND, "value": "25"},
    {"name": Field.UPGRADE_BILLING, "value": UPGRADE_IMMEDIATELY},
    {"name": Field.ALLOW_PAUSE, "value": True},
    {"name": Field.MAX_PAUSE_CYCLES, "value": "3"},
    {"name": Field.REFUND_UNUSED_ON_CANCEL, "value": False},
    {"name": Field.MISSED_RENEWALS, "value": MISSED_BILL_ONCE},
    {"name": Field.TRIALS_PER_CUSTOMER, "value": TRIALS_UNLIMITED},
    {"name": Field.STRIPE_WEBHOOK_SECRET, "value": ""},
    {"name": Field.MANAGE_LINK_URL, "value": ""},
    {"name": Field.PAUSE_ON_DISPUTE, "value": False},
    {"name": Field.TRIAL_NOTICE_DAYS, "value": "3"},
    {"name": Field.RETENTION_OFFER_MONTHS, "value": "12"},
    {"name": Field.WIN_BACK_AFTER_DAYS, "value": "0"},
    {"name": Field.WIN_BACK_VALID_DAYS, "value": "14"},
    {"name": Field.WIN_BACK_PERCENT, "value": "0"},
    {"name": Field.WIN_BACK_RENEWALS, "value": "0"},
] + [{"name": name, "value": True} for name in NOTICE_FIELDS.values()]


@dataclass(frozen=True)
class SubscriptionSettings:
    active: bool
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_api_base: str
    retry_schedule: Tuple[timedelta, ...]
    final_action: FinalAction
    renewal_batch_size: int
    charges_per_second: float
    upgrade_billing: str
    allow_pause: bool
    max_pause_cycles: int
    refund_unused_on_cancel: bool
    missed_renewals: str = MISSED_BILL_ONCE
    trials_per_customer: str = TRIALS_UNLIMITED
    #: Stripe webhooks in (stripe_webhooks/view.py); empty: the endpoint refuses every event
    stripe_webhook_secret: str = ""
    #: the storefront page customers' e-mails link to with ?token=… (services/manage_links.py)
    manage_link_url: str = ""
    pause_on_dispute: bool = False
    #: e-mail notices the store switched off (NoticeKind values)
    notices_off: FrozenSet[str] = frozenset()
    #: the trial-ending e-mail and webhook come this many days before a trial ends
    trial_notice_days: int = 3
    #: a subscription accepts at most one retention offer in this many months (0: no limit)
    retention_offer_months: int = 12
    #: days after a subscription ends until its win-back offer goes out (0: none are sent)
    win_back_after_days: int = 0
    win_back_valid_days: int = 14
    #: the win-back's terms: this percent off the first N renewals (0: the plan's price)
    win_back_percent: int = 0
    win_back_renewals: int = 0

    def notice_on(self, kind: str) -> bool:
        return kind not in self.notices_off


def _positive_int(value, field: str, maximum: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= maximum:
        raise ValidationError(
            {field: ValidationError(
                "%s must be a whole number from 1 to %d." % (field, maximum),
                code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    return number


def _whole_number(value, field: str, maximum: int) -> int:
    """0 to maximum ("" reads as 0)."""
    text = str(value if value is not None else "").strip() or "0"
    if not (text.isdigit() and int(text) <= maximum):
        raise ValidationError({field: ValidationError(
            "%s must be a whole number from 0 to %d." % (field, maximum),
            code=SubscriptionErrorCode.INVALID.value)})
    return int(text)


def _choice(value, field: str, allowed) -> str:
    value = str(value or "").strip()
    if value not in allowed:
        raise ValidationError(
            {field: ValidationError(
                "{} must be one of: {}.".format(field, ", ".join(allowed)),
                code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    return value


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


#: Longest setting value: Stripe keys and URLs are far shorter.
MAX_VALUE_LENGTH = 1000


def check_items(items: List[Dict]) -> None:
    """Refuse names the plugin does not have (a typo would otherwise be dropped silently) and
    values PostgreSQL's jsonb can't store; raises ValidationError keyed by the item's name."""
    from .domain.text import text_problem

    known = {item["name"] for item in DEFAULT_CONFIGURATION}
    errors = {}
    for item in items or []:
        name, value = str(item.get("name")), item.get("value")
        if name not in known:
            errors[name] = ValidationError(
                "Unknown setting %r; the settings are: %s." % (name, ", ".join(sorted(known))),
                code=SubscriptionErrorCode.INVALID.value)
            continue
        problem = text_problem(str(value or ""), MAX_VALUE_LENGTH)
        if problem:
            errors[name] = ValidationError(problem, code=SubscriptionErrorCode.INVALID.value)
    if errors:
        raise ValidationError(errors)


def parse_settings(active: bool, configuration: List[Dict]) -> SubscriptionSettings:
    """Validate and parse the stored items; raises ValidationError keyed by field name."""
    values = {item["name"]: item.get("value") for item in DEFAULT_CONFIGURATION}
    values.update({item["name"]: item.get("value") for item in configuration or []})
    try:
        schedule = parse_retry_schedule(str(values[Field.RETRY_SCHEDULE] or ""))
    except ValueError as error:
        raise ValidationError(
            {Field.RETRY_SCHEDULE: ValidationError(
                str(error).rstrip(".") + ".", code=SubscriptionErrorCode.INVALID.value
            )}
        )
    api_base = str(values[Field.STRIPE_API_BASE] or "").strip().rstrip("/")
    if api_base and not api_base.startswith(("http://", "https://")):
        raise ValidationError(
            {Field.STRIPE_API_BASE: ValidationError(
                "Stripe API base URL must start with http:// or https://.",
                code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    secret = str(values[Field.STRIPE_SECRET_KEY] or "").strip()
    if secret and not secret.startswith(("sk_", "rk_")):
        raise ValidationError(
            {Field.STRIPE_SECRET_KEY: ValidationError(
                "A Stripe secret key starts with sk_ (or rk_ for a restricted key).",
                code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    webhook_secret = str(values.get(Field.STRIPE_WEBHOOK_SECRET) or "").strip()
    if webhook_secret and not webhook_secret.startswith("whsec_"):
        raise ValidationError(
            {Field.STRIPE_WEBHOOK_SECRET: ValidationError(
                "A Stripe webhook signing secret starts with whsec_.",
                code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    manage_link_url = str(values.get(Field.MANAGE_LINK_URL) or "").strip()
    if manage_link_url and not _is_web_page(manage_link_url):
        raise ValidationError(
            {Field.MANAGE_LINK_URL: ValidationError(
                "The manage link page must be an http:// or https:// URL with a host and no "
                "fragment.", code=SubscriptionErrorCode.INVALID.value,
            )}
        )
    return SubscriptionSettings(
        active=bool(active),
        stripe_secret_key=secret,
        stripe_publishable_key=str(values[Field.STRIPE_PUBLISHABLE_KEY] or "").strip(),
        stripe_api_base=api_base,
        retry_schedule=schedule,
        final_action=FinalAction(
            _choice(values[Field.FINAL_ACTION], Field.FINAL_ACTION, [a.value for a in FinalAction])
        ),
        renewal_batch_size=_positive_int(values[Field.RENEWAL_BATCH_SIZE], Field.RENEWAL_BATCH_SIZE, 1000),
        charges_per_second=float(
            _positive_int(values[Field.CHARGES_PER_SECOND], Field.CHARGES_PER_SECOND, 1000)
        ),
        upgrade_billing=_choice(
            values[Field.UPGRADE_BILLING], Field.UPGRADE_BILLING,
            [UPGRADE_IMMEDIATELY, UPGRADE_NEXT_RENEWAL],
        ),
        allow_pause=_as_bool(values[Field.ALLOW_PAUSE]),
        max_pause_cycles=_positive_int(values[Field.MAX_PAUSE_CYCLES], Field.MAX_PAUSE_CYCLES, 24),
        refund_unused_on_cancel=_as_bool(values[Field.REFUND_UNUSED_ON_CANCEL]),
        missed_renewals=_choice(values[Field.MISSED_RENEWALS], Field.MISSED_RENEWALS,
                                [MISSED_BILL_ONCE, MISSED_BILL_EACH]),
        trials_per_customer=_choice(values[Field.TRIALS_PER_CUSTOMER], Field.TRIALS_PER_CUSTOMER,
                                    [TRIALS_UNLIMITED, TRIALS_ONE]),
        stripe_webhook_secret=webhook_secret,
        manage_link_url=manage_link_url,
        pause_on_dispute=_as_bool(values.get(Field.PAUSE_ON_DISPUTE)),
        notices_off=frozenset(kind for kind, field in NOTICE_FIELDS.items()
                              if not _as_bool(values[field])),
        trial_notice_days=_positive_int(values[Field.TRIAL_NOTICE_DAYS], Field.TRIAL_NOTICE_DAYS,
                                        MAX_TRIAL_NOTICE_DAYS),
        retention_offer_months=_whole_number(values[Field.RETENTION_OFFER_MONTHS],
                                             Field.RETENTION_OFFER_MONTHS, 120),
        win_back_after_days=_whole_number(values[Field.WIN_BACK_AFTER_DAYS],
                                          Field.WIN_BACK_AFTER_DAYS, 3650),
        win_back_valid_days=_positive_int(values[Field.WIN_BACK_VALID_DAYS],
                                          Field.WIN_BACK_VALID_DAYS, 365),
        win_back_percent=_whole_number(values[Field.WIN_BACK_PERCENT], Field.WIN_BACK_PERCENT,
                                       100),
        win_back_renewals=_whole_number(values[Field.WIN_BACK_RENEWALS],
                                        Field.WIN_BACK_RENEWALS, 120),
    )


def _is_web_page(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.fragment


def load_settings() -> SubscriptionSettings:
    """The current settings, read from the database (plugins keep no state between calls)."""
    from saleor.plugins.models import PluginConfiguration

    from . import PLUGIN_ID

    stored: Optional[PluginConfiguration] = PluginConfiguration.objects.filter(
        identifier=PLUGIN_ID
    ).first()
    if stored is None:
        return parse_settings(False, DEFAULT_CONFIGURATION)
    return parse_settings(stored.active, stored.configuration)


def require_active() -> SubscriptionSettings:
    current = load_settings()
    if not current.active:
        raise ValidationError(
            "Subscriptions are switched off in this store.",
            code=SubscriptionErrorCode.PLUGIN_INACTIVE.value,
        )
    return current
