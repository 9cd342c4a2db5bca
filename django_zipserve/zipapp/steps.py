"""How the build runs its steps: each printed with its duration, a failure
reported in one message that names the step (and the command that failed)."""

import subprocess
import sys
import time

from ..errors import ZipserveError

PREREQUISITES = "check prerequisites"


class BuildError(ZipserveError):
    """A build step failed; the message names the step."""

    def __init__(self, step, message):
        self.step = step
        self.detail = message
        super().__init__(f"{step}: {message}")

    def report(self):
        return f"build failed at step {self}"


class StepFailed(Exception):
    """Raised inside a step: becomes a BuildError naming that step."""


class Steps:
    """Prints each step and how long it took; a failure names its step."""

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def run(self, title, function, *args):
        self.say(f"==> {title} ...")
        begun = time.monotonic()
        try:
            result = function(*args)
        except BuildError:
            raise
        except StepFailed as exc:
            raise BuildError(title, str(exc)) from None
        except subprocess.CalledProcessError as exc:
            raise BuildError(
                title, f"command failed with status {exc.returncode}: {shown(exc.cmd)}\n{tail(exc.stderr)}"
            ) from None
        except OSError as exc:
            raise BuildError(title, str(exc)) from None
        self.say(f"    done in {time.monotonic() - begun:.1f} s")
        return result

    def say(self, line):
        """A line of progress; nothing when quiet."""
        if not self.quiet:
            print(line, file=self.stream, flush=True)

    def warn(self, line):
        """A warning: printed even when quiet (on standard error)."""
        print(f"warning: {line}", file=self.stream, flush=True)

    def total(self):
        return time.monotonic() - self.started


def shown(command):
    return " ".join(str(part) for part in command) if isinstance(command, (list, tuple)) else str(command)


def tail(text, lines=25):
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def run_command(command, quiet, env=None, cwd=None):
    """Run a build tool; keep its output for the error message when quiet."""
    return subprocess.run(
        [str(part) for part in command],
        check=True,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )
