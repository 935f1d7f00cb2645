"""The push API: the server's key, and a user's browsers subscribing and unsubscribing."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response

from notifications import push, services
from notifications.serializers import (
    PushEndpointQuerySerializer,
    PushKeySerializer,
    PushSubscriptionSerializer,
)


class PushNotConfigured(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Push notifications are not configured on this server (VAPID_PRIVATE_KEY is not set)."
    )
    default_code = "push_not_configured"


class PushKeyView(generics.GenericAPIView):
    serializer_class = PushKeySerializer

    @extend_schema(
        responses={200: PushKeySerializer, 503: OpenApiResponse(description="Push is off.")}
    )
    def get(self, request):
        if not push.configured():
            raise PushNotConfigured()
        return Response({"public_key": push.public_key()})


class PushSubscriptionsView(generics.GenericAPIView):
    serializer_class = PushSubscriptionSerializer

    @extend_schema(
        request=PushSubscriptionSerializer,
        responses={
            201: OpenApiResponse(description="Subscribed."),
            200: OpenApiResponse(description="This browser was subscribed already."),
            400: OpenApiResponse(description="Not an https URL on a public address, or bad keys."),
            503: OpenApiResponse(description="Push is off on this server."),
        },
    )
    def post(self, request):
        if not push.configured():
            raise PushNotConfigured()
        data = PushSubscriptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, created = services.push_subscribe(
            user=request.user,
            endpoint=data.validated_data["endpoint"],
            **data.validated_data["keys"],
        )
        return Response(status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("endpoint", str, required=True)],
        request=None,
        responses={204: OpenApiResponse(description="Unsubscribed (or was not subscribed).")},
    )
    def delete(self, request):
        query = PushEndpointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        services.push_unsubscribe(user=request.user, endpoint=query.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)
