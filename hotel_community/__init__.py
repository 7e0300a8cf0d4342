"""hotel-community: a Flask extension that turns a hotel's guests into a community."""
from hotel_community.extension import HotelCommunity
from hotel_community.hookspecs import hookimpl

__all__ = ["HotelCommunity", "hookimpl"]
__version__ = "0.1.0"
