"""GET /qr/{code}.png and .svg: the printable QR of a live join code or a member's invite code;
/qr/{code}.wxa.png: a join code's WeChat mini-program code."""
from __future__ import annotations

import hashlib
import io
import logging

import anyio.to_thread
import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from starlette.requests import Request
from starlette.responses import Response

from storelink.clock import utcnow
from storelink.accounts.models import Customer
from storelink.members.models import JoinCode, Membership, MiniProgramCode
from storelink.scanning.codes import REFERRAL_PREFIX, could_be_join_code, normal_join_code, referral_member
from storelink.wechat.client import WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

# 16 px modules: a version-3 code prints at about 8 cm at 300 dpi, legible from a counter.
BOX_SIZE = 16
BORDER = 4
# Short, so a revoked code's poster image stops being served within minutes.
CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
MINI_PROGRAM_SUFFIX = ".wxa.png"
_DRAWN_BY_WECHAT = {"Cache-Control": CACHE_CONTROL, "X-Code-Kind": "mini-program"}


def render(url: str, fmt: str) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    if fmt == "svg":
        qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    else:
        qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


async def _live(request: Request, code: str) -> tuple[int, str] | None:
    """(id, code) of the live join code, or None (unknown, revoked, expired)."""
    async with request.app.state.reader() as session:
        row = (await session.execute(
            select(JoinCode.id, JoinCode.code).where(
                JoinCode.code == code, JoinCode.active,
                or_(JoinCode.expires_at.is_(None), JoinCode.expires_at > func.now()),
            )
        )).first()
    return (row.id, row.code) if row else None


async def _live_invite(request: Request, code: str) -> tuple[int, str] | None:
    """(membership id, code) of a member's invite code, or None (forged, or the member is gone)."""
    membership_id = referral_member(code, request.app.state.settings.jwt_secret)
    if membership_id is None:
        return None
    async with request.app.state.reader() as session:
        row = (await session.execute(
            select(Membership.id).join(Customer, Customer.id == Membership.customer_id)
            .where(Membership.id == membership_id, Customer.deleted_at.is_(None)))).first()
    return (membership_id, code) if row else None


def _url(request: Request, code: str) -> str:
    return f"{request.app.state.settings.public_base_url.rstrip('/')}/j/{code}"


async def qr_image(request: Request) -> Response:
    name = request.path_params["name"]
    if name.endswith(MINI_PROGRAM_SUFFIX):
        return await _mini_program_code(request, normal_join_code(name.removesuffix(MINI_PROGRAM_SUFFIX)))
    code, _, fmt = name.rpartition(".")
    code = normal_join_code(code)
    if fmt not in MEDIA_TYPES or not could_be_join_code(code):
        return Response(status_code=404)
    live = await _live_invite(request, code) if code.startswith(REFERRAL_PREFIX) else await _live(request, code)
    if live is None:
        return Response(status_code=404)
    url = _url(request, live[1])
    etag = '"' + hashlib.sha256(f"{url}|{fmt}|{BOX_SIZE}".encode()).hexdigest()[:16] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = await anyio.to_thread.run_sync(render, url, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


async def _mini_program_code(request: Request, code: str) -> Response:
    """GET /qr/{code}.wxa.png: the WeChat mini-program code of a live join code (its scene is the
    code), drawn by WeChat once and kept; the plain-URL QR while WeChat cannot draw it."""
    if not could_be_join_code(code):
        return Response(status_code=404)
    live = await _live(request, code)
    if live is None:
        return Response(status_code=404)
    join_code_id, code = live
    state = request.app.state
    page = state.settings.mini_program_join_page
    async with state.reader() as session:
        kept = (await session.execute(select(MiniProgramCode.image).where(
            MiniProgramCode.join_code_id == join_code_id, MiniProgramCode.page == page))).scalar_one_or_none()
    if kept is not None:
        return Response(kept, media_type="image/png", headers=_DRAWN_BY_WECHAT)
    try:
        image = await state.wechat.unlimited_code(scene=code, page=page, env_version=state.settings.mini_program_env)
    except (WeChatError, WeChatUnavailable) as exc:
        # The code itself is never logged: it is live on a poster.
        log.warning("WeChat drew no mini-program code (%s); serving the plain-URL QR instead", type(exc).__name__)
        body = await anyio.to_thread.run_sync(render, _url(request, code), "png")
        return Response(body, media_type="image/png", headers={"Cache-Control": "no-store", "X-Code-Kind": "url-qr"})
    async with state.sessionmaker() as session:
        await session.execute(
            insert(MiniProgramCode).values(join_code_id=join_code_id, page=page, image=image, created_at=utcnow())
            .on_conflict_do_update(index_elements=[MiniProgramCode.join_code_id],
                                   set_={"page": page, "image": image, "created_at": utcnow()}))
        await session.commit()
    return Response(image, media_type="image/png", headers=_DRAWN_BY_WECHAT)
