"""``openprepaid api-token``: create (shown once), list, revoke — each written to the log."""

from __future__ import annotations

import hashlib
import json

import pytest

from openprepaid.cli import main


@pytest.mark.django_db
def test_create_list_revoke(operations, capsys):
    from openprepaid.domain.audit.models import SystemLog
    from openprepaid.domain.operators.models import ApiToken

    assert main(["api-token", "create", "--user", "ops", "--name", "BMS link"]) == 0
    out, err = capsys.readouterr()
    created = json.loads(out)
    token = created["token"]
    assert "cannot be shown again" in err
    row = ApiToken.objects.get(pk=created["id"])
    assert row.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.operator, row.name) == (operations, "BMS link")
    assert SystemLog.objects.filter(action="api_token.create", actor_name="system").count() == 1

    assert main(["api-token", "list", "--user", "ops"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(t["id"], t["name"], t["revoked_at"]) for t in listed] == [(row.pk, "BMS link", None)]
    assert token not in json.dumps(listed)

    assert main(["api-token", "revoke", str(row.pk)]) == 0
    assert json.loads(capsys.readouterr().out)["revoked_at"] is not None
    assert SystemLog.objects.filter(action="api_token.revoke").count() == 1
    assert main(["api-token", "revoke", str(row.pk)]) == 2
    err = capsys.readouterr().err  # the CLI speaks the site's language, Chinese by default
    assert "already revoked" in err or "已被吊销" in err


@pytest.mark.django_db
def test_mistakes(operations, capsys):
    assert main(["api-token", "create", "--user", "nobody", "--name", "x"]) == 2
    assert "no operator" in capsys.readouterr().err
    assert main(["api-token", "create", "--user", "ops", "--name", "  "]) == 2
    assert main(["api-token", "revoke", "12345"]) == 2
    assert "no token" in capsys.readouterr().err
    assert main(["api-token"]) == 2
