"""Who sees what: an officer their unit, a coordinator their cluster, an admin everything.

Every query over reports or units that answers a person goes through ``Scope``, so the rule
lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from storage.models import Person, Province, Report, Unit
from storage.senders import Sender


@dataclass(frozen=True)
class Scope:
    unit_id: int | None = None
    cluster_id: int | None = None
    everything: bool = False
    province_code: str | None = None  # narrows any of the above to one province

    @classmethod
    def of(cls, person: Person | Sender | None) -> Scope | None:
        if person is None or person.role is None:
            return None
        if person.role == "admin":
            return cls(everything=True)
        if person.role == "coordinator" and person.cluster_id is not None:
            return cls(cluster_id=person.cluster_id)
        if person.role == "officer" and person.unit_id is not None:
            return cls(unit_id=person.unit_id)
        return cls(unit_id=-1)  # a role without its unit or cluster sees nothing

    def as_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "cluster_id": self.cluster_id, "everything": self.everything,
                "province_code": self.province_code}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scope:
        return cls(unit_id=data.get("unit_id"), cluster_id=data.get("cluster_id"),
                   everything=bool(data.get("everything")), province_code=data.get("province_code"))

    @classmethod
    def cluster(cls, cluster_id: int) -> Scope:
        return cls(cluster_id=cluster_id)

    def narrowed(self, *, province_code: str | None = None, unit_id: int | None = None) -> Scope:
        """The same scope, further limited; the caller checks the unit or province lies inside it."""
        return Scope(unit_id=unit_id if unit_id is not None else self.unit_id, cluster_id=self.cluster_id,
                     everything=self.everything and unit_id is None,
                     province_code=province_code or self.province_code)

    def unit_ids(self) -> Select[Any]:
        query = select(Unit.id)
        if self.unit_id is not None:
            query = query.where(Unit.id == self.unit_id)
        if self.cluster_id is not None:
            query = query.join(Province, Province.code == Unit.province_code).where(
                Province.cluster_id == self.cluster_id)
        if self.province_code is not None:
            query = query.where(Unit.province_code == self.province_code)
        return query

    def reports(self, query: Select[Any]) -> Select[Any]:
        if self.everything and self.province_code is None:
            return query
        if self.unit_id is not None and self.cluster_id is None and self.province_code is None:
            return query.where(Report.unit_id == self.unit_id)
        return query.where(Report.unit_id.in_(self.unit_ids()))

    def units(self, query: Select[Any]) -> Select[Any]:
        if self.everything and self.province_code is None:
            return query
        return query.where(Unit.id.in_(self.unit_ids()))

    def contains_unit(self, unit: Unit) -> bool:
        if self.unit_id is not None and unit.id != self.unit_id:
            return False
        if self.cluster_id is not None and unit.province.cluster_id != self.cluster_id:
            return False
        if self.province_code is not None and unit.province_code != self.province_code:
            return False
        return self.everything or self.unit_id is not None or self.cluster_id is not None

    def contains(self, report: Report) -> bool:
        return self.contains_unit(report.unit)
