"""Domain signals the host app may listen to (blinker).

Every signal is sent with the Flask app as sender, after the database
transaction that caused it has been committed, so a receiver always sees the
stored state::

    from hotel_community import signals

    @signals.member_checked_in.connect_via(app)
    def greet(app, member, stay, property):
        ...
"""
from blinker import Namespace

_signals = Namespace()

#: A member's stay became ``in_house``. Keyword arguments: ``member``,
#: ``stay``, ``property``.
member_checked_in = _signals.signal("member-checked-in")

#: A member's stay became ``checked_out`` (also when the check-out overtook a
#: check-in that then arrived too late). Keyword arguments: ``member``,
#: ``stay``, ``property``.
member_checked_out = _signals.signal("member-checked-out")

#: An in-house stay changed room. Keyword arguments: ``member``, ``stay``,
#: ``property``, ``old_room``, ``new_room``.
member_moved_room = _signals.signal("member-moved-room")

#: A stay left the house without a check-out (``cancelled``, ``no_show``, or a
#: reversed check-in back to ``expected``), or the member was taken off an
#: in-house stay's guest list (``status`` is then ``"removed"``). Keyword
#: arguments: ``member``, ``stay``, ``property``, ``status``.
member_stay_ended = _signals.signal("member-stay-ended")

#: An order was paid (online, charged to the room, or at the desk). Keyword
#: arguments: ``order``, ``property``.
order_paid = _signals.signal("order-paid")

#: A paid order was handed over (delivered, picked up, shipped). Keyword
#: arguments: ``order``, ``property``.
order_fulfilled = _signals.signal("order-fulfilled")

#: An order was cancelled (by staff, or its payment failed or expired) and its
#: stock released. Keyword arguments: ``order``, ``property``.
order_cancelled = _signals.signal("order-cancelled")

#: Money was given back on an order. Keyword arguments: ``order``,
#: ``property``, ``amount`` (minor units).
order_refunded = _signals.signal("order-refunded")
