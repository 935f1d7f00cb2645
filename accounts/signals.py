"""Signals that accounts sends, so that other apps can react to a change here without accounts
knowing them (dependencies point one way: chat imports accounts, never the reverse).

`presence_visibility_changed`: a user's `Profile.show_presence` changed, and the change has
committed. Keyword arguments: `user_id` (int) and `show_presence` (the new value). chat connects
to it (`ChatConfig.ready`) to tell the user's partners: hiding presence announces them offline,
showing it announces what they are now.

`block_changed`: a block between two users began or ended, and that has committed. Keyword
arguments: `user_ids` (the two ids). chat tells each of the two what they may now see of the
other's presence (nothing while a block stands).
"""

from django.dispatch import Signal

presence_visibility_changed = Signal()
block_changed = Signal()
