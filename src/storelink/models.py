"""Every table, imported in one place for Alembic and the tests."""
from storelink.accounts.models import AuthSession, Customer, RefreshToken, Staff
from storelink.appointments.models import Appointment, ServiceType, SlotUsage, StoreService
from storelink.catalog.models import Product, Sku, StoreStock
from storelink.documents.models import TrustedDocument
from storelink.fulfilment.models import OrderRouting, Shipment, ShipmentLine
from storelink.loyalty.models import Coupon, CouponCampaign, PointsEntry
from storelink.marketing.models import (
    Activity, MarketingCampaign, MarketingMessage, MessageCredit, ReferralProgram, ReferralReward,
)
from storelink.members.models import (
    BindingChange, ConsentRecord, JoinCode, JoinScan, MemberCode, Membership, MiniProgramCode,
)
from storelink.orders.models import CartLine, Order, OrderLine, PaymentNotice, PurchaseFacts
from storelink.outbox.models import OutboxMessage
from storelink.returns.models import Refund, ReturnLine, ReturnRequest
from storelink.recommend.models import RecoModel, RecoNeighbour, RecoPopular, RecoShown
from storelink.stores.models import SpecialDay, Store
from storelink.throttle import Throttle
from storelink.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AuthSession", "Customer", "RefreshToken", "Staff", "Throttle",
    "BindingChange", "ConsentRecord", "JoinCode", "JoinScan", "MemberCode", "Membership",
    "Appointment", "OutboxMessage", "Product", "Sku", "StoreStock", "Coupon", "CouponCampaign",
    "PointsEntry", "CartLine", "Order", "OrderLine", "PaymentNotice", "PurchaseFacts", "RecoModel", "RecoNeighbour", "RecoPopular",
    "RecoShown", "ServiceType", "SlotUsage", "StoreService", "SpecialDay", "Store", "TrustedDocument",
    "MiniProgramCode", "WebhookDelivery", "WebhookEndpoint", "OrderRouting", "Shipment", "ShipmentLine",
    "Refund", "ReturnLine", "ReturnRequest", "MessageCredit", "Activity", "MarketingCampaign", "MarketingMessage",
    "ReferralProgram", "ReferralReward",
]
