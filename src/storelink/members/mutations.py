"""Joining, join codes, transfers, the checkout scanner, and the customer's privacy rights."""
from __future__ import annotations

import json

import strawberry

from storelink.accounts.types import Staff, StaffPayload
from storelink.api.context import Info
from storelink.flows import oneid, privacy, staffing
from storelink.graphql import caller
from storelink.graphql.errors import in_transaction
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.members import join_codes, joining, transfers
from storelink.members.types import (
    ConsentInput, ConsentPayload, CreateJoinCodeInput, DeletePayload, JoinCode, JoinCodePayload, JoinPayload,
    Membership, TillEnrollInput, TransferPayload,
)


def _consent(consent: ConsentInput) -> joining.Consent:
    return joining.Consent(consent.privacy_policy_version, consent.marketing)


@strawberry.type
class MemberMutations:
    @strawberry.mutation
    async def join_by_code(self, info: Info, code: str, consent: ConsentInput) -> JoinPayload:
        async def work(session):
            me = await caller.customer(info)
            membership, is_new = await joining.join_by_code(
                session, customer_id=me.id, code=code, consent=_consent(consent),
                settings=info.context.settings,
            )
            return {"membership": Membership.from_model(membership), "is_new_member": is_new}

        return await in_transaction(info, JoinPayload, work)

    @strawberry.mutation
    async def join_online(self, info: Info, consent: ConsentInput) -> JoinPayload:
        async def work(session):
            me = await caller.customer(info)
            membership, is_new = await joining.join_online(
                session, customer_id=me.id, consent=_consent(consent), settings=info.context.settings
            )
            return {"membership": Membership.from_model(membership), "is_new_member": is_new}

        return await in_transaction(info, JoinPayload, work)

    @strawberry.mutation(description="Customer: opt in to or out of marketing messages (beyond the contract).")
    async def set_marketing_consent(self, info: Info, granted: bool) -> ConsentPayload:
        async def work(session):
            me = await caller.customer(info)
            await joining.set_marketing_consent(session, customer_id=me.id, granted=granted)
            return {"marketing": await joining.marketing_consent(session, me.id)}

        return await in_transaction(info, ConsentPayload, work)

    @strawberry.mutation(description=(
        "Staff at a till: make a member from the phone a customer gives (channel TILL). A WeChat customer who "
        "binds that phone later takes over the membership with all its history."))
    async def enroll_at_till(self, info: Info, input: TillEnrollInput) -> JoinPayload:
        async def work(session):
            staff = await caller.staff(info)
            try:
                membership = await oneid.enroll_at_till(
                    session, staff=staff, store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                    phone=input.phone, consent=_consent(input.consent),
                    guide_id=decode_optional_id(input.guide_id, "Staff", ["input", "guideId"]),
                    settings=info.context.settings)
            except oneid.AlreadyMember as err:
                err.payload = {"membership": Membership.from_model(err.membership)}
                raise
            return {"membership": Membership.from_model(membership), "is_new_member": True}

        return await in_transaction(info, JoinPayload, work)

    @strawberry.mutation
    async def create_join_code(self, info: Info, input: CreateJoinCodeInput) -> JoinCodePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await join_codes.create_join_code(
                session, actor=actor,
                store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                guide_id=decode_optional_id(input.guide_id, "Staff", ["input", "guideId"]),
                campaign=input.campaign, expires_at=input.expires_at, max_uses=input.max_uses,
            )
            return {"join_code": JoinCode.from_model(row, info.context.settings.public_base_url)}

        return await in_transaction(info, JoinCodePayload, work)

    @strawberry.mutation
    async def revoke_join_code(self, info: Info, code: str) -> JoinCodePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await join_codes.revoke_join_code(session, actor=actor, code=code)
            return {"join_code": JoinCode.from_model(row, info.context.settings.public_base_url)}

        return await in_transaction(info, JoinCodePayload, work)

    @strawberry.mutation(description="Store manager or HQ: a guide leaves; their login and codes stop working (beyond the contract).")
    async def retire_guide(self, info: Info, id: strawberry.ID) -> StaffPayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await staffing.retire_guide(session, actor=actor, guide_id=decode_id(id, "Staff", ["id"]))
            return {"staff": Staff.from_model(row)}

        return await in_transaction(info, StaffPayload, work)

    @strawberry.mutation(description="Store manager: move a guide's bound members to another guide (e.g. when a guide leaves).")
    async def transfer_members(
        self, info: Info, from_guide_id: strawberry.ID, to_guide_id: strawberry.ID
    ) -> TransferPayload:
        async def work(session):
            actor = await caller.staff(info)
            moved, skipped = await transfers.transfer_members(
                session, actor=actor,
                from_guide_id=decode_id(from_guide_id, "Staff", ["fromGuideId"]),
                to_guide_id=decode_id(to_guide_id, "Staff", ["toGuideId"]),
            )
            return {"transferred": moved, "skipped": skipped}

        return await in_transaction(info, TransferPayload, work)

    @strawberry.mutation(description="All personal data held about the signed-in customer, as a JSON document.")
    async def export_my_data(self, info: Info) -> str:
        me = await caller.customer(info)
        async with info.context.reader() as session:
            data = await privacy.export_customer(session, me.id, info.context.settings)
        return json.dumps(data, ensure_ascii=False)

    @strawberry.mutation
    async def delete_my_account(self, info: Info) -> DeletePayload:
        async def work(session):
            me = await caller.customer(info)
            await privacy.delete_customer(session, me.id)
            return {"deleted": True}

        return await in_transaction(info, DeletePayload, work)
