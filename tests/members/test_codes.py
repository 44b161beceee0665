import pytest

from storelink.errors import DomainError
from storelink.scanning import codes

SECRET = "s" * 40


def test_member_numbers_are_ten_digits_with_a_luhn_check():
    # when / then
    for _ in range(200):
        no = codes.new_member_no()
        assert len(no) == 10 and no.isdigit() and no[0] == "8"
        assert codes.luhn_digit(no[:-1]) == no[-1]
    assert codes.luhn_digit("7992739871") == "3"  # the textbook example


def test_scan_codes_round_trip_and_refuse_tampering():
    # when
    code, token = codes.new_scan_code("M", SECRET)
    # then
    assert len(code) == 25 and code[0] == "M"
    assert codes.parse_scan_code(code.lower(), SECRET) == ("M", token)
    # and
    tampered = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    # when / then
    for bad in [tampered, "C" + code[1:], code[:-1], code + "A", "", "M" * 25, code.replace(code[1], "!")]:
        with pytest.raises(DomainError) as err:
            codes.parse_scan_code(bad, SECRET)
        assert err.value.code == "CODE_INVALID"
    # when / then
    with pytest.raises(DomainError):
        codes.parse_scan_code(code, "another-secret-" + "x" * 30)


def test_join_codes_are_short_and_unambiguous():
    # when
    code = codes.new_join_code()
    # then
    assert len(code) == 10 and set(code) <= set(codes.JOIN_ALPHABET)
    assert not set("01ilo") & set(codes.JOIN_ALPHABET)
