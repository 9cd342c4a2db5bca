"""Before any load: every configuration starts and serves the page, our
static front is on or off as declared, and the answers for the static file
and the upload through our servers and nginx are compared."""

import re
import time
import urllib.request

from common import free_port, log
from configurations import MEDIA, header_reference
from nginx import Nginx
from servers import worker_pids
from static_files import MEDIA_PATH, compare_media_answers, compare_static_answers, headers_of, static_answers
from testbed import GREETINGS

HASHED_CSS = re.compile(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"')
# What our server commands write when the static front stands aside
# (django_zipserve.servers.base); its reason follows.
FRONT_ASIDE = re.compile(r"static files answered through Django: (.*)")


def check_configurations(bed, configurations, configs, with_static):
    """Start each configuration once, record its workers, start-up time and
    whether the static front is on in `configs` (the results' section);
    returns the path of the page's stylesheet, by name the headers of its
    answers for it (by request) and for the upload, and the problems."""
    log(f"preflight: {len(configurations)} configurations, {bed.installation.workers} workers for ours")
    css_path, answers, media_answers, problems = None, {}, {}, []
    for configuration in configurations:
        name = configuration.name
        with bed.serving(configuration) as (server, base):
            stylesheet = page_stylesheet(name, base)  # every page is checked
            css_path = css_path or stylesheet
            time.sleep(1.0)  # gunicorn boots its workers after answering
            pids, _, _ = worker_pids(server, configuration.server)
            configs[name].update(workers=len(pids), first_answer_s=round(server.ready_after, 2))
            if configuration.artifact:
                problems += check_front(configuration, server.log_text(), configs[name])
            if with_static and configuration.serves_static:
                answers[name] = static_answers(base + css_path)
            if with_static and MEDIA in configuration.loads:
                media_answers[name] = headers_of(base + MEDIA_PATH, ())
            log(f"  {name:<20} {len(pids)} workers, first answer after {server.ready_after:.2f} s")
    return css_path, answers, media_answers, problems


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


def check_front(configuration, server_log, config):
    """Problems when the artifact's static front is not as declared (its
    server's log says when it stands aside, and why); records it in
    `config`. A front standing aside by mistake would make the ``ours-*``
    and ``django-*`` rows measure the same thing."""
    aside = FRONT_ASIDE.search(server_log)
    config["static_front_reason"] = aside.group(1).strip() if aside else None
    if configuration.static_front and aside:
        return [f"{configuration.name}: the static front stands aside: {aside.group(1).strip()}"]
    if not configuration.static_front and not aside:
        return [f"{configuration.name}: declared without the static front, but its server did not say so"]
    return []


def compare_static(bed, nginx_path, css_path, configurations, answers, media_answers):
    """nginx configured after the reference's answers (None without nginx
    or without static runs); the problems found, and the results' "static"
    and "media" sections."""
    reference_name = header_reference(configurations)
    reference = (answers.get(reference_name) or {}).get("gzip")
    media_reference = next(iter(media_answers.values()), None)
    nginx = (
        Nginx(nginx_path, bed.work, bed.static_root, reference, bed.media_root, media_reference)
        if nginx_path and reference
        else None
    )
    nginx_answer = None
    if nginx:
        with nginx.serving(free_port(), bed.artifact_env, css_path) as (_, base):
            nginx_answer = headers_of(base + css_path)
            if media_reference:
                media_answers["nginx"] = headers_of(base + MEDIA_PATH, ())
    problems, section = compare_static_answers(css_path, answers, reference_name, nginx_answer)
    media_problems, media_section = compare_media_answers(MEDIA_PATH, media_answers)
    if answers:
        log(f"  static file: {len(answers) - 1} servers' answers checked against {reference_name}'s")
    if answers and next(c for c in configurations if c.name == reference_name).static_front:
        log(f"  note: no configuration without the static front runs; the reference is {reference_name}")
    for problem in problems + media_problems:
        log(f"  PROBLEM: {problem}")
    return nginx, problems + media_problems, section, media_section
