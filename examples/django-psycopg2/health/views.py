"""A liveness view that needs no database but proves the compiled psycopg2 extension loads."""

import platform

import django
import psycopg2
from django.http import JsonResponse


def health(request):
    return JsonResponse(
        {
            "status": "ok",
            "app": "django-psycopg2",
            "python": platform.python_version(),
            "django": django.get_version(),
            "psycopg2": psycopg2.__version__.split()[0],
            "libpq": psycopg2.__libpq_version__,
        }
    )
