"""REST views of threads and messages: validate the input, call a selector or service, serialize.

Access goes through `chat.selectors.thread_for_participant` / `message_for_participant`; writes
go through `chat.services`.
"""

import re

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, parsers, permissions, serializers, status
from rest_framework.response import Response

from chat import files, selectors, services
from chat.pagination import MessagePagination
from chat.serializers import (
    AttachmentLinkQuerySerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ClearedSerializer,
    MarkedSerializer,
    MessageCreateSerializer,
    MessageDeleteQuerySerializer,
    MessageEditSerializer,
    MessagePageQuerySerializer,
    MessageSerializer,
    MessageTextSerializer,
    MuteSerializer,
    PresenceSerializer,
    ReportCreateSerializer,
    ReportSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
    SubjectUserQuerySerializer,
    ThreadCreateSerializer,
    ThreadSerializer,
    UnreadCountSerializer,
)
from config.throttles import SendRateThrottle, UploadRateThrottle

NOT_FOUND = OpenApiResponse(description="No such thread or message among the caller's.")
DELETED_FOR_EVERYONE = OpenApiResponse(description="The message was deleted for everyone.")
NOT_YOURS = OpenApiResponse(
    description="Not allowed: the message is the other participant's, or its window has passed."
)


IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise serializers.ValidationError(
            {"Idempotency-Key": ["Use 1 to 255 printable ASCII characters without spaces."]}
        )
    return key


def requested_subject(request):
    if "user" not in request.query_params:
        return request.user  # the common case, without building a serializer to say so
    query = SubjectUserQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return selectors.subject_user(caller=request.user, user_id=query.validated_data.get("user"))


def thread_as_seen(request, thread_id: int) -> dict:
    """The thread as the caller sees it, to answer with."""
    return ThreadSerializer(
        selectors.thread_view(thread_id=thread_id, user_id=request.user.pk)
    ).data


