"""Tables of the extension, one module per area."""
from hotel_community.models.stays import (
    Group, GroupKind, GuestIdentity, Member, Membership, Property, Stay, StayGuest, StayStatus,
)
from hotel_community.models.pms import ApiKey, PmsEvent
from hotel_community.models.staff import StaffUser

__all__ = [
    "ApiKey", "Group", "GroupKind", "GuestIdentity", "Member", "Membership", "PmsEvent",
    "Property", "StaffUser", "Stay", "StayGuest", "StayStatus",
]
