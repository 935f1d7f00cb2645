from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.TokenObtainPairView.as_view(), name="token"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", views.TokenVerifyView.as_view(), name="token-verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/me/", views.MeView.as_view(), name="user-me"),
    path("users/blocked/", views.BlockedListView.as_view(), name="user-blocked"),
    path("users/<int:user_id>/block/", views.BlockView.as_view(), name="user-block"),
]
