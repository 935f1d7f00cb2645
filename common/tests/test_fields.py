"""common.fields.PlainIntegerField: an integer has one spelling. (StringField is tested where
it is used: the message text, the username and the password.)"""

import pytest
from rest_framework.exceptions import ValidationError

from common.fields import PlainIntegerField


@pytest.mark.parametrize(("data", "value"), [(7, 7), ("7", 7), ("-3", -3), ("0042", 42)])
def test_a_plain_integer_is_read(data, value):
    assert PlainIntegerField().to_internal_value(data) == value


# DRF's IntegerField reads all of these as integers ("1_0" as 10); one id has one spelling.
@pytest.mark.parametrize(
    "data", ["1.0", "+1", " 1", "1 ", "1_0", "\u0663", "\uff11", 1.0, True, "", "0x1"]
)
def test_any_other_spelling_is_refused(data):
    with pytest.raises(ValidationError, match="A valid integer is required"):
        PlainIntegerField().to_internal_value(data)
