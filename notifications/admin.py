"""The operators' side of notifications: webhook endpoints with their delivery log, and the
browsers subscribed to push (to see who gets pushes, and to drop a subscription)."""

import json
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from notifications import services
from notifications.models import PushSubscription, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["__str__", "url", "active", "failures_in_a_row", "disabled_reason", "created"]
    list_filter = ["active"]
    fields = [
        "url",
        "description",
        "secret",
        "active",
        "failures_in_a_row",
        "failing_since",
        "disabled_reason",
        "created",
    ]
    readonly_fields = ["failures_in_a_row", "failing_since", "disabled_reason", "created"]
    actions = ["send_test_event"]
    # A URL typed without a scheme is https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        services.webhook_endpoint_save(endpoint=obj)

    @admin.action(description="Send a test event (ping) to the selected endpoints")
    def send_test_event(self, request, queryset):
        sent = services.webhook_ping(endpoints=queryset)
        self.message_user(
            request,
            f"A ping is on its way to {sent} endpoint(s); the delivery log shows how it went.",
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read only, but for sending a delivery again."""

    list_display = ["created", "event_type", "endpoint", "state", "attempts", "last_answer"]
    list_filter = ["state", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    date_hierarchy = None
    fields = [
        "endpoint",
        "event_type",
        "event_id",
        "state",
        "attempts",
        "next_attempt",
        "last_status",
        "last_error",
        "created",
        "finished",
        "event",
    ]
    readonly_fields = fields
    actions = ["retry_now"]
    show_full_result_count = False  # a log can be long; counting it all on each page is not free

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Last answer")
    def last_answer(self, delivery):
        return delivery.last_error or delivery.last_status or "-"

    @admin.display(description="Event (as sent)")
    def event(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(delivery.body), indent=2))

    @admin.action(description="Send again now (failed or pending)", permissions=["view"])
    def retry_now(self, request, queryset):
        count = services.webhook_deliveries_retry(deliveries=queryset)
        self.message_user(request, f"{count} deliveries will be sent again.", messages.SUCCESS)


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """Who receives pushes, on which push service. The endpoint itself is a secret of the
    user's browser: the list shows its host only."""

    list_display = ["user", "push_service", "created", "last_delivered"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "push_service", "created", "last_delivered"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Push service")
    def push_service(self, subscription):
        return urlsplit(subscription.endpoint).hostname
