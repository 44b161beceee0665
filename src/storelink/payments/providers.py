"""The configured payment providers: WeChat Pay when configured, else the sandbox (API-NOTES)."""
from __future__ import annotations

import aiohttp

from storelink.payments.base import PaymentProvider
from storelink.payments.sandbox import SandboxProvider
from storelink.settings import Settings


class Payments:
    def __init__(self, providers: dict[str, PaymentProvider], default: str | None):
        self.providers = providers
        self.default = default

    def for_checkout(self) -> PaymentProvider | None:
        return self.providers.get(self.default) if self.default else None

    def named(self, name: str) -> PaymentProvider | None:
        return self.providers.get(name)


def build(settings: Settings, http: aiohttp.ClientSession) -> Payments:
    providers: dict[str, PaymentProvider] = {}
    if settings.payment_sandbox_secret:
        providers["sandbox"] = SandboxProvider(settings.payment_sandbox_secret)
    if settings.wechatpay_configured:
        from storelink.payments import wechatpay

        assert settings.wechatpay_private_key_file and settings.wechatpay_platform_public_key_file  # "configured"

        providers["wechatpay"] = wechatpay.WeChatPayProvider(
            http, appid=settings.wechat_appid or "", mchid=settings.wechatpay_mchid or "",
            serial=settings.wechatpay_cert_serial or "",
            private_key=wechatpay.load_private_key(settings.wechatpay_private_key_file),
            platform_key=wechatpay.load_public_key(settings.wechatpay_platform_public_key_file),
            apiv3_key=settings.wechatpay_apiv3_key or "",
            notify_url=settings.wechatpay_notify_url
            or settings.public_base_url.rstrip("/") + "/webhooks/payments/wechatpay",
            api_base=settings.wechatpay_api_base,
        )
    default = "wechatpay" if "wechatpay" in providers else "sandbox" if "sandbox" in providers else None
    return Payments(providers, default)
