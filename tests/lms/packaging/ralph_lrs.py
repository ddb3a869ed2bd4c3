"""A real LRS for the cmi5 tests: ralph (ralph-malph) on its filesystem backend, on 127.0.0.1.

ralph validates every statement it is given and checks basic-auth credentials against its
auth file. ralph 5.1.0 has no State resource, which cmi5 needs for `LMS.LaunchData`; this
runner adds one (`/xAPI/activities/state`, GET and PUT, behind ralph's own authentication) to
ralph's app before serving it, and lets its filesystem backend append. Run as a process (`python -m tests.lms.packaging.ralph_lrs`,
ralph reads its settings from the environment at import); it prints its port on stdout.
"""

import json
import socket
import sys


def _key(params) -> tuple:
    agent = json.loads(params.get("agent") or "null")
    return (
        params.get("activityId"),
        json.dumps(agent, sort_keys=True),
        params.get("registration"),
        params.get("stateId"),
    )


def main() -> None:
    import uvicorn
    from fastapi import Depends, Request, Response
    from ralph.api import app
    from ralph.api.auth import get_authenticated_user
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    # ralph 5.1.0's filesystem LRS writes with "create" by default, which refuses every
    # statement after the first (the file exists); appending is what an LRS file needs.
    FSLRSBackend.default_operation_type = BaseOperationType.APPEND

    authenticated = Depends(get_authenticated_user)  # ralph's own basic auth
    documents = {}  # (activityId, agent, registration, stateId) -> (body, content type)

    @app.put("/xAPI/activities/state", status_code=204)
    async def put_state(request: Request, _user=authenticated):
        documents[_key(request.query_params)] = (
            await request.body(),
            request.headers.get("content-type", "application/json"),
        )
        return Response(status_code=204)

    @app.get("/xAPI/activities/state")
    async def get_state(request: Request, _user=authenticated):
        found = documents.get(_key(request.query_params))
        if found is None:
            return Response(status_code=404)
        return Response(content=found[0], media_type=found[1])

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