class ThreadListCreateView(generics.GenericAPIView):
    serializer_class = ThreadSerializer

    @extend_schema(
        parameters=[SubjectUserQuerySerializer],
        responses={200: ThreadSerializer(many=True), 403: None},
    )
    def get(self, request):
        user = requested_subject(request)
        threads = self.paginate_queryset(selectors.threads_for_user(user=user))
        return self.get_paginated_response(ThreadSerializer(threads, many=True).data)

    @extend_schema(
        request=ThreadCreateSerializer,
        responses={200: ThreadSerializer, 201: ThreadSerializer},
    )
    def post(self, request):
        data = ThreadCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        thread, created = services.thread_get_or_create(
            user=request.user, other=data.validated_data["other"]
        )
        return Response(
            thread_as_seen(request, thread.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ThreadDetailView(generics.GenericAPIView):
    serializer_class = ThreadSerializer

    @extend_schema(responses={200: ThreadSerializer, 404: NOT_FOUND})
    def get(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        return Response(thread_as_seen(request, thread.pk))

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        services.thread_delete(thread=thread)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageListCreateView(generics.GenericAPIView):
    serializer_class = MessageSerializer
    pagination_class = MessagePagination

    def get_throttles(self):
        return [SendRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        parameters=[MessagePageQuerySerializer],
        responses={200: MessageSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        messages = selectors.messages_for_thread(thread=thread, user=request.user)
        # Validated only when given: building a serializer to learn there is nothing to validate
        # was a measurable share of a first page (bench/RESULTS.md).
        if "before" in request.query_params or "after" in request.query_params:
            query = MessagePageQuerySerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            page = self.paginator.paginate_keyset(messages, request, **query.validated_data)
            return self.paginator.get_keyset_response(MessageSerializer(page, many=True).data)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        request=MessageCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string per message (up to 255 printable ASCII "
                "characters). A retry with the same key returns the first message with 200.",
            )
        ],
        responses={200: MessageSerializer, 201: MessageSerializer, 404: NOT_FOUND},
    )
    def post(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = services.message_send(
            thread=thread,
            sender=request.user,
            text=data.validated_data["text"],
            attachment_ids=data.validated_data["attachments"],
            idempotency_key=idempotency_key(request),
        )
        return Response(
            MessageSerializer(message).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ThreadReadView(generics.GenericAPIView):
    serializer_class = MarkedSerializer

    @extend_schema(request=None, responses={200: MarkedSerializer, 404: NOT_FOUND})
    def post(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        marked_ids = services.thread_mark_read(thread=thread, user=request.user)
        return Response({"marked": len(marked_ids)})


class MessageReadView(generics.GenericAPIView):
    serializer_class = MessageSerializer

    @extend_schema(request=None, responses={200: MessageSerializer, 403: None, 404: NOT_FOUND})
    def post(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        message = services.message_mark_read(message=message, user=request.user)
        return Response(MessageSerializer(message).data)


class UnreadCountView(generics.GenericAPIView):
    serializer_class = UnreadCountSerializer

    @extend_schema(
        parameters=[SubjectUserQuerySerializer], responses={200: UnreadCountSerializer, 403: None}
    )
    def get(self, request):
        user = requested_subject(request)
        return Response({"unread_count": selectors.unread_count_for_user(user=user)})


class MessageSearchView(generics.GenericAPIView):
    serializer_class = SearchResultSerializer
    pagination_class = MessagePagination

    @extend_schema(
        parameters=[SearchQuerySerializer],
        responses={200: SearchResultSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        words, thread_id = query.validated_data["q"], query.validated_data.get("thread")
        if thread_id is not None:
            selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        results = selectors.messages_search(user=request.user, words=words, thread_id=thread_id)
        keys = {
            key: query.validated_data[key]
            for key in ("before", "after")
            if key in query.validated_data
        }
        if keys:
            page = self.paginator.paginate_keyset(results, request, **keys)
            return self.paginator.get_keyset_response(SearchResultSerializer(page, many=True).data)
        page = self.paginate_queryset(results)
        return self.get_paginated_response(SearchResultSerializer(page, many=True).data)


class ThreadClearView(generics.GenericAPIView):
    serializer_class = ClearedSerializer

    @extend_schema(request=None, responses={200: ClearedSerializer, 404: NOT_FOUND})
    def post(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        cleared = services.thread_clear(thread=thread, user=request.user)
        return Response({"cleared": cleared})


class MessageDetailView(generics.GenericAPIView):
    serializer_class = MessageSerializer

    @extend_schema(
        request=MessageTextSerializer,
        responses={
            200: MessageSerializer,
            403: NOT_YOURS,
            404: NOT_FOUND,
            409: DELETED_FOR_EVERYONE,
        },
    )
    def patch(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        data = MessageTextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_edit(
            message=message, user=request.user, text=data.validated_data["text"]
        )
        return Response(MessageSerializer(message).data)

    @extend_schema(
        parameters=[MessageDeleteQuerySerializer],
        responses={204: None, 403: NOT_YOURS, 404: NOT_FOUND},
    )
    def delete(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        query = MessageDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["scope"] == "me":
            services.message_hide(message=message, user=request.user)
        else:
            services.message_delete_for_everyone(message=message, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageHistoryView(generics.GenericAPIView):
    serializer_class = MessageEditSerializer
    pagination_class = None

    @extend_schema(responses={200: MessageEditSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        edits = selectors.message_history(message=message)
        return Response(MessageEditSerializer(edits, many=True).data)


class MessageUnreadView(generics.GenericAPIView):
    serializer_class = MarkedSerializer

    @extend_schema(request=None, responses={200: MarkedSerializer, 403: None, 404: NOT_FOUND})
    def post(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        marked_ids = services.message_mark_unread(message=message, user=request.user)
        return Response({"marked": len(marked_ids)})


class ThreadMuteView(generics.GenericAPIView):
    serializer_class = ThreadSerializer

    @extend_schema(request=MuteSerializer, responses={200: ThreadSerializer, 404: NOT_FOUND})
    def post(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        data = MuteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.thread_mute(thread=thread, user=request.user, until=data.validated_data["until"])
        return Response(thread_as_seen(request, thread.pk))

    @extend_schema(request=None, responses={200: ThreadSerializer, 404: NOT_FOUND})
    def delete(self, request, thread_id: int):
        thread = selectors.thread_for_participant(user=request.user, thread_id=thread_id)
        services.thread_unmute(thread=thread, user=request.user)
        return Response(thread_as_seen(request, thread.pk))


class MessageReportView(generics.GenericAPIView):
    serializer_class = ReportSerializer

    @extend_schema(
        request=ReportCreateSerializer,
        responses={
            200: ReportSerializer,
            201: ReportSerializer,
            403: OpenApiResponse(description="Only the message's recipient can report it."),
            404: NOT_FOUND,
            409: DELETED_FOR_EVERYONE,
        },
    )
    def post(self, request, message_id: int):
        message = selectors.message_for_participant(user=request.user, message_id=message_id)
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.message_report(
            message=message, user=request.user, **data.validated_data
        )
        return Response(
            ReportSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class UserPresenceView(generics.GenericAPIView):
    serializer_class = PresenceSerializer

    @extend_schema(
        responses={
            200: PresenceSerializer,
            404: OpenApiResponse(
                description="No such user among those who share a thread with the caller."
            ),
        }
    )
    def get(self, request, user_id: int):
        presence = selectors.presence_for_user(caller=request.user, user_id=user_id)
        return Response(PresenceSerializer(presence).data)


NOT_A_FILE_OF_YOURS = OpenApiResponse(
    description="No such file among those the caller uploaded or can see in their threads."
)


def file_response(attachment, kind: str, *, cache_seconds: int) -> FileResponse:
    """The file (or its thumbnail) with the headers every file gets: its real type, no sniffing,
    a sandbox (a PDF or text opened in the browser runs nothing, reaches nothing), and a download
    unless it is an image."""
    stored = attachment.file_name if kind == files.FILE else attachment.thumbnail_name
    try:
        handle = default_storage.open(stored, "rb")
    except FileNotFoundError:
        raise Http404("This file is no longer stored.") from None
    content_type = (
        attachment.content_type
        if kind == files.FILE
        else files.thumbnail_type(attachment.content_type)
    )
    response = FileResponse(
        handle,
        as_attachment=not attachment.is_image,
        filename=attachment.name,
        content_type=f"{content_type}; charset=utf-8"
        if content_type == files.TEXT
        else content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = f"private, max-age={cache_seconds}"
    return response


class AttachmentUploadView(generics.GenericAPIView):
    serializer_class = AttachmentSerializer
    parser_classes = [parsers.MultiPartParser]
    throttle_classes = [UploadRateThrottle]

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            413: OpenApiResponse(description="Over the size limit, or the caller's quota."),
            415: OpenApiResponse(description="Not a type of file the service takes."),
        },
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit():  # refused before the body is read
            files.refuse_if_too_large(int(length), framing=files.MULTIPART_OVERHEAD)
        data = AttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_upload(
            user=request.user, upload=data.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDetailView(generics.GenericAPIView):
    @extend_schema(
        responses={(200, "*/*"): OpenApiTypes.BINARY, 404: NOT_A_FILE_OF_YOURS},
        description="The file itself, to its uploader or a participant of the thread it was "
        "sent in.",
    )
    def get(self, request, attachment_id: int):
        attachment = selectors.attachment_for_user(user=request.user, attachment_id=attachment_id)
        return file_response(attachment, files.FILE, cache_seconds=0)

    @extend_schema(
        responses={
            204: None,
            403: OpenApiResponse(description="The file is the other participant's."),
            404: NOT_A_FILE_OF_YOURS,
            409: OpenApiResponse(description="The file was sent; it goes with its message."),
        },
        description="Take back a file uploaded and not sent yet (it stops counting against "
        "the quota at once).",
    )
    def delete(self, request, attachment_id: int):
        attachment = selectors.attachment_for_user(user=request.user, attachment_id=attachment_id)
        services.attachment_delete(attachment=attachment, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttachmentLinkView(generics.GenericAPIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="attachments_link_retrieve",
        auth=[],
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                OpenApiParameter.PATH,
                enum=[files.FILE, files.THUMBNAIL],
                description="The file itself, or its thumbnail.",
            ),
            AttachmentLinkQuerySerializer,
        ],
        responses={
            (200, "*/*"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="The link was tampered with or has expired."),
            404: OpenApiResponse(description="The file is gone (its message was deleted)."),
        },
        description="A signed link, as an Attachment's `url` and `thumbnail_url` give: no "
        "Authorization header needed until it expires.",
    )
    def get(self, request, attachment_id: int, kind: str):
        query = AttachmentLinkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        attachment, seconds_left = selectors.attachment_by_link(
            attachment_id=attachment_id, kind=kind, **query.validated_data
        )
        return file_response(attachment, kind, cache_seconds=seconds_left)
