"""common.rows: an instance read by a written-out query is the instance the ORM reads, every
field converted alike (on SQLite, datetimes come as text and booleans as integers)."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import Thread
from common import rows

User = get_user_model()


def read(model, pk):
    table = model._meta.db_table
    sql = f"SELECT {rows.columns(model, 't')} FROM {table} AS t WHERE t.id = %s"  # noqa: S608
    return rows.instance(model, sql, [pk])


def fields_of(instance):
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


def types_of(instance):
    return {name: type(value) for name, value in fields_of(instance).items()}


def test_a_user_reads_as_the_orm_reads_it(alice):
    User.objects.filter(pk=alice.pk).update(last_login=timezone.now(), is_staff=True)
    read_here, read_by_orm = read(User, alice.pk), User.objects.get(pk=alice.pk)
    assert fields_of(read_here) == fields_of(read_by_orm)
    assert types_of(read_here) == types_of(read_by_orm)  # True, not 1; a datetime, not text
    assert read_here.is_staff is True
    assert read_here.last_login.tzinfo is not None


def test_a_thread_reads_as_the_orm_reads_it(thread):
    assert fields_of(read(Thread, thread.pk)) == fields_of(Thread.objects.get(pk=thread.pk))


def test_the_instance_is_saved_as_an_existing_row(alice):
    user = read(User, alice.pk)
    user.first_name = "Alice"
    user.save()  # an UPDATE: an instance taken for new would INSERT and break the unique name
    assert User.objects.get(pk=alice.pk).first_name == "Alice"
    assert User.objects.count() == 1


def test_no_row_is_none(db):
    assert read(User, 10**9) is None
