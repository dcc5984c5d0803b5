"""What `bergfried start` does before it serves: migrate, bootstrap, demo, and the report it
prints (credentials shown once, the seed guide's next commands)."""

from __future__ import annotations

from bergfried import services as services_module
from bergfried.bootstrap import BootstrapResult, bootstrap
from bergfried.demo import REDIRECT_URI, DemoWorld, ensure_demo
from bergfried.settings import Settings
from bergfried.store.migrate import migrate


async def prepare(settings: Settings, *, demo: bool) -> str:
    built = services_module.build(settings)
    try:
        await migrate(built.engine)
        result = await bootstrap(built)
        world = await ensure_demo(built, result.instance) if demo else None
    finally:
        await built.close()
    return render_report(settings, result, world)


def render_report(settings: Settings, result: BootstrapResult, world: DemoWorld | None) -> str:
    lines = [f"Bergfried serves issuer {settings.issuer} on {settings.host}:{settings.port}"]
    if result.created:
        lines.append(f"First instance created; admin login name: {result.admin_login_name}")
    if result.generated_admin_password:
        lines.append(f"  admin password (generated, shown only now): {result.generated_admin_password}")
    if result.pat_path:
        lines.append(f"Personal access token of the admin machine user written to {result.pat_path}")
    if world is not None:
        secret = world.client_secret or "(shown only when the app was created; it is stored hashed)"
        lines += [
            "",
            "Demo world (seed guide 'User Metadata'):",
            f"  issuer         {world.issuer}",
            f"  client id      {world.client_id}",
            f"  client secret  {secret}",
            f"  login name     {world.login_name}",
            f"  password       {world.password}",
            "",
            "Next, as in the guide:",
            f"  export ZITADEL_DOMAIN=\"{world.issuer}\"",
            f"  export CLIENT_ID=\"{world.client_id}\"",
            f"  export CLIENT_SECRET=\"{world.client_secret or '<the secret shown at creation>'}\"",
            f"  export REDIRECT_URI=\"{REDIRECT_URI}\"",
            "  export BASIC_AUTH=\"$(printf '%s:%s' \"$CLIENT_ID\" \"$CLIENT_SECRET\" | base64 -w0)\"",
            f"  then open {world.authorize_url()}",
        ]
    return "\n".join(lines)
