"""The made-up Open edX instance that generated events happen in: learners, courses, their blocks.

Everything derives from the seed, so the same arguments give the same world: the same learners
(ids, usernames, browsers), the same courses, and inside each course the same outline (chapters,
subsections, units) holding videos, problems and HTML blocks, and one special exam.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from event_router.translate.samples import hex_id

ORGS = ("edX", "MITx", "HarvardX", "DelftX", "UQx", "BerkeleyX", "TUMx", "KyotoUx")
SUBJECTS = (
    ("CS", "Computer Science"),
    ("DS", "Data Science"),
    ("PH", "Physics"),
    ("BIO", "Biology"),
    ("EC", "Economics"),
    ("HIS", "History"),
    ("MA", "Mathematics"),
    ("CH", "Chemistry"),
)
RUNS = ("2024_T1", "2024_T2", "2025_T1", "2025_T2")
FIRST_NAMES = (
    "amina", "bruno", "chen", "dara", "elif", "farid", "grace", "hiro", "ines", "jonas", "kofi",
    "lena", "mateo", "nadia", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "vera",
    "wei", "ximena", "yusuf", "zoe",
)  # fmt: skip
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 edX/org.edx.mobile/5.2.0",
)
LANGUAGES = ("en-US,en;q=0.9", "fr-FR,fr;q=0.8,en;q=0.5", "es-ES,es;q=0.9", "de-DE,de;q=0.7")
# Open edX response types a problem's questions use, with a question and its answer choices.
QUESTIONS: tuple[tuple[str, str, str, str | list[str]], ...] = (
    ("multiplechoiceresponse", "multiplechoice", "Which planet is the largest?", "Jupiter"),
    ("choiceresponse", "checkboxgroup", "Select every prime number.", ["2", "3", "5"]),
    ("optionresponse", "optioninput", "What color is the open ocean on a sunny day?", "blue"),
    ("numericalresponse", "formulaequationinput", "How many sides has a hexagon?", "6"),
    ("stringresponse", "textline", "Name the capital of Kenya.", "Nairobi"),
    (
        "formularesponse",
        "formulaequationinput",
        "Write the area of a circle of radius r.",
        "pi*r^2",
    ),
    ("customresponse", "textline", "Enter a palindrome.", "level"),
)
EXAM_KINDS = ("timed", "practice", "proctored")


@dataclass(frozen=True, slots=True)
class Learner:
    user_id: int
    username: str
    agent: str
    ip: str
    language: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str  # `<problem hex>_<n>_1`, as the LMS names a problem's inputs
    response_type: str
    input_type: str
    text: str
    answer: str | list[str]


@dataclass(frozen=True, slots=True)
class Block:
    """A component: a video, a problem or an HTML page, inside a unit of a subsection."""

    kind: str
    hex: str
    usage_key: str
    name: str
    duration: int = 0  # videos: seconds
    youtube: str = ""  # videos: the YouTube code, or "" for an HTML5 source
    questions: tuple[Question, ...] = ()  # problems
    hints: int = 0  # problems: demand hints available


@dataclass(slots=True)
class Subsection:
    hex: str
    usage_key: str
    name: str
    chapter_hex: str
    units: list[list[Block]] = field(default_factory=list)
    exam: str | None = None  # special exam kind, when the subsection is one


@dataclass(slots=True)
class Course:
    course_id: str
    org: str
    name: str
    subsections: list[Subsection] = field(default_factory=list)
    threads: list[tuple[str, str, int]] = field(default_factory=list)  # (id, title, author id)

    def usage_key(self, kind: str, block: str) -> str:
        return f"block-v1:{self.course_id.removeprefix('course-v1:')}+type@{kind}+block@{block}"

    def blocks(self, kind: str) -> list[tuple[Subsection, int, Block]]:
        return [
            (sub, position, block)
            for sub in self.subsections
            for position, unit in enumerate(sub.units, start=1)
            for block in unit
            if block.kind == kind
        ]


class World:
    """`users` learners and `courses` courses, built from `seed`."""

    def __init__(self, users: int, courses: int, seed: int) -> None:
        if users < 1 or courses < 1:
            raise ValueError("a world needs at least one learner and one course")
        self.seed = seed
        rng = random.Random(f"world:{seed}")
        self.learners = [self._learner(rng, i) for i in range(users)]
        self.courses = [self._course(rng, i) for i in range(courses)]
        self.videos = {c.course_id: c.blocks("video") for c in self.courses}
        self.problems = {c.course_id: c.blocks("problem") for c in self.courses}

    @staticmethod
    def _learner(rng: random.Random, index: int) -> Learner:
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]}{index:05d}"
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        return Learner(100 + index, name, rng.choice(AGENTS), ip, rng.choice(LANGUAGES))

    def _course(self, rng: random.Random, index: int) -> Course:
        org = ORGS[index % len(ORGS)]
        code, subject = SUBJECTS[(index // len(ORGS)) % len(SUBJECTS)]
        number = f"{code}{101 + index}"
        run = RUNS[index % len(RUNS)]
        course = Course(f"course-v1:{org}+{number}+{run}", org, f"{subject} {101 + index}")
        salt = f"{self.seed}:{course.course_id}"
        for chapter in range(rng.randint(3, 5)):
            chapter_hex = hex_id(salt, "chapter", chapter)
            for position in range(rng.randint(2, 3)):
                sub_hex = hex_id(salt, "sequential", chapter, position)
                sub = Subsection(
                    sub_hex,
                    course.usage_key("sequential", sub_hex),
                    f"Lesson {chapter + 1}.{position + 1}",
                    chapter_hex,
                )
                for unit in range(rng.randint(2, 6)):
                    sub.units.append(
                        [self._block(rng, course, salt, sub_hex, unit, n) for n in range(2)]
                    )
                course.subsections.append(sub)
        exam = course.subsections[-1]
        exam.exam = EXAM_KINDS[index % len(EXAM_KINDS)]
        exam.name = f"Final exam ({exam.exam})"
        return course

    @staticmethod
    def _block(rng: random.Random, course: Course, salt: str, sub: str, unit: int, n: int) -> Block:
        kind = rng.choices(("video", "problem", "html"), (4, 4, 2))[0]
        block = hex_id(salt, kind, sub, unit, n)
        usage_key = course.usage_key(kind, block)
        if kind == "video":
            youtube = "" if rng.random() < 0.4 else hex_id(block)[:11]
            name = f"Video {unit + 1}.{n + 1}"
            return Block(kind, block, usage_key, name, rng.randint(60, 1200), youtube)
        if kind == "problem":
            count = rng.choices((1, 2, 3), (6, 2, 1))[0]
            picked = rng.sample(QUESTIONS, count)
            questions = tuple(
                Question(f"{block}_{i + 2}_1", rtype, itype, text, answer)
                for i, (rtype, itype, text, answer) in enumerate(picked)
            )
            name = f"Problem {unit + 1}.{n + 1}"
            return Block(kind, block, usage_key, name, questions=questions, hints=rng.randint(0, 3))
        return Block(kind, block, usage_key, f"Reading {unit + 1}.{n + 1}")

    def course_names(self) -> list[tuple[str, str]]:
        """(course_id, display name) for `event-router courses import`."""
        return [(c.course_id, c.name) for c in self.courses]
