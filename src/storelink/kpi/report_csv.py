"""GET /reports/store/{storeId}.csv?from=YYYY-MM-DD&to=YYYY-MM-DD: the store manager's spreadsheet.

The same figures as storeKpis and guideKpis: one row for the store, then one per guide of the
store. Bearer token of HQ or that store's manager. UTF-8 with a byte-order mark, so spreadsheet
programs show the Chinese names. Headers and scopes are Chinese unless Accept-Language prefers
English (the English headers are the GraphQL field names, for scripts).
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from storelink import i18n
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
# The spreadsheet in Chinese unless the caller prefers English (Accept-Language).
_CHANNELS_ZH = {"STORE_QR": "门店码", "GUIDE_QR": "导购码", "CAMPAIGN_QR": "活动码", "ONLINE": "线上",
                "TILL": "收银台", "IMPORTED": "导入", "REFERRAL": "好友邀请"}
COLUMNS_ZH = [
    "范围", "名称", "开始日期", "结束日期", "新会员", *[f"新会员（{_CHANNELS_ZH[c.value]}）" for c in JoinChannel],
    "消费会员", "复购会员", "复购率", "店转线上会员", "线上转店会员", "线上销售额（分）", "门店销售额（分）",
    "预约数", "到店数", "入会码扫码数", "扫码入会数",
]
_SCOPES = {"zh": {"store": "门店", "guide": "导购"}, "en": {"store": "store", "guide": "guide"}}
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
        raise DomainError("Give `{name}` as a date, YYYY-MM-DD", name=name, code=Code.INVALID_INPUT, field=[name]) from None
    if not date_in_range(day):
        raise DomainError("`{name}` must be between {first} and {last}", name=name, first=MIN_DATE, last=MAX_DATE,
                          code=Code.INVALID_INPUT,
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
        lang = i18n.negotiate(request.headers.get("accept-language"))
        return PlainTextResponse(i18n.say(err.template, err.values, lang), status_code=_STATUS.get(err.code, 400))
    out = io.StringIO()
    writer = csv.writer(out)
    lang = i18n.negotiate(request.headers.get("accept-language"))
    scopes = _SCOPES[lang]
    writer.writerow(COLUMNS_ZH if lang == "zh" else COLUMNS)
    writer.writerow(_row(scopes["store"], store.name, first, last, store_figures))
    for guide in guides:
        if guide.active or guide.id in guide_figures:
            writer.writerow(_row(scopes["guide"], guide.name, first, last,
                                 guide_figures.get(guide.id, service.Figures())))
    filename = f"store-{store.code}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
