"""The configuration error report: its wording, its exit status, and the
translation of pydantic's errors into words that never quote the input."""

import io
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from django_zipserve.conf.errors import (
    EXIT_STATUS,
    ConfigError,
    Problem,
    describe_expectation,
)


class TestProblem:
    def test_with_key_and_source(self):
        problem = Problem("WORKERS", "environment variable WORKERS", "expected a whole number")
        assert str(problem) == "WORKERS (environment variable WORKERS): expected a whole number"

    def test_whole_file_problem(self):
        problem = Problem("", "file /etc/site.yaml", "file not found")
        assert str(problem) == "configuration (file /etc/site.yaml): file not found"

    def test_without_source(self):
        assert str(Problem("DEBUG", "", "no")) == "DEBUG: no"

    def test_is_immutable_and_comparable(self):
        first = Problem("A", "b", "c")
        assert first == Problem("A", "b", "c")
        with pytest.raises(AttributeError):
            first.key = "other"


class TestConfigError:
    def test_single_problem_report(self):
        error = ConfigError(
            [Problem("WORKERS", "environment variable WORKERS", "expected a whole number")], name="shop"
        )
        assert error.report() == (
            "shop: invalid configuration (1 problem):\n"
            "  - WORKERS (environment variable WORKERS): expected a whole number"
        )
        assert str(error) == error.report()

    def test_several_problems_in_order(self):
        problems = [Problem("A", "x", "one"), Problem("B", "y", "two"), Problem("", "file f", "three")]
        error = ConfigError(problems)
        lines = error.report().splitlines()
        assert lines[0] == "django: invalid configuration (3 problems):"
        assert lines[1:] == ["  - A (x): one", "  - B (y): two", "  - configuration (file f): three"]
        assert error.problems == problems
        assert error.name == "django"

    def test_accepts_any_iterable(self):
        error = ConfigError(Problem(key, "", "bad") for key in ("A", "B"))
        assert [problem.key for problem in error.problems] == ["A", "B"]

    def test_exit_prints_report_and_exits_2(self):
        stream = io.StringIO()
        error = ConfigError([Problem("X", "here", "wrong")], name="shop")
        with pytest.raises(SystemExit) as info:
            error.exit(stream)
        assert info.value.code == EXIT_STATUS == 2
        assert stream.getvalue() == error.report() + "\n"

    def test_exit_defaults_to_stderr(self, capsys):
        with pytest.raises(SystemExit):
            ConfigError([Problem("X", "here", "wrong")]).exit()
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "X (here): wrong" in captured.err
        assert "Traceback" not in captured.err


HIDDEN = "hidden-input-93ab"


class Model(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    count: int = Field(default=1, ge=1, le=10)
    ratio: float = 0.5
    small: int = Field(default=5, gt=0, lt=10)
    flag: bool = False
    level: Literal["LOW", "HIGH"] = "LOW"
    names: list[str] = []
    text: str = ""
    mapping: dict = {}
    checked: str = ""
    required: int

    @field_validator("checked")
    @classmethod
    def no_spaces(cls, value):
        if " " in value:
            raise ValueError("Spaces are not allowed")
        return value


def first_error(**values):
    values.setdefault("required", 1)
    with pytest.raises(ValidationError) as info:
        Model.model_validate(values)
    return info.value.errors(include_input=False, include_url=False)[0]


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"count": HIDDEN}, "expected a whole number"),
        ({"count": 1.5}, "expected a whole number"),
        ({"count": [HIDDEN]}, "expected a whole number"),
        ({"ratio": HIDDEN}, "expected a number"),
        ({"flag": HIDDEN}, "expected true or false"),
        ({"flag": [HIDDEN]}, "expected true or false"),
        ({"text": [HIDDEN]}, "expected text"),
        ({"names": HIDDEN}, "expected a list (in the environment: a JSON list or comma-separated values)"),
        ({"mapping": [HIDDEN]}, "expected a mapping"),
        ({"count": 0}, "expected a value at least 1"),
        ({"count": 11}, "expected a value at most 10"),
        ({"small": 0}, "expected a value greater than 0"),
        ({"small": 10}, "expected a value less than 10"),
        ({"level": HIDDEN}, "expected 'LOW' or 'HIGH'"),
        ({"checked": f"a {HIDDEN}"}, "spaces are not allowed"),
    ],
)
def test_describe_expectation(values, expected):
    error = first_error(**values)
    assert describe_expectation(error) == expected
    assert HIDDEN not in describe_expectation(error)


def test_describe_missing():
    with pytest.raises(ValidationError) as info:
        Model.model_validate({})
    error = info.value.errors(include_input=False)[0]
    assert describe_expectation(error) == "required, but not set"


def test_describe_unknown_kind_uses_message_without_prefix():
    error = {"type": "custom_kind", "msg": "Assertion failed, Must be Odd", "ctx": None}
    assert describe_expectation(error) == "must be Odd"
    assert describe_expectation({}) == "invalid value"
