"""Before any load: every configuration starts and serves the page, and
the static file's answers through our servers and nginx are compared."""

import re
import time
import urllib.request

from common import free_port, log
from nginx import Nginx
from servers import worker_pids
from static_files import MEDIA_PATH, check_media_headers, compare_answers, headers_of
from testbed import GREETINGS

HASHED_CSS = re.compile(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"')


def check_configurations(bed, configurations, configs, with_static):
    """Start each configuration once, record its workers and start-up time
    in `configs` (the results' section); returns the path of the page's
    stylesheet and, by name, the headers of its answers for it and for the
    upload."""
    log(f"preflight: {len(configurations)} configurations, {bed.installation.workers} workers for ours")
    css_path, answers, media_answers = None, {}, {}
    for configuration in configurations:
        name = configuration.name
        with bed.serving(configuration) as (server, base):
            stylesheet = page_stylesheet(name, base)  # every page is checked
            css_path = css_path or stylesheet
            time.sleep(1.0)  # gunicorn boots its workers after answering
            pids, _, _ = worker_pids(server, configuration.server)
            configs[name].update(workers=len(pids), first_answer_s=round(server.ready_after, 2))
            if with_static and configuration.serves_static:
                answers[name] = headers_of(base + css_path)
                media_answers[name] = headers_of(base + MEDIA_PATH, ())
            log(f"  {name:<15} {len(pids)} workers, first answer after {server.ready_after:.2f} s")
    return css_path, answers, media_answers


def page_stylesheet(name, base):
    """The hashed stylesheet the page links to; the page must list the greetings."""
    with urllib.request.urlopen(base + "/", timeout=5) as response:
        html = response.read().decode()
    if html.count("Greeting ") < GREETINGS:
        raise RuntimeError(f"{name}: the page does not list the greetings")
    found = HASHED_CSS.search(html)
    if not found:
        raise RuntimeError(f"{name}: no hashed CSS file in the page")
    return found.group(1)


def compare_static(bed, nginx_path, css_path, answers, media_answers):
    """nginx configured after our first answers (None without nginx or
    without static runs); the problems found, and the results' "static" and
    "media" sections."""
    reference = next(iter(answers.values()), None)
    media_reference = next(iter(media_answers.values()), None)
    nginx = (
        Nginx(nginx_path, bed.work, bed.static_root, reference, bed.media_root, media_reference)
        if nginx_path and reference
        else None
    )
    if nginx:
        with nginx.serving(free_port(), bed.artifact_env, css_path) as (_, base):
            answers["nginx"] = headers_of(base + css_path)
            if media_reference:
                media_answers["nginx"] = headers_of(base + MEDIA_PATH, ())
    problems, section = compare_answers(css_path, answers)
    media_problems, media_section = compare_answers(MEDIA_PATH, media_answers, check_media_headers)
    for problem in problems + media_problems:
        log(f"  PROBLEM: {problem}")
    return nginx, problems + media_problems, section, media_section
