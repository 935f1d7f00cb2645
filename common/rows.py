"""One model instance from a written-out query, without the ORM's query building.

`Model.objects.raw()` works out at every call which column is which field and how each value is
converted; for the one-row reads nearly every request makes (the authenticated user, the thread of
an access check) that cost more than running the query (bench/TOPOLOGY.md). Here the query
selects `columns(model)`, in the model's field order, and the conversions are worked out once.
"""

import functools

from django.db import connection


def columns(model, alias: str) -> str:
    """The model's columns as `instance` reads them, of the table aliased `alias` in the query."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def instance(model, sql: str, params: list):
    """The `model` in the first row of `sql` (which selects `columns(model, ...)`), or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, converters, expression in _converters(model, connection.vendor):
        for convert in converters:
            values[index] = convert(values[index], expression, connection)
    return model.from_db(connection.alias, None, values)


@functools.cache
def _converters(model, vendor: str) -> list:
    """(column index, converters, expression) where a value needs converting: SQLite's text
    datetimes and integer booleans, for example. Django's compiler asks the same two places."""
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        expression = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression)
        converters += field.get_db_converters(connection)
        if converters:
            found.append((index, converters, expression))
    return found
