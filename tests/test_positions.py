"""A shared GPS position: named after the nearest unit of the registry within a few kilometres, with an
OpenStreetMap link, on the review card, the report's card and in the spreadsheet."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import update

from handlers.core import Core
from handlers.events import Attachment
from storage.db import Database
from storage.models import Unit
from storage.places import distance_km
from tests.conftest import Clock
from tests.reporting import person
from tests.test_report_console import all_reports, officer
from tests.test_report_kinds import COMMON, option_number, walk

POST = (22.5061, 103.9670)  # where the registry puts Đồn Biên phòng CKQT Lào Cai, for this test
NEARBY = (22.5150, 103.9700)  # about a kilometre north
FAR = (21.9, 102.7)


async def test_a_shared_position_is_named_and_linked_to_a_map(core: Core, db: Database, clock: Clock) -> None:
    async with db.unit_of_work() as uow:
        await uow.session.execute(update(Unit).where(Unit.code == "LCA-DBP-CKQT-LAO-CAI")
                                  .values(latitude=POST[0], longitude=POST[1]))
        await uow.commit()
    assert 0.9 < distance_km(*POST, *NEARBY) < 1.1
    me = await officer(core, db, clock)
    said = await me.send("/report")
    said = await me.send(option_number(said, "Exchange"))
    said = await walk(me, {**COMMON, "What kind of exchange?": "Sport"}, said, until="Where exactly?")
    said = await me.send(attachment=Attachment("location", latitude=FAR[0], longitude=FAR[1]))
    # Nothing of the registry within a few kilometres: the position itself, and the map.
    assert ("Location: 21.90000, 102.70000 · "
            "https://www.openstreetmap.org/?mlat=21.90000&mlon=102.70000#map=16/21.90000/102.70000") in said
    said = await me.send(option_number(said, "Fix"))
    said = await me.send(option_number(said, "Location"))
    said = await me.send(attachment=Attachment("location", latitude=NEARBY[0], longitude=NEARBY[1]))
    assert ("Location: near Đồn Biên phòng CKQT Lào Cai (1 km) · "
            "https://www.openstreetmap.org/?mlat=22.51500&mlon=103.97000#map=16/22.51500/103.97000") in said
    await me.send(option_number(said, "Submit"))
    [report] = await all_reports(db)
    assert (report.latitude, report.longitude) == NEARBY
    assert "near Đồn Biên phòng CKQT Lào Cai (1 km) · https://www.openstreetmap.org/" in await me.send("/report 1")
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    await coordinator.send("/export month")
    [xlsx] = coordinator.files
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    assert row[header.index("Place")] == "near Đồn Biên phòng CKQT Lào Cai (1 km)"
    assert row[header.index("Map")].startswith('=HYPERLINK("https://www.openstreetmap.org/?mlat=22.51500')

