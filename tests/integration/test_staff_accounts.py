"""Staff accounts on PostgreSQL: `flask users ...` and the admin's accounts page."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from click.testing import Result
from flask import Flask

from app.accounts import password_problem
from app.accounts.cli import users_cli

from .projecting import catch_up
from .webclient import PASSWORD, Staff, account, page_text, sign_in

NEW_PASSWORD = "a quite different passphrase"
# Passwords of 12 characters or more that people were able to set, and why each is weak.
EASY_TO_GUESS = [
    (" " * 12, "Repeats like"),
    ("aaaaaaaaaaaa", "Repeats like"),
    ("password1234", "This is a very common password."),
    ("123456789012", "similar to a commonly used password"),
]
PRINTED_PASSWORD = re.compile(r"with password (\S+)")


def users(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def usernames(app_services) -> set[str]:  # type: ignore[no-untyped-def]
    return {u.username for u in app_services.accounts.all()}


def register_doctor(app_services, name: str = "Dr Ada Martin") -> UUID:  # type: ignore[no-untyped-def]
    from app.commands import RegisterDoctor

    doctor = app_services.bus.handle(RegisterDoctor(full_name=name, specialty="Cardiology"))
    catch_up(app_services.projector)
    return doctor.stream_id


def signs_in(app: Flask, username: str, password: str) -> bool:
    response = sign_in(app.test_client(), username, password)
    return response.status_code == 303


def signed_out(client) -> bool:  # type: ignore[no-untyped-def]
    response = client.get("/")
    return response.status_code == 303 and response.headers["Location"].startswith("/login")


# -- the command line --


class TestCreateOnTheCommandLine:
    def test_reads_the_password_from_stdin_and_the_account_signs_in(self, app, app_services):
        result = users(app, "create", "Nadia", "--role", "reception", "--name", "Nadia Roux",
                       input=f"{PASSWORD}\n")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "nadia (Nadia Roux): reception" in result.output
        assert PASSWORD not in result.output
        user = app_services.accounts.find("nadia")
        assert user.created_by.startswith("cli:") and user.active
        assert signs_in(app, "nadia", PASSWORD)

    def test_a_doctor_account_names_a_registered_doctor(self, app, app_services):
        doctor_id = register_doctor(app_services)
        result = users(app, "create", "dr-martin", "--role", "doctor", "--doctor-id",
                       str(doctor_id), input=f"{PASSWORD}\n")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert app_services.accounts.find("dr-martin").doctor_id == doctor_id

    def test_no_command_takes_a_password_as_an_option(self):
        for command in users_cli.commands.values():
            for param in command.params:
                assert not any("pass" in name.lower() for name in param.opts), command.name

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["bob", "--role", "janitor"], "Choose reception, doctor or admin."),
            (["bob", "--role", "doctor"], "must name which doctor"),
            (
                ["bob", "--role", "doctor", "--doctor-id", str(UUID(int=7))],
                "No doctor with that id",
            ),
            (["bob", "--role", "reception", "--doctor-id", str(UUID(int=7))], "Only a doctor's"),
            (["Bad Name!", "--role", "reception"], "lower-case letters"),
        ],
        ids=["bad-role", "doctor-without-id", "unknown-doctor", "id-for-non-doctor", "username"],
    )
    def test_refuses_wrong_input_and_writes_nothing(self, app, app_services, args, message):
        result = users(app, "create", *args, input=f"{PASSWORD}\n")
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert usernames(app_services) == set()

    def test_refuses_a_short_password(self, app, app_services):
        result = users(app, "create", "bob", "--role", "reception", input="short\n")
        assert result.exit_code == 1
        assert "password: Use at least 12 characters." in result.output
        assert usernames(app_services) == set()

    @pytest.mark.parametrize(("password", "why"), EASY_TO_GUESS)
    def test_refuses_a_password_easy_to_guess_and_says_why(self, app, app_services, password, why):
        result = users(app, "create", "bob", "--role", "reception", input=f"{password}\n")
        assert result.exit_code == 1, result.output
        assert "password: This password is too easy to guess." in result.output
        assert why in result.output
        assert usernames(app_services) == set()

    def test_refuses_a_taken_username(self, app, app_services):
        account(app, "reception", username="bob")
        result = users(app, "create", "BOB", "--role", "admin", input=f"{NEW_PASSWORD}\n")
        assert result.exit_code == 1
        assert "The username 'bob' is taken." in result.output
        assert app_services.accounts.find("bob").role.value == "reception"

    def test_refuses_an_empty_stdin(self, app, app_services):
        result = users(app, "create", "bob", "--role", "reception", input="")
        assert result.exit_code == 1
        assert "No password on standard input" in result.output
        assert usernames(app_services) == set()


def test_list_shows_every_account(app, app_services):
    doctor_id = register_doctor(app_services)
    account(app, "reception")
    doctor = account(app, "doctor", doctor_id)
    assert signs_in(app, doctor.username, PASSWORD)
    app_services.accounts.set_active("test-reception", False, by="tests")
    result = users(app, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = ["USERNAME", "NAME", "ROLE", "DOCTOR", "ID", "STATUS", "LAST", "SIGN-IN"]
    assert lines[0].split() == header
    doctor_line = next(line for line in lines if line.startswith("dr-"))
    assert str(doctor_id) in doctor_line and "active" in doctor_line
    assert "never" not in doctor_line
    reception = next(line for line in lines if line.startswith("test-reception"))
    assert "Test reception" in reception and "disabled" in reception and "never" in reception


def test_list_says_when_there_is_no_account(app):
    assert "No accounts yet" in users(app, "list").output


def test_disable_ends_a_session_and_refuses_sign_in_until_enabled(app, app_services):
    desk = Staff(app, role="reception")
    assert desk.get("/").status_code == 200
    result = users(app, "disable", "test-reception")
    assert result.exit_code == 0, result.output
    assert "test-reception disabled" in result.output
    assert signed_out(desk.client)
    assert not signs_in(app, "test-reception", PASSWORD)
    assert users(app, "disable", "test-reception").output.strip().endswith("already disabled.")
    assert users(app, "enable", "test-reception").exit_code == 0
    assert signs_in(app, "test-reception", PASSWORD)


def test_disable_refuses_an_unknown_account_and_the_last_admin(app):
    unknown = users(app, "disable", "nobody")
    assert unknown.exit_code == 1 and "There is no account named 'nobody'." in unknown.output
    account(app, "admin")
    last = users(app, "disable", "test-admin")
    assert last.exit_code == 1 and "last active admin" in last.output


def test_set_password_from_stdin_ends_sessions(app, app_services):
    desk = Staff(app, role="reception")
    result = users(app, "set-password", "test-reception", input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert signed_out(desk.client)
    assert not signs_in(app, "test-reception", PASSWORD)
    assert signs_in(app, "test-reception", NEW_PASSWORD)
    short = users(app, "set-password", "test-reception", input="short\n")
    assert short.exit_code == 1 and "Use at least 12 characters." in short.output
    weak = users(app, "set-password", "test-reception", input="password1234\n")
    assert weak.exit_code == 1 and "This is a very common password." in weak.output
    assert signs_in(app, "test-reception", NEW_PASSWORD)
    assert users(app, "set-password", "nobody", input=f"{NEW_PASSWORD}\n").exit_code == 1


def test_ensure_admin_creates_one_admin_once_and_prints_its_password_once(app, app_services):
    first = users(app, "ensure-admin")
    assert first.exit_code == 0, first.output
    printed = PRINTED_PASSWORD.search(first.output)
    assert printed, first.output
    assert "not stored anywhere else" in first.output
    admin = app_services.accounts.find("admin")
    assert admin.role.value == "admin" and admin.full_name == "Administrator"
    assert signs_in(app, "admin", printed.group(1))
    assert password_problem(printed.group(1), "admin", "Administrator") is None

    again = users(app, "ensure-admin")
    assert again.exit_code == 0
    assert again.output.strip() == "An admin account exists; nothing created."
    assert usernames(app_services) == {"admin"}


# -- the admin's page --


def create_form(**fields: str) -> dict[str, str]:
    return {
        "username": "nadia",
        "full_name": "Nadia Roux",
        "role": "reception",
        "doctor_id": "",
        "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD,
        **fields,
    }


def row(html: str, username: str) -> str:
    found = re.search(rf'<tr data-username="{re.escape(username)}".*?</tr>', html, re.S)
    assert found, f"no row for {username}"
    return found.group(0)


def test_only_admins_open_the_page(app):
    assert Staff(app, role="reception").get("/admin/users").status_code == 403


def test_the_page_lists_accounts_with_their_doctor_and_creator(app, app_services, admin):
    doctor_id = register_doctor(app_services)
    app_services.accounts.create("dr-martin", PASSWORD, "doctor", doctor_id=doctor_id,
                             by=admin.user.principal.actor, full_name="Ada Martin")  # fmt: skip
    html = page_text(admin.get("/admin/users"))
    doctor = row(html, "dr-martin")
    assert "Dr Ada Martin" in doctor and "Test admin" in doctor and "Never" in doctor
    assert "Disable" in doctor and 'name="active" value="0"' in doctor
    mine = row(html, "test-admin")
    assert "(you)" in mine and "Disable" not in mine  # signed in just now: a moment shown
    assert "Never" not in mine and "tests" in mine


def test_admin_creates_an_account_that_signs_in(app, app_services, admin):
    response = admin.post("/admin/users", create_form(username="Nadia"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    page = page_text(admin.get("/admin/users"))
    assert "Account nadia created" in page and "Nadia Roux" in row(page, "nadia")
    created = app_services.accounts.find("nadia")
    assert created.created_by == admin.user.principal.actor
    assert signs_in(app, "nadia", NEW_PASSWORD)


def test_admin_creates_a_doctor_account_and_the_doctor_choice_counts_only_for_doctors(
    app, app_services, admin
):
    doctor_id = register_doctor(app_services)
    assert f'value="{doctor_id}"' in page_text(admin.get("/admin/users"))
    doctor = create_form(username="dr-martin", role="doctor", doctor_id=str(doctor_id))
    assert admin.post("/admin/users", doctor).status_code == 303
    assert app_services.accounts.find("dr-martin").doctor_id == doctor_id
    # Left chosen while another role was picked, the doctor is ignored.
    desk = create_form(username="desk", doctor_id=str(doctor_id))
    assert admin.post("/admin/users", desk).status_code == 303
    assert app_services.accounts.find("desk").doctor_id is None


def test_a_different_repeated_password_is_refused_beside_the_field(app, app_services, admin):
    response = admin.post("/admin/users", create_form(password_repeat=NEW_PASSWORD + "!"))
    assert response.status_code == 422
    html = page_text(response)
    assert '<p class="error" id="f-password_repeat-error">The two passwords differ' in html
    assert 'value="nadia"' in html and 'value="Nadia Roux"' in html  # typed values kept
    assert NEW_PASSWORD not in html  # never the password
    assert app_services.accounts.find("nadia") is None


def test_refusals_of_the_accounts_are_shown_beside_their_fields(app, app_services, admin):
    form = create_form(username="test-admin", role="doctor", password="short")
    form["password_repeat"] = "short"
    response = admin.post("/admin/users", form)
    assert response.status_code == 422
    html = page_text(response)
    assert 'id="f-username-error">The username &#39;test-admin&#39; is taken.' in html
    assert 'id="f-password-error">Use at least 12 characters.' in html
    assert 'id="f-doctor_id-error">A doctor&#39;s account must name which doctor' in html
    assert '<option value="doctor" selected>' in html
    assert usernames(app_services) == {"test-admin"}


@pytest.mark.parametrize(("password", "why"), EASY_TO_GUESS)
def test_a_password_easy_to_guess_is_refused_on_the_page_with_the_reason(
    app, app_services, admin, password, why
):
    response = admin.post("/admin/users", create_form(password=password, password_repeat=password))
    assert response.status_code == 422
    html = page_text(response)
    assert 'id="f-password-error">This password is too easy to guess.' in html
    assert why.replace('"', "&#34;") in html
    assert app_services.accounts.find("nadia") is None
    account(app, "reception")
    reset = admin.post("/admin/users/test-reception/password", {"password": password})
    assert reset.status_code == 422
    error = 'id="password-test-reception-error">This password is too easy to guess.'
    assert error in row(page_text(reset), "test-reception")
    assert signs_in(app, "test-reception", PASSWORD)


def test_disable_and_enable_through_the_page(app, app_services, admin):
    desk = Staff(app, role="reception")
    response = admin.post("/admin/users/test-reception/active", {"active": "0"})
    assert response.status_code == 303
    assert "Account test-reception disabled" in page_text(admin.get("/admin/users"))
    assert not app_services.accounts.find("test-reception").active
    assert signed_out(desk.client)
    assert not signs_in(app, "test-reception", PASSWORD)

    html = page_text(admin.get("/admin/users"))
    assert 'name="active" value="1"' in row(html, "test-reception")
    assert admin.post("/admin/users/test-reception/active", {"active": "1"}).status_code == 303
    assert app_services.accounts.find("test-reception").active
    assert signs_in(app, "test-reception", PASSWORD)


def test_an_admin_cannot_disable_their_own_account(app, app_services, admin):
    account(app, "admin", username="second-admin")  # so the last-admin rule is not the reason
    response = admin.post("/admin/users/test-admin/active", {"active": "0"})
    assert response.status_code == 409
    assert "You cannot disable your own account" in page_text(response)
    assert app_services.accounts.find("test-admin").active
    assert admin.get("/admin/users").status_code == 200


def test_unknown_accounts_and_bad_values_are_refused(app, admin):
    assert admin.post("/admin/users/nobody/active", {"active": "0"}).status_code == 404
    assert admin.post("/admin/users/nobody/password", {"password": NEW_PASSWORD}).status_code == 404
    assert admin.post("/admin/users/test-admin/active", {"active": "maybe"}).status_code == 400


def test_reset_password_through_the_page(app, app_services, admin):
    desk = Staff(app, role="reception")
    response = admin.post("/admin/users/test-reception/password", {"password": NEW_PASSWORD})
    assert response.status_code == 303
    assert "Password of test-reception changed" in page_text(admin.get("/admin/users"))
    assert signed_out(desk.client)
    assert not signs_in(app, "test-reception", PASSWORD)
    assert signs_in(app, "test-reception", NEW_PASSWORD)


def test_a_refused_reset_shows_its_message_in_the_row(app, admin):
    account(app, "reception")
    response = admin.post("/admin/users/test-reception/password", {"password": "short"})
    assert response.status_code == 422
    html = page_text(response)
    message = 'id="password-test-reception-error">Use at least 12 characters.'
    assert message in row(html, "test-reception")
    assert "The account test-reception was not changed." in html
    assert signs_in(app, "test-reception", PASSWORD)


def test_an_admin_resetting_their_own_password_stays_signed_in(app, admin):
    response = admin.post("/admin/users/test-admin/password", {"password": NEW_PASSWORD})
    assert response.status_code == 303
    assert admin.get("/admin/users").status_code == 200
    assert signs_in(app, "test-admin", NEW_PASSWORD)


def test_the_page_escapes_markup_in_a_name(app, app_services, admin):
    app_services.accounts.create(
        "mallory", PASSWORD, "reception", by="tests", full_name="<script>alert(1)</script>"
    )
    html = page_text(admin.get("/admin/users"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row(html, "mallory")
    assert "<script>alert" not in html


def test_account_changes_are_logged_without_the_password(app, admin, caplog):
    caplog.set_level("INFO", logger="rendezvous.auth")
    admin.post("/admin/users", create_form())
    admin.post("/admin/users/nadia/password", {"password": PASSWORD + "!"})
    admin.post("/admin/users/nadia/active", {"active": "0"})
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "rendezvous.auth")
    assert "account created: nadia (reception) by test-admin" in logged
    assert "password reset: nadia by test-admin" in logged
    assert "account disabled: nadia by test-admin" in logged
    assert NEW_PASSWORD not in logged and PASSWORD not in logged


def test_at_a_terminal_the_password_is_asked_for_twice_hidden(app, app_services, monkeypatch):
    import app.accounts.cli as cli

    class Terminal:
        """What the command sees of stdin; click's prompt still reads the runner's input."""

        @staticmethod
        def isatty() -> bool:
            return True

    monkeypatch.setattr(cli, "sys", type("Sys", (), {"stdin": Terminal}))
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = users(app, "create", "nadia", "--role", "reception", input=typed)
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output and PASSWORD not in result.output
    assert signs_in(app, "nadia", PASSWORD)
