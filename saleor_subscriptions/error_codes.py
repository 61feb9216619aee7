from enum import Enum


class SubscriptionErrorCode(Enum):
    GRAPHQL_ERROR = "graphql_error"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    REQUIRED = "required"
    UNIQUE = "unique"
    PLUGIN_INACTIVE = "plugin_inactive"
    PERMISSION_DENIED = "permission_denied"
    CURRENCY_MISMATCH = "currency_mismatch"
    PLAN_NOT_AVAILABLE = "plan_not_available"
    PLAN_NOT_FOR_VARIANT = "plan_not_for_variant"
    PAYMENT_METHOD_REQUIRED = "payment_method_required"
    PAYMENT_ERROR = "payment_error"
    INVALID_STATUS = "invalid_status"
    NOT_ALLOWED = "not_allowed"
    SAME_PLAN = "same_plan"
    OTHER_FAMILY = "other_family"
    OTHER_PRODUCT = "other_product"
    AMOUNT_TOO_HIGH = "amount_too_high"
    # A charge of the subscription is in flight (or its outcome is being looked up).
    RENEWAL_IN_PROGRESS = "renewal_in_progress"
    # The gateway's answer is not known yet: the change waits for it.
    PAYMENT_PENDING = "payment_pending"
    TRIAL_ALREADY_USED = "trial_already_used"
    # A manage link's token that is too old: the customer needs a newer e-mail.
    LINK_EXPIRED = "link_expired"
