from django.urls import path

from notifications import views

urlpatterns = [
    path("push/key/", views.PushKeyView.as_view(), name="push-key"),
    path("push/subscriptions/", views.PushSubscriptionsView.as_view(), name="push-subscriptions"),
]
