"""The URL map: the web client at /, REST API under /api/, schema and docs, health check,
metrics, admin."""

from django.contrib import admin
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.metrics import metrics_view
from web.views import index, service_worker


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", index, name="web-index"),
    path("sw.js", service_worker, name="web-service-worker"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("accounts.urls")),
    path("api/", include("chat.urls")),
    path("api/", include("notifications.urls")),
    path("admin/", admin.site.urls),
]
