from bergfried.store import orgs
from tests.factories import make_org, make_user


async def test_org_round_trip(store):
    org = await make_org(store, "ACME Corp")
    async with store.read() as conn:
        loaded = await orgs.get(conn, org.id)
    assert loaded.name == "ACME Corp"
    assert loaded.primary_domain == "acme-corp.localhost"
    user = await make_user(store, org)
    assert user.org_id == org.id
