"""The operators' admin: threads with their participants and recent messages, messages, and the
queue of reported messages.

Pages stay fast with a million messages: related rows are joined (`list_select_related`), message
counts are the counts the database keeps (`ThreadMessageCount`), no page lists every thread or
user in a widget, and nothing groups the message table by date. Changes go through
`chat.services`, like every other write.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ERROR_FLAG, SEARCH_VAR
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from chat import files, services
from chat.models import Attachment, Message, MessageEdit, Report, Thread
from common.fields import MAX_ID, PLAIN_INTEGER

User = get_user_model()

RECENT_MESSAGES_SHOWN = 20


class ThreadAddForm(forms.ModelForm):
    participants = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True),
        widget=AutocompleteSelectMultiple(Thread._meta.get_field("participants"), admin.site),
        help_text="Exactly two different active users.",
    )

    class Meta:
        model = Thread
        fields = []

    def clean_participants(self):
        users = list(self.cleaned_data["participants"])
        if len(users) != 2:
            raise forms.ValidationError(
                "A thread has exactly two participants; you chose %(count)d.",
                code="participant_count",
                params={"count": len(users)},
            )
        low, high = sorted(users, key=lambda user: user.pk)
        if Thread.objects.filter(user_low=low, user_high=high).exists():
            raise forms.ValidationError(
                "%(low)s and %(high)s already have a thread.",
                code="thread_exists",
                params={"low": low, "high": high},
            )
        return users


class IdsInRangeMixin:
    """A filter in the URL naming an id no database column can hold (`?thread=99999999999999999999`)
    is refused like any other bad filter, instead of overflowing the database driver (a 500)."""

    def changelist_view(self, request, extra_context=None):
        for name, values in request.GET.lists():
            if name == SEARCH_VAR:
                continue
            for value in values:
                for part in value.split(","):
                    if PLAIN_INTEGER.fullmatch(part) and abs(int(part)) > MAX_ID:
                        return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)


@admin.register(Thread)
class ThreadAdmin(IdsInRangeMixin, admin.ModelAdmin):
    list_display = ["id", "participant_names", "message_count", "updated", "created"]
    list_display_links = ["id", "participant_names"]
    list_select_related = ["user_low", "user_high"]
    search_fields = ["user_low__username", "user_high__username"]
    list_filter = ["updated", "created"]
    date_hierarchy = "updated"
    ordering = ["-updated", "-id"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = ["participant_names", "created", "updated", "message_count", "recent"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(messages_total=Coalesce("message_counter__messages", Value(0)))
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ThreadAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["participants"]
        return self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # Nothing of an existing thread is editable: its participants are fixed for its lifetime.
        # Its page is view-only, and deleting it still works.
        return obj is None and super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        first, second = form.cleaned_data["participants"]
        thread, _ = services.thread_get_or_create(user=first, other=second)
        obj.pk = thread.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        """The participants were written by the service in `save_model`."""

    def delete_model(self, request, obj):
        services.thread_delete(thread=obj)

    def delete_queryset(self, request, queryset):
        for thread in queryset:
            services.thread_delete(thread=thread)

    @admin.display(description="participants")
    def participant_names(self, thread):
        return f"{thread.user_low.username} ↔ {thread.user_high.username}"

    @admin.display(description="messages")
    def message_count(self, thread):
        return thread.messages_total

    @admin.display(description=f"latest {RECENT_MESSAGES_SHOWN} messages")
    def recent(self, thread):
        recent = (
            Message.objects.filter(thread=thread)
            .select_related("sender")
            .order_by("-id")[:RECENT_MESSAGES_SHOWN]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m.created.strftime("%Y-%m-%d %H:%M"),
                    m.sender.username,
                    "(deleted)" if m.deleted else m.text[:200] + (" (edited)" if m.edited else ""),
                    "read" if m.is_read else "unread",
                )
                for m in recent
            ),
        )
        all_url = reverse("admin:chat_message_changelist") + f"?thread={thread.pk}"
        return format_html(
            "<table><thead><tr><th>sent</th><th>sender</th><th>text</th><th>state</th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}">All {} messages →</a></p>',
            rows,
            all_url,
            thread.messages_total,
        )


class MessageEditInline(admin.TabularInline):
    """The earlier texts of an edited message, oldest first."""

    model = MessageEdit
    fields = ["text", "until"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "earlier text"
    verbose_name_plural = "earlier texts (edit history)"

    def has_add_permission(self, request, obj=None):
        return False


def attachment_preview(attachment):
    """A thumbnail that opens the file, or a download link, through signed links."""
    if attachment.thumbnail_url is None:
        return format_html('<a href="{}">Download {}</a>', attachment.url, attachment.name)
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">'
        '<img src="{}" alt="{}" style="max-width: 160px; max-height: 160px"></a>',
        attachment.url,
        attachment.thumbnail_url,
        attachment.name,
    )


class AttachmentInline(admin.TabularInline):
    """A message's files: images as thumbnails, each opening the file through a signed link
    (the files are never served otherwise). Operators remove files by deleting the message for
    everyone, as its sender would."""

    model = Attachment
    fields = ["preview", "name", "content_type", "size_shown", "uploader", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "files"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="file")
    def preview(self, attachment):
        return attachment_preview(attachment)

    @admin.display(description="size")
    def size_shown(self, attachment):
        dimensions = f", {attachment.width} x {attachment.height} px" if attachment.width else ""
        return f"{files.human_size(attachment.size)}{dimensions}"


@admin.register(Message)
class MessageAdmin(IdsInRangeMixin, admin.ModelAdmin):
    list_display = ["id", "sender", "thread_link", "short_text", "is_read", "edited", "created"]
    list_select_related = ["sender", "thread__user_low", "thread__user_high"]
    # No date hierarchy: it groups every message by date on each page, a scan at 1M messages.
    list_filter = ["is_read", "deleted", "created"]
    search_fields = ["text", "sender__username"]
    raw_id_fields = ["thread", "sender"]
    fields = ["thread", "sender", "recipient", "text", "created", "edited", "deleted", "is_read"]
    ordering = ["-id"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [AttachmentInline, MessageEditInline]
    actions = ["delete_for_everyone", "mark_read", "mark_unread"]

    def has_add_permission(self, request):
        # Operators moderate conversations; they do not write in them.
        return False

    def has_change_permission(self, request, obj=None):
        # A message's page is view-only; the list's actions mark read or unread.
        return obj is None and super().has_change_permission(request)

    # Operators delete a message as its sender would, for everyone: a tombstone stays in its
    # place, so ids and pages stay stable and both participants are told. Django's own bulk
    # delete, which would remove rows, gives way to the action below.
    def delete_model(self, request, obj):
        services.message_delete_for_everyone(message=obj)

    def delete_queryset(self, request, queryset):
        services.messages_delete_for_everyone(messages=queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not self.has_delete_permission(request):
            actions.pop("delete_for_everyone", None)
        return actions

    @admin.display(description="thread", ordering="thread")
    def thread_link(self, message):
        url = reverse("admin:chat_thread_change", args=[message.thread_id])
        return format_html('<a href="{}">{}</a>', url, message.thread)

    @admin.display(description="text")
    def short_text(self, message):
        if message.deleted:
            return format_html("<em>{}</em>", "Message deleted")
        return Truncator(message.text).chars(60)

    @admin.action(description="Delete selected messages for everyone (leave tombstones)")
    def delete_for_everyone(self, request, queryset):
        deleted = services.messages_delete_for_everyone(messages=queryset)
        self.message_user(request, f"{deleted} message(s) deleted for everyone.", messages.SUCCESS)

    @admin.action(description="Mark selected messages as read")
    def mark_read(self, request, queryset):
        changed = services.messages_set_read(messages=queryset, is_read=True)
        self.message_user(request, f"{changed} message(s) marked read.", messages.SUCCESS)

    @admin.action(description="Mark selected messages as unread")
    def mark_unread(self, request, queryset):
        changed = services.messages_set_read(messages=queryset, is_read=False)
        self.message_user(request, f"{changed} message(s) marked unread.", messages.SUCCESS)


CONTEXT_MESSAGES = 5  # shown before and after a reported message


class ReportStateFilter(admin.SimpleListFilter):
    """The queue opens on what is left to do: open reports, unless another state (or all) is
    chosen."""

    title = "state"
    parameter_name = "state"
    DEFAULT = Report.State.OPEN
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Report.State.choices, (self.ALL, "All")]

    def chosen(self) -> str:
        return self.value() if self.value() in dict(self.lookup_choices) else self.DEFAULT

    def choices(self, changelist):
        # Django's own list starts with an "All" that drops the parameter: here that is the
        # default, open reports, and "All" is a choice of its own.
        for value, title in self.lookup_choices:
            yield {
                "selected": self.chosen() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }

    def queryset(self, request, queryset):
        chosen = self.chosen()
        return queryset if chosen == self.ALL else queryset.filter(state=chosen)


@admin.register(Report)
class ReportAdmin(IdsInRangeMixin, admin.ModelAdmin):
    """The reports queue: what recipients reported, as it was when they reported it, and the
    three ways to close a report."""

    list_display = ["id", "created", "reason", "state", "reporter", "sender", "reported_text"]
    list_select_related = ["reporter", "sender"]
    list_filter = [ReportStateFilter, "reason", "created"]
    search_fields = ["text", "comment", "reporter__username", "sender__username"]
    ordering = ["-created", "-id"]
    list_per_page = 50
    show_full_result_count = False
    fields = [
        "reason",
        "comment",
        "state",
        "reporter",
        "sender",
        "created",
        "message_created",
        "text",
        "reported_files",
        "message_link",
        "in_context",
        "handled",
        "handled_by",
    ]
    readonly_fields = fields
    actions = ["dismiss", "delete_messages", "deactivate_senders"]

    def has_add_permission(self, request):
        return False  # reports come from recipients

    def has_change_permission(self, request, obj=None):
        # A report's page is view-only; the queue's actions close reports.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="text as reported")
    def reported_text(self, report):
        return Truncator(report.text).chars(60)

    @admin.display(description="files as reported")
    def reported_files(self, report):
        """The files the message carried, and while they stay (not deleted for everyone), the
        files themselves."""
        if not report.files:
            return "-"
        names = format_html_join(
            ", ",
            "{} ({}, {})",
            ((f["name"], f["content_type"], files.human_size(f["size"])) for f in report.files),
        )
        still = [] if report.message is None else report.message.attachments
        if not still:
            return format_html("{}<br>Deleted with the message since.", names)
        return format_html(
            "{}<br>{}",
            names,
            format_html_join(" ", "{}", ((attachment_preview(a),) for a in still)),
        )

    @admin.display(description="message")
    def message_link(self, report):
        if report.message_id is None:
            return "Gone with its thread; the text above is the copy kept."
        url = reverse("admin:chat_message_change", args=[report.message_id])
        state = " (deleted for everyone since)" if report.message.deleted else ""
        return format_html('<a href="{}">#{}</a>{}', url, report.message_id, state)

    @admin.display(description="in its thread")
    def in_context(self, report):
        """The messages around the reported one, as they are now, the reported one in bold."""
        if report.message_id is None:
            return "-"
        thread_messages = Message.objects.filter(thread_id=report.thread_id_reported)
        before = thread_messages.filter(id__lt=report.message_id).order_by("-id")
        after = thread_messages.filter(id__gt=report.message_id).order_by("id")
        around = [
            *reversed(before.select_related("sender")[:CONTEXT_MESSAGES]),
            report.message,
            *after.select_related("sender")[:CONTEXT_MESSAGES],
        ]
        rows = format_html_join(
            "",
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    "reported" if m.pk == report.message_id else "",
                    m.created.strftime("%Y-%m-%d %H:%M"),
                    m.sender.username,
                    "(deleted)" if m.deleted else m.text[:300],
                )
                for m in around
            ),
        )
        thread_url = reverse("admin:chat_thread_change", args=[report.thread_id_reported])
        return format_html(
            "<table><thead><tr><th>sent</th><th>sender</th><th>text now</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">The thread →</a></p>',
            rows,
            thread_url,
        )

    @admin.action(description="Dismiss selected reports")
    def dismiss(self, request, queryset):
        closed = services.reports_dismiss(reports=queryset, operator=request.user)
        self.message_user(request, f"{closed} report(s) dismissed.", messages.SUCCESS)

    @admin.action(description="Delete the reported messages for everyone")
    def delete_messages(self, request, queryset):
        deleted = services.reports_delete_messages(reports=queryset, operator=request.user)
        self.message_user(request, f"{deleted} message(s) deleted for everyone.", messages.SUCCESS)

    @admin.action(description="Deactivate the senders (logs them out everywhere)")
    def deactivate_senders(self, request, queryset):
        deactivated = services.reports_deactivate_senders(reports=queryset, operator=request.user)
        self.message_user(request, f"{deactivated} account(s) deactivated.", messages.SUCCESS)
