"""The load test (`make load`): officers sign in, look around and play scenarios to a grade.

Each simulated officer has its own account (load-NNN@load.test, created by ops/load.sh) and
plays the library's scenarios as an instructor's direct play, decision by decision, then
waits on the grading page (asking the status as the page's script does) until the debrief
appears; the time from the final click to the debrief is reported as "time to grade".
"""

from __future__ import annotations

import itertools
import random
import re
import time

import gevent
from locust import HttpUser, between, task

_numbers = itertools.count(1)
PASSWORD = "load-test-password"
GIVE_UP_AFTER = 180  # seconds an officer waits on the grading page
DECISION_FORM = re.compile(r'action="(/play/attempts/(\d+)/decisions/(\d+))"')
OPTION = re.compile(r'name="options"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="options"')
START = re.compile(r'action="(/play/scenarios/\d+/start)"')
STATUS_URL = re.compile(r'data-status-url="([^"]+)"')
POLL_MS = re.compile(r'data-poll-ms="(\d+)"')
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
            self.wait()  # reading the situation before deciding (people take longer than this)
            reply = self.client.post(
                form.group(1),
                name="decision click",
                data={"options": random.choice(options), "csrf_token": _csrf(page)},
            )
            page = reply.text
        if "Grading your attempt" not in page:
            return  # graded in the request (no broker) or the attempt was not finished
        # What the grading page's script does: ask the attempt's status after the delay the
        # server names (the page's data-poll-ms, then each answer's poll_ms), then open the
        # debrief. The wait from the final click to the debrief is reported as "time to grade".
        status_url = STATUS_URL.search(page).group(1)
        wait = int(POLL_MS.search(page).group(1)) / 1000
        submitted = time.perf_counter()
        status = {"status": "grading"}
        while status["status"] == "grading" and time.perf_counter() - submitted < GIVE_UP_AFTER:
            gevent.sleep(wait)
            status = self.client.get(status_url, name="grading status").json()
            wait = status.get("poll_ms", 2000) / 1000
        graded = status["status"] != "grading"
        if graded:
            self.client.get(status["url"], name="debrief")
        self.environment.events.request.fire(
            request_type="WAIT",
            name="time to grade",
            response_time=(time.perf_counter() - submitted) * 1000,
            response_length=0,
            exception=None if graded else TimeoutError(f"no grade after {GIVE_UP_AFTER} s"),
            context={},
        )
