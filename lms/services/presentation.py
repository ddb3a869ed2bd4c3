"""The order an attempt shows things in: which questions a knowledge check draws, the order of
its questions and choices, and the order of a scenario decision's options.

Everything here is a pure function of a key that names the attempt, so an attempt shows the
same draw in the same order every time it is opened, reviewed or graded, and the next attempt
shows a different one. Answers are always stored against the course file's own indexes and
the scenario's option ids (stable ids); only what the officer sees is shuffled.

Keys: a knowledge-check attempt is ``"<assignment id>:<item slug>:<attempt number>"`` (the
attempt row is written only when answers are submitted, so its number is what the page and
the submission agree on); a scenario attempt uses the seed it was started with.

Random streams use ``random.Random(str)``, which seeds from a SHA-512 of the text: the same
on every machine and process, whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lms.course_format import ItemSpec, QuestionSpec

T = TypeVar("T")


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(str(part) for part in parts))


def shuffled(values: Sequence[T], *parts: object) -> list[T]:
    """`values` in an order fixed by `parts`."""
    out = list(values)
    _rng(*parts).shuffle(out)
    return out


def check_key(assignment_id: int, item_slug: str, number: int) -> str:
    """The key of attempt `number` (1-based) at a knowledge check of an assignment."""
    return f"{assignment_id}:{item_slug}:{number}"


def draw_questions(item: ItemSpec, key: str) -> list[QuestionSpec]:
    """The questions attempt `key` presents, in the order it presents them.

    Without a draw, the whole pool. With one, a stratified draw: the pool's outcomes take
    turns (in an order fixed by the key), each giving one of its questions not drawn yet, so
    every outcome is assessed when the draw is at least the number of outcomes, and no
    outcome gets two more questions than another while it still has some to give.
    """
    pool = list(item.questions)
    count = item.questions_per_attempt
    if count >= len(pool):
        return shuffled(pool, key, "questions")
    groups: dict[str | None, list[QuestionSpec]] = {}
    for question in pool:
        groups.setdefault(question.outcome, []).append(question)
    queues = [shuffled(group, key, "outcome", name) for name, group in groups.items()]
    queues = shuffled(queues, key, "outcomes")
    picked: list[QuestionSpec] = []
    while len(picked) < count:
        for queue in queues:
            if queue and len(picked) < count:
                picked.append(queue.pop(0))
    return shuffled(picked, key, "questions")


def choice_order(question: QuestionSpec, key: str) -> list[int]:
    """The course file's indexes of a question's choices, in the order attempt `key` shows them."""
    return shuffled(range(len(question.choices)), key, "choices", question.id)


@dataclass(frozen=True)
class PresentedQuestion:
    """One question as an attempt shows it."""

    number: int  # 1-based, as shown
    question: QuestionSpec
    choice_order: tuple[int, ...]  # file indexes of the choices, in the order shown

    @property
    def shown_choices(self) -> list[tuple[int, object]]:
        """(position shown, choice) pairs; a form posts the position, never the file index."""
        return [(position, self.question.choices[index]) for position, index in enumerate(self.choice_order)]

    def file_index(self, position: int) -> int | None:
        """The file index of the choice shown at `position`, or None if there is none."""
        return self.choice_order[position] if 0 <= position < len(self.choice_order) else None


def present_check(item: ItemSpec, key: str) -> list[PresentedQuestion]:
    """Attempt `key` of a knowledge check as it is shown: drawn, ordered, choices shuffled."""
    return [
        PresentedQuestion(number, question, tuple(choice_order(question, key)))
        for number, question in enumerate(draw_questions(item, key), start=1)
    ]


def option_order(options: Sequence[T], seed: int, decision_index: int) -> list[T]:
    """A scenario decision's options in the order the attempt with `seed` shows them."""
    return shuffled(options, "scenario", seed, decision_index)
