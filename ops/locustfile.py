"""The load test (`make load`): officers sign in, look around and play scenarios to a grade.

Each simulated officer has its own account (load-NNN@load.test, created by ops/load.sh) and
plays the library's scenarios as an instructor's direct play, decision by decision, then
waits on the grading page until the debrief appears.
"""

from __future__ import annotations

import itertools
import random
import re

from locust import HttpUser, between, task

_numbers = itertools.count(1)
PASSWORD = "load-test-password"
DECISION_FORM = re.compile(r'action="(/play/attempts/(\d+)/decisions/(\d+))"')
OPTION = re.compile(r'name="options"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="options"')
START = re.compile(r'action="(/play/scenarios/\d+/start)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return (match.group(1) or match.group(2)) if match else ""


class Officer(HttpUser):
    # People read the situation before each decision; a few seconds between clicks is quick.
    wait_time = between(3.0, 8.0)

    def on_start(self):
        self.number = next(_numbers)
        page = self.client.get("/auth/sign-in", name="sign-in page").text
        self.client.post("/auth/sign-in", name="sign in", data={
            "email": f"load-{self.number:03d}@load.test", "password": PASSWORD, "csrf_token": _csrf(page),
        })  # fmt: skip

    @task(2)
    def browse(self):
        self.client.get("/", name="home")
        self.client.get("/learn/", name="my training")

    @task(3)
    def play_a_scenario(self):
        library = self.client.get("/play/scenarios/", name="scenario library").text
        starts = START.findall(library)
        if not starts:
            return
        page = self.client.post(
            random.choice(starts), name="start attempt", data={"csrf_token": _csrf(library)}
        ).text
        for _ in range(8):
            form = DECISION_FORM.search(page)
            if not form:
                break
            options = [a or b for a, b in OPTION.findall(page)]
            reply = self.client.post(
                form.group(1),
                name="decision click",
                data={"options": random.choice(options), "csrf_token": _csrf(page)},
            )
            page = reply.text
        for _ in range(30):  # the grading page refreshes itself every 2 s
            if "Grading your attempt" not in page:
                break
            self.wait()
            page = self.client.get(reply.url, name="grading page").text
