"""GET /reports/store/{storeId}.csv?from=YYYY-MM-DD&to=YYYY-MM-DD: the store manager's spreadsheet.

The same figures as storeKpis and guideKpis: one row for the store, then one per guide of the
store. Bearer token of HQ or that store's manager. UTF-8 with a byte-order mark, so spreadsheet
programs show the Chinese names.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from storelink.accounts import service as accounts
from storelink.accounts.models import Staff, StaffRole
from storelink.accounts.tokens import InvalidToken
from storelink.errors import Code, DomainError
from storelink.graphql.relay import decode_id
from storelink.limits import MAX_DATE, MIN_DATE, date_in_range
from storelink.kpi import access, service
from storelink.members.models import JoinChannel

COLUMNS = [
    "scope", "name", "from", "to", "newMembers", *[f"newMembers{c.value}" for c in JoinChannel],
    "purchasingMembers", "repurchasingMembers", "repurchaseRate", "storeToOnlineMembers",
    "onlineToStoreMembers", "onlineGmvFen", "storeGmvFen", "appointmentsBooked", "appointmentsAttended",
    "joinScans", "scanJoins",
]
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "INVALID_INPUT": 400}


def _cell(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @, or a tab or return first) is kept as
    text with a leading apostrophe (OWASP, CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _row(scope: str, name: str, first: dt.date, last: dt.date, f: service.Figures) -> list:
    return [scope, _cell(name), first.isoformat(), last.isoformat(), f.new_members,
            *[f.new_members_by_channel.get(c.value, 0) for c in JoinChannel],
            f.purchasing_members, f.repurchasing_members, f"{f.repurchase_rate:.4f}", f.store_to_online_members,
            f.online_to_store_members, f.online_gmv_fen, f.store_gmv_fen, f.appointments_booked,
            f.appointments_attended, f.join_scans, f.scan_joins]


def _day(value: str | None, name: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        raise DomainError(f"`{name}` must be a date, YYYY-MM-DD", code=Code.INVALID_INPUT, field=[name]) from None
    if not date_in_range(day):
        raise DomainError(f"`{name}` must be between {MIN_DATE} and {MAX_DATE}", code=Code.INVALID_INPUT,
                          field=[name])
    return day


async def store_report_csv(request: Request) -> Response:
    name = request.path_params["name"]
    if not name.endswith(".csv"):
        return PlainTextResponse("not found", status_code=404)
    try:
        store_id = decode_id(name[:-4], "Store")  # the Store's global ID, as everywhere in the API
    except DomainError:
        return PlainTextResponse("not found", status_code=404)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    app = request.app.state
    try:
        first, last = _day(request.query_params.get("from"), "from"), _day(request.query_params.get("to"), "to")
        async with app.reader() as session:
            try:
                principal = await accounts.authenticate(session, token.strip(), settings=app.settings) \
                    if scheme.lower() == "bearer" and token.strip() else None
            except InvalidToken:
                principal = None
            if principal is None:
                raise DomainError("Please sign in", code=Code.UNAUTHENTICATED)
            if principal.staff is None:
                raise DomainError("Staff only", code=Code.FORBIDDEN)
            store = await access.store_for(session, principal.staff, store_id)
            days = service.period(first, last, store.timezone)
            store_figures = (await service.figures(session, scope="store", keys=[store.id], period=days))[store.id]
            guides = (await session.execute(
                select(Staff).where(Staff.store_id == store.id, Staff.role == StaffRole.GUIDE).order_by(Staff.id)
            )).scalars().all()
            guide_figures = await service.figures(session, scope="guide", keys=[g.id for g in guides], period=days)
    except DomainError as err:
        return PlainTextResponse(err.message, status_code=_STATUS.get(err.code, 400))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(_row("store", store.name, first, last, store_figures))
    for guide in guides:
        if guide.active or guide.id in guide_figures:
            writer.writerow(_row("guide", guide.name, first, last, guide_figures.get(guide.id, service.Figures())))
    filename = f"store-{store.code}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
