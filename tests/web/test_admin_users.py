"""The Users page of the administration console with a browser session (R24): every form post needs the
session's CSRF token; an admin creates, disables, re-enables a user, resets the password and changes the
role, each with the effect a user notices (sign-in refused, old password refused, new role at once)."""

from __future__ import annotations

import re

import pytest

from acd.web.accounts import AccountStore
from tests.web.conftest import Api
from tests.web.test_accounts import _csrf, _login

pytestmark = pytest.mark.timeout(60)


async def test_user_forms_need_csrf_and_change_what_the_user_notices(api: Api) -> None:
    store = AccountStore(api.db, lambda: api.clock[0])
    await store.add("root", "admin", None, "Root-admin-1")
    assert (await _login(api.client, "root", "Root-admin-1")).status == 303
    form = {"name": "dana", "role": "reporting", "password": "Dana-first-1"}

    r = await api.client.post("/admin/users?lang=en", data=form)  # a forged form: no token
    assert r.status == 403 and await store.get("dana") is None

    csrf = await _csrf(api.client, "/admin/users")
    r = await api.client.post("/admin/users?lang=en", data={**form, "csrf": csrf})
    assert r.status == 200 and "User dana created" in await r.text()
    assert (await store.verify("dana", "Dana-first-1"))[1] == "ok"

    r = await api.client.post("/admin/users/root/disable?lang=en", data={"csrf": csrf, "disabled": "1"})
    assert r.status == 400 and "your own account" in await r.text()
    r = await api.client.post("/admin/users/dana/disable?lang=en", data={"csrf": csrf, "disabled": "1"})
    assert r.status == 200 and re.search(r'id="user-dana" class="disabled"', await r.text())
    assert (await store.verify("dana", "Dana-first-1"))[1] == "disabled"
    await api.client.post("/admin/users/dana/disable", data={"csrf": csrf, "disabled": "0"})
    assert (await store.verify("dana", "Dana-first-1"))[1] == "ok"

    r = await api.client.post("/admin/users/dana/password?lang=en", data={"csrf": csrf, "password": "short"})
    assert r.status == 400 and "too short" in await r.text()
    r = await api.client.post("/admin/users/dana/password", data={"csrf": csrf, "password": "Dana-second-2"})
    assert r.status == 200
    assert (await store.verify("dana", "Dana-first-1"))[1] == "bad_password"

    r = await api.client.post("/admin/users/dana/role?lang=en", data={"csrf": csrf, "role": "agent"})
    assert r.status == 400 and "agent id" in await r.text()
    r = await api.client.post("/admin/users/dana/role", data={"csrf": csrf, "role": "agent", "agent": "a2"})
    assert r.status == 200
    account = await store.get("dana")
    assert account is not None and (account.role, account.agent) == ("agent", "a2")
