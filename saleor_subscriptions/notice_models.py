"""The ledger of e-mail notices: one row per notice decided, written in the transaction that
decides it, so a notice is sent once whatever runs twice (services/notices.py).

Kept beside models.py (which imports this module so Django registers the model)."""
from django.contrib.postgres.fields import JSONField
from django.db import models
from django.utils import timezone


class NoticeStatus:
    PENDING = "pending"  # decided and committed; the send task has not taken it yet
    SENDING = "sending"  # taken by a send task (committed before the mail server is called)
    SENT = "sent"
    FAILED = "failed"  # the mail server refused or failed: logged, never sent again
    OFF = "off"  # switched off in the plugin settings when it was decided: not sent

    CHOICES = [(PENDING, "Pending"), (SENDING, "Sending"), (SENT, "Sent"), (FAILED, "Failed"),
               (OFF, "Switched off")]


class CustomerNotice(models.Model):
    """One e-mail (to the customer, or to staff) about one subscription.

    `cycle` is what makes the notice one of its kind: the billing cycle index (renewal coming
    up, trial ending, staff payment failed), the card's expiry as YYYYMM (card expiring), the
    payment attempt (authentication needed: one per open 3-D Secure charge), the history row
    (payment failed: one per decline; confirmations), a number from the dispute id (disputes).
    Unique with the subscription and kind: a second decision of the same notice inserts
    nothing."""

    subscription = models.ForeignKey("saleor_subscriptions.Subscription",
                                     related_name="notices", on_delete=models.CASCADE)
    kind = models.CharField(max_length=40)
    cycle = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=NoticeStatus.CHOICES,
                              default=NoticeStatus.PENDING)
    details = JSONField(blank=True, default=dict)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "pk")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "cycle", "kind"],
                                    name="subs_one_notice_per_cycle_and_kind"),
        ]
        indexes = [
            # The sweep reads the notices whose send message was lost, never the sent ones.
            models.Index(fields=["created_at"], name="subs_notice_pending_idx",
                         condition=models.Q(status="pending")),
        ]
