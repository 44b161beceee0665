"""What only big files exercise: rows checked in worker processes, member numbers drawn again
when a million random draws clash."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from storelink.bulk import csvfile, members, runner
from storelink.bulk.kinds import KINDS
from storelink.members.models import Membership
from storelink.scanning import codes
from tests.bulk.conftest import MEMBERS
from tests.bulk.test_bad_files import catalogued  # noqa: F401  (fixture)

BAD_MEMBERS = ("phone,joined_at,store_code,guide_username,points,marketing_consent,member_no\n"
               "13800138001,2024-03-01,SH01,sh01-guide,10,true,A1\n"
               "12345,2024-03-01,SH01,,,,\n"
               "13800138005,2099-01-01,SH01,,,,\n"
               "13800138006,2024-03-02,SH01,,,,\n"
               "13800138007,yesterday,SH01,,-5,,\n"
               "13800138008,2024-03-02,SH01,,,,\n")


async def test_a_big_file_is_checked_in_worker_processes_in_file_order(catalogued, sessionmaker, monkeypatch):  # noqa: F811
    # given a file with bad rows, checked once in this process
    serial = await catalogued("members", BAD_MEMBERS)
    # when files of any size are checked in worker processes, a row or two to a block
    monkeypatch.setattr(runner, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(runner, "CHECK_WORKERS", 2)
    monkeypatch.setattr(runner, "BLOCK_BYTES", 64)
    parallel = await catalogued("members", BAD_MEMBERS)
    # then the same problems are reported in the file's order, and nothing is loaded
    assert parallel.problems == serial.problems == [
        "members.csv:3: phone: not a mainland mobile number (11 digits starting with 13-19)",
        "members.csv:4: joined_at: in the future",
        "members.csv:6: joined_at: not a date (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM[:SS][+08:00])",
        "members.csv:6: points: may not be negative",
    ]
    assert parallel.rows == 6 and parallel.counts is None
    # and a good file checked that way loads every row, phones sealed by the workers' keyring
    report = await catalogued("members", MEMBERS)
    assert report.problems == [] and report.counts is not None
    assert report.counts.inserted == MEMBERS.count("\n") - 1
    async with sessionmaker() as session:
        numbers = (await session.scalars(select(Membership.member_no))).all()
    assert len(numbers) == report.counts.inserted
    assert all(codes.luhn_digit(n[:-1]) == n[-1] for n in numbers)


async def test_member_numbers_that_clash_are_drawn_again(catalogued, sessionmaker):  # noqa: F811
    # given a member, and rows whose drawn numbers clash with theirs and with each other
    assert (await catalogued("members", MEMBERS)).problems == []
    async with sessionmaker() as session:
        taken = (await session.scalars(select(Membership.member_no).limit(1))).one()
        fresh = codes.new_member_nos(2)
        await session.execute(text(
            "CREATE TEMP TABLE import_resolved (line int PRIMARY KEY, new_membership bool, member_no text)"))
        await session.execute(text("INSERT INTO import_resolved VALUES (2, true, :taken), (3, true, :a), "
                                   "(4, true, :a), (5, true, :b), (6, false, :b), (7, true, :a)"),
                              {"taken": taken, "a": fresh[0], "b": fresh[1]})
        # when the new members are numbered
        await members._number_new_members(session)
        # then every new member's number is unique among them and among members; the first of
        # a clash and the numbers that clash with nobody who needs one stand
        rows = dict((await session.execute(text(
            "SELECT line, member_no FROM import_resolved WHERE new_membership"))).all())
        await session.rollback()
    assert len(rows) == len(set(rows.values())) == 5 and taken not in rows.values()
    assert rows[3] == fresh[0] and rows[5] == fresh[1]
    assert all(codes.luhn_digit(n[:-1]) == n[-1] for n in rows.values())


@pytest.mark.parametrize("block_bytes", [16, 64, 2 << 20])
def test_blocks_end_where_rows_end_and_keep_physical_line_numbers(tmp_path, block_bytes):
    # given a file with a BOM, quoted fields holding newlines and commas, and blank lines
    path = tmp_path / "stores.csv"
    path.write_bytes("\ufeffcode,name\nA,\"南京\n西路\"\n\nB,\"x, \"\"y\"\"\"\nC,\"1\n2\n3\"\nD,d\n".encode())
    # when it is read in blocks of any size
    rows = [row for block in csvfile.blocks(path, "utf-8", progress=False, size=block_bytes)
            for row in csvfile.parse(*block)]
    # then each row is whole, with the number of the line it starts on
    assert rows == [(1, ["code", "name"]), (2, ["A", "南京\n西路"]), (5, ["B", 'x, "y"']),
                    (6, ["C", "1\n2\n3"]), (9, ["D", "d"])]


@pytest.mark.parametrize("block_bytes, workers", [(64, 0), (2 << 20, 0), (64, 2)])
async def test_a_malformed_row_deep_in_a_file_is_named_by_line(catalogued, monkeypatch,  # noqa: F811
                                                                block_bytes, workers):
    # given a file whose 40th line is malformed CSV (read here, or by worker processes)
    monkeypatch.setattr(runner, "BLOCK_BYTES", block_bytes)
    if workers:
        monkeypatch.setattr(runner, "PARALLEL_FROM_BYTES", 0)
        monkeypatch.setattr(runner, "CHECK_WORKERS", workers)
    header = "phone,joined_at,store_code,guide_username,points,marketing_consent,member_no\n"
    good = [f"138001380{i:02d},2024-03-01,SH01,,,,\n" for i in range(2, 60)]
    good[38] = '13800138099,"2024-03-01"x,SH01,,,,\n'
    # when it is loaded
    report = await catalogued("members", header + "".join(good))
    # then the line is named and nothing loads
    assert report.problems == ["members.csv: line 40: malformed CSV (',' expected after '\"')"]
    assert report.counts is None


async def test_bytes_that_are_not_utf8_past_the_first_megabyte_are_named_by_line(tmp_path, sessionmaker, settings):
    # given a UTF-8 file of 1.3 MB with a byte on line 40,002 that no UTF-8 text has
    path = tmp_path / "members.csv"
    rows = b"".join(b"13%09d,2024-03-01,SH01,,,,\n" % i for i in range(40_000))
    path.write_bytes(b"phone,joined_at,store_code,guide_username,points,marketing_consent,member_no\n" + rows
                     + b"13999999999,2024-03-01,SH\xff,,,,\n")
    # when it is loaded
    report = await runner.run_import(sessionmaker, KINDS["members"], path, settings=settings)
    # then the line is named and nothing loads
    assert report.problems == ["members.csv: line 40002: not valid UTF-8 text"]
    async with sessionmaker() as session:
        assert (await session.scalar(select(func.count()).select_from(Membership))) == 0
