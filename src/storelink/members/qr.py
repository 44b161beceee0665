"""GET /qr/{code}.png and .svg: the printable QR of a live join code."""
from __future__ import annotations

import hashlib
import io

import anyio.to_thread
import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response

from storelink.scanning.codes import could_be_join_code, normal_join_code
from storelink.members.models import JoinCode

# 16 px modules: a version-3 code prints at about 8 cm at 300 dpi, legible from a counter.
BOX_SIZE = 16
BORDER = 4
# Short, so a revoked code's poster image stops being served within minutes.
CACHE_CONTROL = "public, max-age=300"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


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


async def qr_image(request: Request) -> Response:
    name = request.path_params["name"]
    code, _, fmt = name.rpartition(".")
    code = normal_join_code(code)
    if fmt not in MEDIA_TYPES or not could_be_join_code(code):
        return Response(status_code=404)
    async with request.app.state.reader() as session:
        live = (
            await session.execute(
                select(JoinCode.code).where(
                    JoinCode.code == code, JoinCode.active,
                    or_(JoinCode.expires_at.is_(None), JoinCode.expires_at > func.now()),
                )
            )
        ).scalar_one_or_none()
    if live is None:
        return Response(status_code=404)
    url = f"{request.app.state.settings.public_base_url.rstrip('/')}/j/{live}"
    etag = '"' + hashlib.sha256(f"{url}|{fmt}|{BOX_SIZE}".encode()).hexdigest()[:16] + '"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    body = await anyio.to_thread.run_sync(render, url, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)
