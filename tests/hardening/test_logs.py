"""No secret reaches a log line: SQL parameters are never put into error messages
(hide_parameters), and every record's message and traceback is redacted, whoever logs it."""
from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storelink.logs import RedactingFilter, redact

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def _formatted(record_maker) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))
    logger = logging.getLogger("storelink.test-logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        record_maker(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue()


async def test_a_failing_statement_does_not_carry_its_parameters(app):
    # given a statement that fails with secrets bound to it
    secrets = {"h": HASH, "a": "上海市静安区南京西路1号", "k": "idem-key-7f3a"}
    # when the database refuses it
    with pytest.raises(DBAPIError) as caught:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT CAST(:h AS integer), :a, :k"), secrets)
    # then the error names the statement but none of the values
    message = str(caught.value)
    assert "SELECT" in message
    assert all(value not in message for value in secrets.values())


def test_a_traceback_is_redacted_like_the_message():
    # given
    def log_it(logger):
        try:
            raise RuntimeError(f"insert failed [parameters: ('{HASH}', '13812345678')]\n"
                               "DETAIL:  Key (username)=(alice) already exists.")
        except RuntimeError:
            logger.exception("unexpected error for 13987654321 with Bearer abc.def")

    # when
    out = _formatted(log_it)
    # then
    assert "RuntimeError" in out and "Traceback" in out
    # when / then
    for secret in (HASH, "13812345678", "13987654321", "abc.def", "(alice)"):
        assert secret not in out, secret


@pytest.mark.parametrize("line,secret", [
    (f"hash {HASH} stored", HASH),
    ("[SQL: INSERT INTO staff]\n[parameters: ('bob', 'x')]", "'bob'"),
    ('Key (code)=(ab12cd34ef) already exists.', "ab12cd34ef"),
    ("DETAIL:  Failing row contains (1, secret-address, 13812345678).", "secret-address"),
    ("GET /qr?token=abcdef", "abcdef"),
])
def test_redaction_patterns(line, secret):
    # when / then
    assert secret not in redact(line)


def test_a_record_with_args_is_redacted_after_formatting():
    # when
    out = _formatted(lambda logger: logger.warning("phone %s token %s", "13812345678", "eyJa.eyJb.sig"))
    # then
    assert "13812345678" not in out and "eyJa.eyJb.sig" not in out and "138****5678" in out
