"""Problems and grades: hints, the browser's then the server's `problem_check`, the problem,
subsection and course grades, passing or failing the course, showing the answer.

Server payloads are the samples beside the translations (`translate/families/capa.py`,
`grading.py`) with the simulated answers, points and ids (`sampled`); the browser's form and
the course's pass/fail events are written here."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

from event_router.generate.visit import Json, Step, Visit, blocks_of, completion, sampled
from event_router.generate.world import Block, Question, Subsection
from event_router.translate.samples import graded, hex_id

PASS_CUTOFF = 0.6  # the course grade a learner passes with


def solve(visit: Visit) -> Iterator[Step]:
    rng = visit.rng
    problems = blocks_of(visit, "problem")
    if not problems:
        return
    sub, unit, problem = rng.choice(problems)
    page = visit.xblock_url(sub, unit)
    module = {"display_name": problem.name, "usage_key": problem.usage_key}
    progress = visit.progress
    for hint in range(rng.randint(0, problem.hints)):
        yield Step(
            "edx.problem.hint.demandhint_displayed",
            sampled(
                visit,
                "edx.problem.hint.demandhint_displayed",
                problem.usage_key,
                hint_index=hint,
                hint_len=problem.hints,
                hint_text=f"Hint {hint + 1}: read the question again.",
            ),
            "server",
            visit.handler_path(problem, "hint_button"),
            page,
            "x_module",
            module,
        )
    for _ in range(rng.randint(1, 3)):
        attempt = progress.attempts.get(problem.usage_key, 0) + 1
        progress.attempts[problem.usage_key] = attempt
        correct = [rng.random() < 0.3 + 0.2 * attempt for _ in problem.questions]
        answers = {q.id: _answer(q, ok) for q, ok in zip(problem.questions, correct, strict=True)}
        yield Step("problem_check", _form(answers), "browser", "/event", page, page)
        grade, most = sum(correct), len(problem.questions)
        yield Step(
            "problem_check",
            sampled(
                visit,
                "problem_check",
                problem.usage_key,
                **_graded(problem, answers, correct, attempt),
            ),
            "server",
            visit.handler_path(problem, "problem_check"),
            page,
            "x_module",
            module,
        )
        yield Step(
            "edx.grades.problem.submitted",
            sampled(
                visit,
                "edx.grades.problem.submitted",
                problem.usage_key,
                weighted_earned=grade,
                weighted_possible=most,
                event_transaction_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            ),
            "server",
            visit.handler_path(problem, "problem_check"),
            page,
            "x_module",
            module,
        )
        yield from _regrade(visit, sub, problem, grade, most, module)
        if all(correct):
            yield Step(
                "edx.problem.completed",
                sampled(visit, "edx.problem.completed", problem.usage_key),
                "server",
                visit.handler_path(problem, "problem_check"),
                page,
                "x_module",
                module,
            )
            yield completion(visit, problem, 1.0)
            return
    if rng.random() < 0.5:
        yield Step(
            "showanswer",
            sampled(visit, "showanswer", problem.usage_key),
            "server",
            visit.handler_path(problem, "problem_show"),
            page,
            "x_module",
            module,
        )


def _answer(question: Question, correct: bool) -> str | list[str]:
    if correct:
        return question.answer
    if isinstance(question.answer, list):
        return [*question.answer[:1], "4"]
    return f"not {question.answer}"


def _form(answers: dict[str, str | list[str]]) -> str:
    """The browser's form body: `input_<question id>=value`, lists as repeated `[]` fields."""
    fields: list[str] = []
    for qid, answer in answers.items():
        if isinstance(answer, list):
            fields.extend(f"input_{qid}%5B%5D={quote(str(a))}" for a in answer)
        else:
            fields.append(f"input_{qid}={quote(answer)}")
    return "&".join(fields)


