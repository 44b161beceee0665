"""Sign-in, sessions, phone binding and staff accounts."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.accounts import service
from storelink.accounts.types import (
    AuthPayload, CreateStaffInput, Customer, CustomerPayload, Staff, StaffPayload, auth_fields,
)
from storelink.db import transaction
from storelink.flows import oneid, staffing
from storelink.graphql.errors import in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_optional_id


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def wechat_login(self, info: Info, code: str) -> AuthPayload:
        ctx = info.context

        async def work(session):
            issued = await service.wechat_login(
                session, wechat=ctx.wechat, code=code, settings=ctx.settings
            )
            return auth_fields(issued)

        return await in_transaction(info, AuthPayload, work)

    @strawberry.mutation
    async def staff_login(self, info: Info, username: str, password: str) -> AuthPayload:
        async def work(session):
            issued = await service.staff_login(
                session, username=username, password=password, settings=info.context.settings
            )
            return auth_fields(issued)

        return await in_transaction(info, AuthPayload, work)

    @strawberry.mutation
    async def refresh_session(self, info: Info, refresh_token: str) -> AuthPayload:
        async def work(session):
            issued = await service.refresh_session(
                session, refresh_token=refresh_token, settings=info.context.settings
            )
            return auth_fields(issued)

        return await in_transaction(info, AuthPayload, work)

    @strawberry.mutation(description="Ends the current session: its access and refresh tokens stop working.")
    async def logout(self, info: Info) -> bool:
        principal = await info.context.principal()
        if principal is None:
            return False
        return await transaction(info.context.sessionmaker,
                                 lambda session: service.logout(session, session_id=principal.session_id))

    @strawberry.mutation(description="Binds the phone from a WeChat getPhoneNumber code.")
    async def bind_phone(self, info: Info, code: str) -> CustomerPayload:
        async def work(session):
            me = await caller.customer(info)
            # A phone a till-only customer holds brings their membership and history along (OneID).
            row = await oneid.bind_phone(session, wechat=info.context.wechat, customer_id=me.id, code=code)
            return {"customer": Customer.from_model(row)}

        return await in_transaction(info, CustomerPayload, work)

    @strawberry.mutation(description=(
        "The signed-in customer's nickname (1-32 characters) and avatar (an https:// link); "
        "null leaves a field as it is."))
    async def update_profile(self, info: Info, nickname: str | None = None,
                             avatar_url: str | None = None) -> CustomerPayload:
        async def work(session):
            me = await caller.customer(info)
            row = await service.update_profile(session, customer_id=me.id, nickname=nickname, avatar_url=avatar_url)
            return {"customer": Customer.from_model(row)}

        return await in_transaction(info, CustomerPayload, work)

    @strawberry.mutation(description="HQ admin (any role), or a store manager (guides of their own store).")
    async def create_staff(self, info: Info, input: CreateStaffInput) -> StaffPayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await staffing.hire(
                session,
                actor=actor,
                username=input.username,
                password=input.password,
                name=input.name,
                role=input.role.value,
                store_id=decode_optional_id(input.store_id, "Store", ["input", "storeId"]),
            )
            return {"staff": Staff.from_model(row)}

        return await in_transaction(info, StaffPayload, work)
