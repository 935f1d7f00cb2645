"""The floor's one endpoint, an authenticated no-op, and its WSGI application:

cd bench/floor && DJANGO_SETTINGS_MODULE=floor_settings gunicorn -w 2 floor_app:application
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floor_settings")
application = get_wsgi_application()

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class NoOp(APIView):
    def get(self, request):
        return Response({"id": request.user.id})


urlpatterns = [
    path("noop/", NoOp.as_view()),
    path("healthz", lambda request: JsonResponse({"status": "ok"})),  # for the bench to wait on
]
