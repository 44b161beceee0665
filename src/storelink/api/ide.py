"""GraphiQL (DEBUG only) served from the package: the IDE and the seven files it loads are vendored
in api/graphiql, so it works with no access to a CDN (unreachable here, unreliable from mainland
China). The files are the npm builds strawberry's own page names, byte for byte (its sha384
integrity attributes still check them): react 18.2.0, react-dom 18.2.0, js-cookie 3.0.5,
graphiql 3.8.3, @graphiql/plugin-explorer 1.0.2; all MIT (api/graphiql/licenses).
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ASSETS = Path(__file__).parent / "graphiql"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
FILES = frozenset({
    "react.production.min.js", "react-dom.production.min.js", "js.cookie.min.js", "graphiql.min.css",
    "graphiql.min.js", "plugin-explorer.css", "plugin-explorer.umd.js",
})


def page() -> str:
    return (ASSETS / "index.html").read_text(encoding="utf-8")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in FILES:  # only the vendored files, never a path
        return PlainTextResponse("not found", status_code=404)
    # Pinned versions never change under the same name: browsers may keep them.
    return FileResponse(ASSETS / name, media_type=_TYPES[Path(name).suffix],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
