"""`pakn user add | disable | enable | list | passwd` against the real store."""

from __future__ import annotations

import argparse
import io
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from pakn.auth.sessions import create_session
from pakn.auth.settings import AuthSettings, argon2_params_for
from pakn.auth.throttle import LoginThrottle, Refused
from pakn.auth.users import Passwords, authenticate
from pakn.commands import user as user_command
from pakn.settings import CoreSettings
from pakn.store import Store
from tests.pakn.auth.conftest import PASSWORD, SECRET, audit_log


def parse(argv: Sequence[str]) -> argparse.Namespace:
    top = argparse.ArgumentParser(prog="pakn")
    user_command.add_parser(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(["user", *argv])
    assert args.func is user_command.run
    return args


async def pakn_user(settings: CoreSettings, *argv: str, stdin: str = "") -> int:
    return await user_command.execute(parse(argv), settings, stdin=io.StringIO(stdin))


async def test_add_list_disable_enable(
    core_settings: CoreSettings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    add = (
        "add",
        "--username",
        "Hanh.Nguyen",
        "--password-stdin",
        "--role",
        "agency_admin",
        "--agency",
        "so-y-te",
        "--display-name",
        "Nguyễn Thị Hạnh",
    )
    assert await pakn_user(core_settings, *add, stdin=PASSWORD + "\n") == 0
    assert "Đã tạo tài khoản hanh.nguyen (agency_admin, so-y-te)." in capsys.readouterr().out
    op = ("add", "--username", "ops", "--password-stdin", "--role", "operator")
    assert await pakn_user(core_settings, *op, stdin=PASSWORD) == 0
    capsys.readouterr()

    assert await pakn_user(core_settings, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["TÊN", "ĐĂNG"]
    assert lines[1].split() == [
        "hanh.nguyen",
        "agency_admin",
        "so-y-te",
        "hoạt",
        "động",
        "Nguyễn",
        "Thị",
        "Hạnh",
    ]
    assert lines[2].split()[:3] == ["ops", "operator", "-"]
    assert await pakn_user(core_settings, "list", "--agency", "so-y-te") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2

    assert await pakn_user(core_settings, "disable", "--username", "hanh.nguyen") == 0
    assert "Đã vô hiệu hóa tài khoản hanh.nguyen" in capsys.readouterr().out
    doc = await store.users.find_one({"username": "hanh.nguyen"})
    assert doc is not None and doc["active"] is False
    assert await pakn_user(core_settings, "enable", "--username", "hanh.nguyen") == 0
    doc = await store.users.find_one({"username": "hanh.nguyen"})
    assert doc is not None and doc["active"] is True

    entries = await audit_log(store)
    assert [e["action"] for e in entries] == [
        "user.create",
        "user.create",
        "user.disable",
        "user.enable",
    ]
    assert all(e["actor"].startswith("cli:") and e["service"] == "cli" for e in entries)
    assert all(e["outcome"] == "success" and e["role"] is None for e in entries)


async def test_passwd_sets_a_new_password_and_ends_the_sessions(
    core_settings: CoreSettings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add", "--username", "quang", "--password-stdin", "--role", "hotline_agent")
    assert await pakn_user(core_settings, *add, stdin=PASSWORD + "\n") == 0
    doc = await store.users.find_one({"username": "quang"})
    assert doc is not None
    auth = AuthSettings(session_secret=SecretStr(SECRET))
    await create_session(
        store,
        user_id=doc["_id"],
        role="hotline_agent",
        now=datetime.now(UTC),
        settings=auth,
        ip=None,
        user_agent=None,
    )

    new = "một mật khẩu mới dài hơn"
    assert (
        await pakn_user(
            core_settings, "passwd", "--username", "quang", "--password-stdin", stdin=new
        )
        == 0
    )
    assert "Đã đổi mật khẩu của quang" in capsys.readouterr().out
    assert await store.sessions.count_documents({}) == 0
    passwords = Passwords(argon2_params_for("test"))
    assert (await authenticate(store, passwords, "quang", new)).ok
    assert not (await authenticate(store, passwords, "quang", PASSWORD)).ok
    [entry] = await audit_log(store, "user.password")
    assert entry["target"] == "quang" and entry["detail"] == {"sessions": 1}


@pytest.mark.parametrize(
    ("argv", "stdin", "code", "says"),
    [
        (("add", "--username", "x.y", "--password-stdin", "--role", "operator"), "", 2, "stdin"),
        (
            ("add", "--username", "x.y", "--password-stdin", "--role", "agency_staff"),
            PASSWORD,
            1,
            "phải ghi rõ mã cơ quan",
        ),
        (
            (
                "add",
                "--username",
                "x.y",
                "--password-stdin",
                "--role",
                "agency_staff",
                "--agency",
                "so-ma",
            ),
            PASSWORD,
            1,
            "Mã cơ quan so-ma không có",
        ),
        (
            ("add", "--username", "x.y", "--password-stdin", "--role", "operator"),
            "ngắn",
            1,
            "ít nhất 10 ký tự",
        ),
        (("disable", "--username", "khong.co"), "", 1, "Không có tài khoản khong.co"),
        (("passwd", "--username", "khong.co", "--password-stdin"), PASSWORD, 1, "khong.co"),
    ],
)
async def test_refusals_are_explained_with_an_exit_code(
    core_settings: CoreSettings,
    store: Store,
    capsys: pytest.CaptureFixture[str],
    argv: Sequence[str],
    stdin: str,
    code: int,
    says: str,
) -> None:
    assert await pakn_user(core_settings, *argv, stdin=stdin) == code
    err = capsys.readouterr().err
    assert err.startswith("pakn user: ") and says in err
    assert await store.users.count_documents({}) == 0


async def test_a_taken_username_is_refused(
    core_settings: CoreSettings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add", "--username", "trung", "--password-stdin", "--role", "operator")
    assert await pakn_user(core_settings, *add, stdin=PASSWORD) == 0
    assert await pakn_user(core_settings, *add, stdin=PASSWORD) == 1
    assert "Tên đăng nhập trung đã có người dùng." in capsys.readouterr().err
    assert [e["outcome"] for e in await audit_log(store, "user.create")] == ["success", "failure"]


async def test_an_empty_store_lists_nobody(
    core_settings: CoreSettings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await pakn_user(core_settings, "list") == 0
    assert capsys.readouterr().out.strip() == "Chưa có tài khoản nào."


def test_a_role_outside_the_list_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(["add", "--username", "x.y", "--password-stdin", "--role", "mayor"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


async def test_unlock_lifts_the_login_throttling_of_an_account(
    core_settings: CoreSettings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    op = ("add", "--username", "khoa.vo", "--password-stdin", "--role", "operator")
    assert await pakn_user(core_settings, *op, stdin=PASSWORD) == 0
    throttle = LoginThrottle(store, AuthSettings(session_secret=SecretStr(SECRET)))
    now = datetime.now(UTC)
    for _ in range(3):
        attempt = await throttle.begin("khoa.vo", "203.0.113.8", now)
        assert not isinstance(attempt, Refused)
    assert await store.db["login_failures"].count_documents({}) == 9
    capsys.readouterr()
    assert await pakn_user(core_settings, "unlock", "--username", "KHOA.VO") == 0
    assert "khoa.vo" in capsys.readouterr().out
    # Every counter those attempts fed (pair, address, account) forgives them.
    assert await store.db["login_failures"].count_documents({}) == 0
    entries = await audit_log(store, "user.unlock")
    assert [e["outcome"] for e in entries] == ["success"]
    assert entries[0]["detail"] == {"failures": 9}
    assert await pakn_user(core_settings, "unlock", "--username", "khong.co") != 0
