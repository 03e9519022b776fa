from __future__ import annotations

from pydantic import BaseModel, Field


class Item(BaseModel):
    name: str = Field(min_length=1)
    quantity: int = Field(ge=0)