def _graded(
    problem: Block, answers: dict[str, str | list[str]], correct: list[bool], attempt: int
) -> Json:
    correct_map = {q.id: graded(ok) for q, ok in zip(problem.questions, correct, strict=True)}
    submission = {
        q.id: {
            "question": q.text,
            "answer": answers[q.id],
            "response_type": q.response_type,
            "input_type": q.input_type,
            "correct": ok,
            "variant": "",
            "group_label": "",
        }
        for q, ok in zip(problem.questions, correct, strict=True)
    }
    return {
        "answers": answers,
        "attempts": attempt,
        "correct_map": correct_map,
        "grade": sum(correct),
        "max_grade": len(problem.questions),
        "problem_id": problem.usage_key,
        "state": {
            "correct_map": correct_map,
            "done": True,
            "has_saved_answers": False,
            "input_state": {q.id: {} for q in problem.questions},
            "seed": 1,
            "student_answers": answers,
        },
        "submission": submission,
        "success": "correct" if all(correct) else "incorrect",
    }


def _regrade(
    visit: Visit, sub: Subsection, problem: Block, grade: float, most: float, module: Json
) -> Iterator[Step]:
    """Subsection and course grades after a submission, and passing or failing the course."""
    progress = visit.progress
    course = visit.course
    earned, possible = progress.points.get(sub.usage_key, (0.0, 0.0))
    key = f"{sub.usage_key}|{problem.usage_key}"
    previous = progress.points.get(key, (0.0, 0.0))
    earned, possible = earned - previous[0] + grade, possible - previous[1] + most
    progress.points[key] = (float(grade), float(most))
    progress.points[sub.usage_key] = (earned, possible)
    stamp = visit.stamp()
    common = {
        "user_id": str(visit.learner.user_id),
        "course_id": course.course_id,
        "course_version": hex_id(course.course_id, "version")[:24],
        "event_transaction_id": str(uuid.UUID(int=visit.rng.getrandbits(128), version=4)),
        "event_transaction_type": "edx.grades.problem.submitted",
    }
    path = visit.handler_path(problem, "problem_check")
    yield Step(
        "edx.grades.subsection.grade_calculated",
        sampled(
            visit,
            "edx.grades.subsection.grade_calculated",
            sub.usage_key,
            **common,
            weighted_total_earned=earned,
            weighted_total_possible=possible,
            weighted_graded_earned=earned,
            weighted_graded_possible=possible,
            first_attempted=stamp,
            subtree_edited_timestamp=stamp,
        ),
        "server",
        path,
        module=module,
    )
    subsections = [points for k, points in progress.points.items() if "|" not in k]
    earned_total = sum(e for e, _ in subsections)
    # The course's graded points: what was attempted, and at least a tenth of all its points
    # (so a learner passes after doing a fair part of the course well, not after one problem).
    course_points = sum(len(b.questions) for _, _, b in blocks_of(visit, "problem"))
    possible_total = max(sum(p for _, p in subsections), course_points / 10, 1.0)
    percent = round(min(1.0, earned_total / possible_total), 2)
    letter = "Pass" if percent >= PASS_CUTOFF else ""
    yield Step(
        "edx.grades.course.grade_calculated",
        sampled(
            visit,
            "edx.grades.course.grade_calculated",
            **common,
            percent_grade=percent,
            letter_grade=letter,
            course_edited_timestamp=stamp,
        ),
        "server",
        path,
        module=module,
    )
    now_passing = percent >= PASS_CUTOFF
    if progress.passed is None and now_passing:
        name = "edx.course.grade.passed.first_time"
    elif progress.passed is not None and now_passing != progress.passed:
        name = "edx.course.grade.now_passed" if now_passing else "edx.course.grade.now_failed"
    else:
        return
    progress.passed = now_passing
    fields = ("user_id", "course_id", "event_transaction_id", "event_transaction_type")
    payload = sampled(visit, name, **{k: common[k] for k in fields})  # families/enrollment
    yield Step(name, payload, "server", path, module=module)
