"""Tables of the extension, one module per area."""
from hotel_community.models.stays import (
    Group, GroupKind, GuestIdentity, Member, Membership, Property, Stay, StayGuest, StayStatus,
)
from hotel_community.models.community import (
    Block, Connection, ConnectionStatus, Interest, MemberInterest, Post, PostKind, Profile,
    Reaction, Report,
)
from hotel_community.models.pms import (
    ApiKey, PmsEvent, PmsLink, PmsNotification, PmsNotificationStatus,
)
from hotel_community.models.shop import Placement, Product, ProductPhoto
from hotel_community.models.orders import (
    Order, OrderEvent, OrderStatus, RoomCharge, RoomChargeStatus,
)
from hotel_community.models.events import (
    Event, EventAudience, EventOccurrence, Notification, Ticket, TicketStatus,
)
from hotel_community.models.campaigns import (
    Campaign, CampaignEligibility, CampaignStatus, CampaignUpdate, Pledge, PledgeStatus,
    RewardTier,
)
from hotel_community.models.staff import StaffUser

__all__ = [
    "ApiKey", "Block", "Campaign", "CampaignEligibility", "CampaignStatus", "CampaignUpdate",
    "Connection", "ConnectionStatus", "Event", "EventAudience",
    "EventOccurrence", "Group", "GroupKind", "GuestIdentity",
    "Interest", "Member", "MemberInterest", "Membership", "Order", "OrderEvent", "OrderStatus",
    "Placement", "PmsEvent", "PmsLink", "PmsNotification", "PmsNotificationStatus", "Post", "PostKind", "Product", "ProductPhoto", "Profile", "Property",
    "Notification", "Pledge", "PledgeStatus", "Reaction", "RewardTier", "Report", "RoomCharge",
    "RoomChargeStatus",
    "StaffUser", "Stay", "StayGuest", "StayStatus", "Ticket", "TicketStatus",
]
