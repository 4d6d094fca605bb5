"""`field__among=[…]` selects what `field__in=[…]` selects, on either database, for ids,
text that needs quoting in an array literal, relations and the empty list."""

import pytest
from django.contrib.auth.models import Group, Permission

pytestmark = pytest.mark.django_db

NAMES = ["plain", 'quo"te', "back\\slash", "com,ma", "{brace}", "空白 あり", "NULL", ""]


def test_among_selects_as_in_does_for_text_ids_relations_and_nothing():
    groups = [Group.objects.create(name=name) for name in NAMES]
    Group.objects.create(name="other")
    picked = NAMES[1:]
    assert sorted(Group.objects.filter(name__among=picked).values_list("name", flat=True)) == (
        sorted(Group.objects.filter(name__in=picked).values_list("name", flat=True))
    )
    assert set(Group.objects.filter(name__among=picked).values_list("name", flat=True)) == set(
        picked
    )
    ids = [g.pk for g in groups[:3]] + [10**12]
    assert set(Group.objects.filter(pk__among=ids).values_list("pk", flat=True)) == set(ids[:3])
    assert not Group.objects.filter(pk__among=[]).exists()
    assert not Group.objects.filter(name__among=[]).exists()
    permission = Permission.objects.first()
    groups[0].permissions.add(permission)
    through = Group.permissions.through.objects
    assert list(
        through.filter(group__among=[groups[0].pk]).values_list("permission_id", flat=True)
    ) == [permission.pk]
