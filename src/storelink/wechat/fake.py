"""A small fake of the WeChat server APIs, served on 127.0.0.1 for tests and `serve --demo`.

It behaves like WeChat where the backend can tell: login codes map to stable openids, phone codes
are single-use, access tokens expire, and failures can be injected per code.
Codes starting with "bad" get errcode 40029 (invalid code); codes starting with "slow" hang past
any sane client timeout; codes starting with "busy" get errcode -1 (system busy).
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
import socket
import threading
import time

import qrcode
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class FakeWeChat:
    def __init__(self, appid: str = "wx-fake-appid", secret: str = "fake-secret"):
        self.appid = appid
        self.secret = secret
        self.reset()
        self.app = Starlette(
            routes=[
                Route("/sns/jscode2session", self.jscode2session),
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/wxa/business/getuserphonenumber", self.phone_number, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self.subscribe_send, methods=["POST"]),
                Route("/wxa/getwxacodeunlimit", self.unlimited_code, methods=["POST"]),
                Route("/v3/pay/transactions/jsapi", self.pay_jsapi, methods=["POST"]),
                Route("/v3/refund/domestic/refunds", self.pay_refund, methods=["POST"]),
            ]
        )
        # WeChat Pay, when a test sets it up (see wechat.fakepay).
        self.pay = None

    def reset(self) -> None:
        self.tokens: dict[str, float] = {}
        self.used_phone_codes: set[str] = set()
        self.sent_messages: list[dict] = []
        self.calls: dict[str, int] = {}
        self.failing_sends = 0  # the next N subscribe messages fail with "system busy"
        self.failing_codes = 0  # the next N mini-program codes fail with "system busy"
        self.refusing: set[str] = set()  # openids whose subscribe messages WeChat refuses (43101)

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    @staticmethod
    async def _injected_failure(code: str) -> JSONResponse | None:
        if code.startswith("slow"):
            await asyncio.sleep(30)
        if code.startswith("busy"):
            return JSONResponse({"errcode": -1, "errmsg": "system error"})
        if code.startswith("bad"):
            return JSONResponse({"errcode": 40029, "errmsg": "invalid code"})
        return None

    @staticmethod
    def openid_for(code: str) -> str:
        """The openid a login code maps to: 'wx-<name>' codes give the same user every time."""
        return "o" + hashlib.sha256(code.encode()).hexdigest()[:27]

    async def jscode2session(self, request: Request) -> JSONResponse:
        self._count("jscode2session")
        q = request.query_params
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        code = q.get("js_code", "")
        if failure := await self._injected_failure(code):
            return failure
        openid = self.openid_for(code)
        return JSONResponse(
            {"openid": openid, "session_key": secrets.token_urlsafe(16), "unionid": "u" + openid[1:]}
        )

    async def stable_token(self, request: Request) -> JSONResponse:
        self._count("stable_token")
        body = await request.json()
        if body.get("appid") != self.appid or body.get("secret") != self.secret:
            return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
        await asyncio.sleep(0.05)  # a real round trip; lets tests see overlapping refreshes
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + 7200
        return JSONResponse({"access_token": token, "expires_in": 7200})

    def _token_ok(self, request: Request) -> bool:
        return self.tokens.get(request.query_params.get("access_token", ""), 0) > time.time()

    async def phone_number(self, request: Request) -> JSONResponse:
        self._count("getuserphonenumber")
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        code = (await request.json()).get("code", "")
        if failure := await self._injected_failure(code):
            return failure
        if code in self.used_phone_codes:
            return JSONResponse({"errcode": 40029, "errmsg": "invalid code"})
        self.used_phone_codes.add(code)
        # "phone-13812345678" (or "phone-13812345678-anything", a fresh code for the same number)
        # binds that number; any other code gets a number derived from it.
        digits = code.split("-")[1] if code.startswith("phone-") else None
        if not (digits and digits.isdigit() and len(digits) == 11):
            digits = "139" + str(int(hashlib.sha256(code.encode()).hexdigest(), 16))[:8]
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": digits,
                    "purePhoneNumber": digits,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                },
            }
        )

    async def pay_jsapi(self, request: Request):
        if self.pay is None:
            return JSONResponse({"code": "NOT_CONFIGURED", "message": "no fake WeChat Pay"}, status_code=404)
        return await self.pay.jsapi(request)

    async def pay_refund(self, request: Request):
        if self.pay is None:
            return JSONResponse({"code": "NOT_CONFIGURED", "message": "no fake WeChat Pay"}, status_code=404)
        return await self.pay.refund(request)

    async def subscribe_send(self, request: Request) -> JSONResponse:
        self._count("subscribe_send")
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        if self.failing_sends > 0:
            self.failing_sends -= 1
            return JSONResponse({"errcode": -1, "errmsg": "system error"})
        body = await request.json()
        if body.get("touser") in self.refusing:
            return JSONResponse({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        self.sent_messages.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


    async def unlimited_code(self, request: Request) -> Response:
        """Like WeChat: a PNG on success (here a QR of "scene|page", so a test can read what was
        asked), JSON with an errcode on failure."""
        self._count("getwxacodeunlimit")
        if not self._token_ok(request):
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        if self.failing_codes > 0:
            self.failing_codes -= 1
            return JSONResponse({"errcode": -1, "errmsg": "system error"})
        body = await request.json()
        scene, page = body.get("scene", ""), body.get("page", "")
        if not 0 < len(scene) <= 32:
            return JSONResponse({"errcode": 40169, "errmsg": "invalid length for scene"})
        image = qrcode.make(f"{scene}|{page}")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return Response(buffer.getvalue(), media_type="image/png")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeWeChatServer:
    """Runs a FakeWeChat on 127.0.0.1 in a background thread (its own event loop)."""

    def __init__(self, fake: FakeWeChat | None = None, port: int | None = None):
        self.fake = fake or FakeWeChat()
        self.port = port or free_port()
        self._server = uvicorn.Server(
            # No log_level, log_config or access_log: uvicorn would set them on its process-wide
            # loggers and silence the real server's startup line and access log (serve --demo
            # runs both). Its lines go through the same redacting handler.
            uvicorn.Config(self.fake.app, host="127.0.0.1", port=self.port, log_level=None, log_config=None,
                           lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="fake-wechat")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeWeChatServer":
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("fake WeChat server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


def fake_app():
    """ASGI factory for `uvicorn --factory storelink.wechat.fake:fake_app` (benchmarks)."""
    return FakeWeChat().app
