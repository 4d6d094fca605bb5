from django.urls import path

from kokuho.web.views_queue import queue_change_view
from kokuho.workqueue.queues import QUEUES

urlpatterns = [
    path(f"queues/{key}/change/", queue_change_view(spec), name=f"queue_change_{key}")
    for key, spec in QUEUES.items()
]
