"""The FastAPI embedding example, driven by FastAPI's TestClient against PostgreSQL."""

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from oppcore import Opportunity
from oppcore.storage.sql import SQLStore

ROOT = Path(__file__).resolve().parent.parent

# Starlette's test client prefers httpx2, which needs Python 3.11; on 3.10 it falls back to
# httpx with a deprecation warning about that choice, which is not ours to act on.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")


@pytest.fixture(scope="module")
def example() -> Any:
    spec = importlib.util.spec_from_file_location("fastapi_app",
                                                  ROOT / "examples" / "fastapi_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(example: Any, pg_url: str) -> Any:
    from fastapi.testclient import TestClient

    engine = sa.create_engine(pg_url)
    with TestClient(example.create_app(engine)) as client:
        client.engine = engine
        yield client
    engine.dispose()


def _deal(i: int) -> dict[str, str]:
    return {"id": f"D-{i}", "name": f"Pumps {i}", "account": "acme", "contact": "Li Na",
            "amount": "12000.00", "currency": "CNY"}


def test_create_move_score_and_page_on_postgres(client: Any) -> None:
    assert client.engine.dialect.name == "postgresql"
    for i in range(1, 4):
        made = client.post("/deals", json=_deal(i), headers={"x-tenant": "acme-co"})
        assert made.status_code == 201 and made.json()["version"] == 1
    dup = client.post("/deals", json=_deal(1), headers={"x-tenant": "acme-co"})
    assert dup.status_code == 409 and "already exists" in dup.json()["detail"]
    refused = client.post("/deals/D-1/move", json={"to_stage": "won"},
                          headers={"x-tenant": "acme-co"})
    assert refused.status_code == 422
    assert "skip_not_allowed" in [v["code"] for v in refused.json()["detail"]]
    moved = client.post("/deals/D-1/move", json={"to_stage": "needs_analysis"},
                        headers={"x-tenant": "acme-co"})
    assert moved.json()["stage_id"] == "needs_analysis" and moved.json()["version"] == 2
    scored = client.post("/deals/D-1/score", headers={"x-tenant": "acme-co"}).json()
    assert scored["grade"] in "ABCD" and float(scored["score"]) >= 0
    first = client.get("/deals", params={"limit": 2}, headers={"x-tenant": "acme-co"}).json()
    rest = client.get("/deals", params={"after": first["next_after"]},
                      headers={"x-tenant": "acme-co"}).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == ["D-1", "D-2", "D-3"]
    assert client.get("/deals", headers={"x-tenant": "someone-else"}).json()["items"] == []
    assert client.post("/deals/D-9/score", headers={"x-tenant": "acme-co"}).status_code == 404
    # what the requests committed is in the database, audited, in one feed per tenant
    store = SQLStore(client.engine, tenant="acme-co")
    assert store.get(Opportunity, "D-1").version == 3  # created, moved, rescored
    assert [c.action for c in store.changes()] == ["added"] * 3 + ["saved"] * 2
    assert [e.action for e in store.audit_trail(Opportunity, "D-1")] == [
        "create", "move", "rescore"]
