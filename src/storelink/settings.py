"""Settings read from the environment; the names are part of the public interface (API-NOTES)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets that show up in tutorials and .env examples; refusing them catches copy-paste deploys.
_WEAK_SECRETS = {"changeme", "secret", "changethis", "jwt-secret", "your-secret-key"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str | None = None
    storelink_data_dir: Path = Path("./.storelink")
    # Without DATABASE_URL the embedded PostgreSQL (in the data dir) is used only when asked for:
    # this, DEBUG or `serve --demo`. A container would otherwise keep its data in a layer it loses.
    storelink_embedded_db: bool = False
    jwt_secret: str = ""  # required outside DEBUG (checked below); DEBUG derives one
    debug: bool = False
    public_base_url: str = "http://localhost:8000"

    wechat_appid: str | None = None
    wechat_secret: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_timeout_seconds: float = 5.0
    # The mini-program page a join code's mini-program code opens (its `scene` is the join code),
    # and which version of the mini-program: release, trial or develop.
    mini_program_join_page: str = "pages/join/index"
    mini_program_env: str = Field(default="release", pattern="^(release|trial|develop)$")

    payment_sandbox_secret: str | None = None
    member_code_ttl_seconds: int = Field(default=60, ge=5, le=60)
    binding_protection_days: int = Field(default=30, ge=0)

    # The privacy policy a customer must have accepted to join (ConsentInput.privacyPolicyVersion).
    privacy_policy_version: str = "2026-01"
    # Where the mini-program links to the policy's text (Query.privacyPolicy.url); none by default.
    privacy_policy_url: str | None = None

    # Production for a mini-program: run only the operations `storelink trust-documents` loaded
    # from the apps' build manifests (storelink/documents/service.py).
    trusted_documents_only: bool = False

    # `serve --demo`: besides DEBUG, what opens POST /demo/pay/{orderNo} (a sandbox payment).
    demo: bool = False

    # Online orders not paid within this many minutes are cancelled and release what they held.
    order_payment_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Delivery fees (fen) and promised times (API-NOTES "Fulfilment and returns"): parcel delivery
    # from the warehouse or a store; same-city delivery from a nearby open store (a fixed
    # preparation time, then the courier at about 20 km/h).
    delivery_fee_fen: int = Field(default=0, ge=0, le=100_000)
    delivery_eta_minutes: int = Field(default=48 * 60, ge=1)
    same_city_fee_fen: int = Field(default=1500, ge=0, le=100_000)
    same_city_prep_minutes: int = Field(default=45, ge=0)
    # Days to return after delivery, pickup or a store sale (七天无理由退货).
    return_days: int = Field(default=7, ge=0, le=365)
    # Tiers by paid spend in the last 12 months (fen): 2,000 / 8,000 / 20,000 yuan.
    tier_silver_fen: int = 200_000
    tier_gold_fen: int = 800_000
    tier_platinum_fen: int = 2_000_000

    # Member segments (kpi.segments): "new" for this many days after joining; "active" window.
    segment_new_days: int = Field(default=30, ge=1)
    segment_active_days: int = Field(default=90, ge=1)
    member_tags_max: int = Field(default=6, ge=0, le=20)

    # The worker retrains the recommender when its model is older than this (0: never).
    recommender_retrain_hours: float = Field(default=24.0, ge=0)
    # Trainings and the evaluation read the paid orders of this many days; fewer than
    # RECOMMENDER_MIN_ORDERS of them is refused loudly (the previous model stays).
    recommender_window_days: int = Field(default=365, ge=7, le=3660)
    recommender_min_orders: int = Field(default=50, ge=1)

    # WeChat Pay v3 (JSAPI). Configured when the merchant id, key files, serial and APIv3 key are set.
    wechatpay_mchid: str | None = None
    wechatpay_api_base: str = "https://api.mch.weixin.qq.com"
    wechatpay_cert_serial: str | None = None
    wechatpay_private_key_file: Path | None = None
    wechatpay_platform_public_key_file: Path | None = None
    wechatpay_apiv3_key: str | None = None
    # Where WeChat Pay posts notifications; default {PUBLIC_BASE_URL}/webhooks/payments/wechatpay.
    wechatpay_notify_url: str | None = None

    # The brand's own timezone: imported times without an offset are read in it; quiet hours of
    # members with no store use it.
    brand_timezone: str = "Asia/Shanghai"

    # Marketing messages (API-NOTES "Marketing"): at most this many per member in any 7 days,
    # across all campaigns and guides; none sent in the quiet hours (HH:MM-HH:MM, local time).
    marketing_max_per_week: int = 2
    marketing_quiet_hours: str = "21:00-09:00"

    # Phone numbers at rest (phone_cipher): the current key, and earlier ones until rotate-phone-key.
    phone_encryption_key: str | None = None
    phone_encryption_old_keys: str = ""

    # When set, /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: str | None = None

    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_days: int = 30
    # Failed staff logins per username before RATE_LIMITED, and the window they are counted in.
    login_max_failures: int = 5
    login_lockout_seconds: int = 15 * 60

    @field_validator("marketing_quiet_hours")
    @classmethod
    def _quiet_hours_well_formed(cls, value: str) -> str:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]", value):
            raise ValueError("MARKETING_QUIET_HOURS is HH:MM-HH:MM, e.g. 21:00-09:00")
        return value

    @field_validator("brand_timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, available_timezones

        if name not in available_timezones():
            raise ValueError(f"BRAND_TIMEZONE {name!r} is not an IANA timezone (e.g. Asia/Shanghai)")
        ZoneInfo(name)
        return name

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> "Settings":
        for key in ([self.phone_encryption_key] if self.phone_encryption_key else []) + self.old_phone_keys:
            if len(key.encode()) < 32:
                raise ValueError("phone encryption keys must be at least 32 bytes")
        if self.debug:
            if not self.jwt_secret:
                self.jwt_secret = _debug_secret(self.storelink_data_dir)
            return self  # phone_cipher falls back to its fixed development key
        secret = self.jwt_secret or ""
        if len(secret.encode()) < 32 or secret.lower() in _WEAK_SECRETS:
            raise ValueError(
                "JWT_SECRET must be set to at least 32 random bytes (or set DEBUG=1 for development)"
            )
        if not self.phone_encryption_key:
            raise ValueError(
                "PHONE_ENCRYPTION_KEY must be set to at least 32 random bytes (or set DEBUG=1 for development)")
        return self

    @property
    def old_phone_keys(self) -> list[str]:
        return [key.strip() for key in self.phone_encryption_old_keys.split(",") if key.strip()]

    @property
    def wechatpay_configured(self) -> bool:
        return bool(self.wechatpay_mchid and self.wechatpay_cert_serial and self.wechatpay_private_key_file
                    and self.wechatpay_platform_public_key_file and self.wechatpay_apiv3_key)

    @property
    def wechat_configured(self) -> bool:
        return bool(self.wechat_appid and self.wechat_secret)


def _debug_secret(data_dir: Path) -> str:
    """DEBUG without JWT_SECRET: a random key kept in the data directory (owner-only), so every
    worker process of one development server signs alike and tokens outlive a restart."""
    import os
    import secrets

    path = data_dir / "debug-jwt-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    for _ in range(100):  # another worker may have created it an instant ago, still empty
        secret = path.read_text().strip()
        if secret:
            return secret
        import time

        time.sleep(0.01)
    raise ValueError(f"{path} is empty; delete it to make a new development key")


@lru_cache
def get_settings() -> Settings:
    return Settings()
