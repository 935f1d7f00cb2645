"""Registration, JWT tokens, logout, user lookup, and blocks."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.selectors import blocked_users, user_by_id, users_search
from accounts.serializers import (
    LogoutSerializer,
    RegisterSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
    UserSearchQuerySerializer,
    UserSerializer,
)
from accounts.services import user_block, user_register, user_unblock
from config.throttles import LoginRateThrottle, RefreshRateThrottle, RegisterRateThrottle


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainPairView(jwt_views.TokenObtainPairView):
    throttle_classes = [LoginRateThrottle]


class TokenRefreshView(jwt_views.TokenRefreshView):
    serializer_class = TokenRefreshSerializer
    throttle_classes = [RefreshRateThrottle]


class TokenVerifyView(jwt_views.TokenVerifyView):
    serializer_class = TokenVerifySerializer


class LogoutView(APIView):
    @extend_schema(request=LogoutSerializer, responses={205: None})
    def post(self, request):
        data = LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token = RefreshToken(data.validated_data["refresh"])
        except TokenError as error:
            raise serializers.ValidationError({"refresh": [str(error)]}) from None
        if str(token.get("user_id")) != str(request.user.pk):
            raise serializers.ValidationError({"refresh": ["This refresh token is not yours."]})
        token.blacklist()
        return Response(status=status.HTTP_205_RESET_CONTENT)


class UserListView(generics.ListAPIView):
    serializer_class = UserSerializer

    @extend_schema(parameters=[OpenApiParameter("search", str, description="Part of a username.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = UserSearchQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return users_search(search=query.validated_data.get("search", ""))


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


NO_USER = OpenApiResponse(description="No user has this id.")


class BlockView(APIView):
    @extend_schema(request=None, responses={204: None, 400: None, 404: NO_USER})
    def post(self, request, user_id: int):
        user_block(user=request.user, other=user_by_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, 400: None, 404: NO_USER})
    def delete(self, request, user_id: int):
        user_unblock(user=request.user, other=user_by_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockedListView(generics.ListAPIView):
    serializer_class = UserSerializer

    def get_queryset(self):
        return blocked_users(user=self.request.user)
