"""Client for the WeChat server APIs the backend calls (shapes as in API-NOTES)."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import aiohttp

log = logging.getLogger(__name__)

# Refresh the access token this long before WeChat says it expires.
_TOKEN_MARGIN_SECONDS = 300


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(Exception):
    """WeChat could not be reached, timed out or answered garbage; worth retrying later."""


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    unionid: str | None
    session_key: str


@dataclass(frozen=True)
class PhoneInfo:
    phone: str  # purePhoneNumber: without country code
    country_code: str


class WeChatClient:
    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, appid: str, secret: str):
        self._http = http
        self._base = base_url.rstrip("/")
        self._appid = appid
        self._secret = secret
        self._token: str | None = None
        self._token_expires = 0.0
        # One refresher at a time: concurrent callers wait for the refresh in progress.
        self._token_lock = asyncio.Lock()

    async def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            async with self._http.request(method, self._base + path, **kwargs) as resp:
                data = await resp.json(content_type=None)  # WeChat often says text/plain
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise WeChatUnavailable(f"{path}: unexpected response")
        errcode = data.get("errcode", 0)
        if errcode:
            if errcode == -1:  # "system busy": WeChat's own advice is to retry
                raise WeChatUnavailable(f"{path}: system busy")
            raise WeChatError(errcode, str(data.get("errmsg", "")))
        return data

    async def code2session(self, js_code: str) -> WeChatSession:
        data = await self._call(
            "GET",
            "/sns/jscode2session",
            params={
                "appid": self._appid,
                "secret": self._secret,
                "js_code": js_code,
                "grant_type": "authorization_code",
            },
        )
        if not data.get("openid"):
            raise WeChatUnavailable("jscode2session: no openid")
        return WeChatSession(
            openid=data["openid"], unionid=data.get("unionid"), session_key=data.get("session_key", "")
        )

    async def access_token(self) -> str:
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        async with self._token_lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token  # another caller refreshed it while we waited
            data = await self._call(
                "POST",
                "/cgi-bin/stable_token",
                json={"grant_type": "client_credential", "appid": self._appid, "secret": self._secret},
            )
            self._token = data["access_token"]
            lifetime = int(data.get("expires_in", 7200))
            self._token_expires = time.monotonic() + max(lifetime - _TOKEN_MARGIN_SECONDS, 1)
            return self._token

    async def _call_with_token(self, path: str, body: dict, *, call=None):
        call = call or self._call
        token = await self.access_token()
        try:
            return await call("POST", path, params={"access_token": token}, json=body)
        except WeChatError as exc:
            if exc.errcode not in (40001, 42001):  # token invalid / expired: refresh once
                raise
            self._token = None
            token = await self.access_token()
            return await call("POST", path, params={"access_token": token}, json=body)

    async def _call_for_image(self, method: str, path: str, **kwargs) -> bytes:
        """An API that answers an image on success and JSON (errcode) on failure."""
        try:
            async with self._http.request(method, self._base + path, **kwargs) as resp:
                body = await resp.read()
                kind = resp.headers.get("content-type", "")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if resp.status == 200 and kind.startswith("image/") and body:
            return body
        try:
            data = json.loads(body)
        except ValueError:
            raise WeChatUnavailable(f"{path}: unexpected response") from None
        errcode = data.get("errcode", 0) if isinstance(data, dict) else 0
        if errcode and errcode != -1:
            raise WeChatError(errcode, str(data.get("errmsg", "")))
        raise WeChatUnavailable(f"{path}: no image")

    async def unlimited_code(self, *, scene: str, page: str, env_version: str = "release") -> bytes:
        """A mini-program code (PNG, transparent) opening `page` with `scene` (at most 32 characters)."""
        return await self._call_with_token(
            "/wxa/getwxacodeunlimit",
            {"scene": scene, "page": page, "check_path": False, "env_version": env_version, "width": 430,
             "is_hyaline": True},
            call=self._call_for_image,
        )

    async def get_phone_number(self, code: str) -> PhoneInfo:
        data = await self._call_with_token("/wxa/business/getuserphonenumber", {"code": code})
        info = data.get("phone_info") or {}
        if not info.get("purePhoneNumber"):
            raise WeChatUnavailable("getuserphonenumber: no phone_info")
        return PhoneInfo(phone=info["purePhoneNumber"], country_code=str(info.get("countryCode", "86")))

    async def send_subscribe_message(
        self, *, touser: str, template_id: str, page: str, data: dict
    ) -> None:
        await self._call_with_token(
            "/cgi-bin/message/subscribe/send",
            {"touser": touser, "template_id": template_id, "page": page, "data": data},
        )
