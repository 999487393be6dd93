"""Request bodies for the client and contact routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from franchise.clients.contacts import ContactFields


class ClientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    tier: str = "standard"
    endpoints: int = Field(default=0, ge=0)


class ClientUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: str | None = None
    endpoints: int | None = Field(default=None, ge=0)
    archived: bool | None = Field(default=None, description="true archives, false brings back")


class ContactBody(BaseModel):
    """A contact's fields; on update, a field left out keeps its value."""

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, description="'' clears it")
    phone: str | None = Field(default=None, max_length=64)
    mobile: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=100)
    primary: bool | None = None
    vip: bool | None = None
    approves_spend: bool | None = Field(
        default=None, description="authorised to approve spend on the client's behalf"
    )

    def fields(self) -> ContactFields:
        return ContactFields(**self.model_dump())
