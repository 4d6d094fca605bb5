"""Forked workers for a job's reads (`core.forking.reads_map`): where they run, what they see,
and that they cannot write."""

import os

import pytest
from django.db import connection, transaction

from kokuho.core.forking import reads_map
from kokuho.people.models import Person
from kokuho.testing import make_insured


def _seen(atena_no: str) -> tuple[int, bool]:
    return os.getpid(), Person.objects.filter(atena_no=atena_no).exists()


def _write(atena_no: str) -> int:
    return Person.objects.filter(atena_no=atena_no).update(name="書換")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reads_run_in_workers_on_postgresql_and_here_elsewhere():
    people = [make_insured().atena_no for _ in range(4)]
    results = list(reads_map(_seen, people, workers=2))
    assert [seen for _, seen in results] == [True] * 4  # committed rows, in the items' order
    pids = {pid for pid, _ in results}
    if connection.vendor == "postgresql":
        assert os.getpid() not in pids and len(pids) <= 2
    else:
        assert pids == {os.getpid()}
    assert {pid for pid, _ in reads_map(_seen, people, workers=1)} == {os.getpid()}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_cannot_write():
    if connection.vendor != "postgresql":
        pytest.skip("workers run on PostgreSQL only")
    people = [make_insured().atena_no for _ in range(2)]
    with pytest.raises(Exception, match="read-only transaction"):
        list(reads_map(_write, people, workers=2))
    assert not Person.objects.filter(name="書換").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_a_callers_transaction_the_reads_stay_here():
    """Workers would not see the caller's uncommitted rows: the reads run in this process."""
    with transaction.atomic():
        people = [make_insured().atena_no for _ in range(3)]
        results = list(reads_map(_seen, people, workers=2))
    assert results == [(os.getpid(), True)] * 3
